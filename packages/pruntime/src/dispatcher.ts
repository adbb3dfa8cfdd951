/**
 * Routes ingress messages to their handlers by topic. Handlers are registered once, when
 * pRuntime is wired, and must not throw for bad payloads: a message the chain carried is
 * processed exactly once, so a handler logs what it cannot use and moves on. A handler that
 * leaves work running (a contract command on the VM's thread) returns its promise, and the
 * caller awaits it before dispatching the next message.
 */
import assert from "node:assert/strict";
import type { MessageValue } from "@phala-ts/runtime/phala";

/** The proven block a message arrived in. */
export interface BlockInfo {
  readonly number: number;
  /** `Timestamp.Now` of the block (unix ms), proven with its messages. */
  readonly timestampMs: bigint;
}

export type MessageHandler = (message: MessageValue, block: BlockInfo) => void | Promise<void>;

interface Route {
  topic: Uint8Array;
  handler: MessageHandler;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class Dispatcher {
  /**
   * Routes by topic length, then bytes: finding a handler allocates nothing, which matters
   * at thousands of messages per second. Topics per length are few.
   */
  readonly #byLength = new Map<number, Route[]>();
  #unrouted = 0;

  on(topic: string | Uint8Array, handler: MessageHandler): void {
    const bytes = typeof topic === "string" ? new TextEncoder().encode(topic) : topic.slice();
    const routes = this.#byLength.get(bytes.length) ?? [];
    assert.ok(!routes.some((r) => sameBytes(r.topic, bytes)), `a handler for topic ${Buffer.from(bytes).toString("utf8")} is already registered`);
    routes.push({ topic: bytes, handler });
    this.#byLength.set(bytes.length, routes);
  }

  /**
   * Hands `message` to its topic's handler; false if no handler wants the topic, the
   * handler's promise if it left work running (await it before the next message), else true.
   */
  dispatch(message: MessageValue, block: BlockInfo): boolean | Promise<void> {
    const routes = this.#byLength.get(message.destination.length);
    if (routes !== undefined) {
      for (const r of routes) {
        if (sameBytes(r.topic, message.destination)) {
          return r.handler(message, block) ?? true;
        }
      }
    }
    this.#unrouted++;
    return false;
  }

  /** Messages on topics nobody handles. */
  get unrouted(): number {
    return this.#unrouted;
  }
}
