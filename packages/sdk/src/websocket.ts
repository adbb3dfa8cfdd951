/**
 * The WebSocket the RPC client uses: the platform's own (browsers, Deno, Node ≥ 22) when
 * there is one, else the `ws` package, loaded only then so a browser bundle never needs it.
 */
import { RPC_MESSAGE_BYTES_MAX } from "./limits.ts";

/** The part of the WHATWG WebSocket interface the client needs; `ws` implements it too. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** Opens a socket to `url`; the client attaches its handlers right after. */
export type WebSocketFactory = (url: string) => WebSocketLike;

type WebSocketCtor = new (url: string) => WebSocketLike;

export async function defaultWebSocketFactory(): Promise<WebSocketFactory> {
  const platform = (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
  if (typeof platform === "function") return (url) => new platform(url);
  const { WebSocket } = await import("ws");
  return (url) => new WebSocket(url, { maxPayload: RPC_MESSAGE_BYTES_MAX }) as unknown as WebSocketLike;
}
