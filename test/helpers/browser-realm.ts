/**
 * A stand-in for a browser page, for testing the SDK's browser bundle without a browser
 * (CI has none): the bundle is built by esbuild for the `browser` platform, so any import of a
 * Node built-in fails the build, and it runs in a fresh V8 realm (node:vm) that has only what
 * a page has. No `process`, `Buffer`, `require` or `global`; the Web APIs the SDK uses
 * (WebSocket, fetch, WebCrypto's getRandomValues, TextEncoder/TextDecoder, timers) are
 * handed in, and fetch enforces CORS as a browser does.
 */
import { build } from "esbuild";
import { webcrypto } from "node:crypto";
import { createContext, runInContext, type Context } from "node:vm";
import { WebSocket as NodeWebSocket } from "ws";

/**
 * Bundles `source` (TypeScript that imports workspace packages) as an ES module for browsers,
 * as a dApp's bundler would, then turns it into a script that sets `globalThis[globalName]` to
 * a promise of the module's exports. (The module awaits at top level while the hash functions'
 * WebAssembly loads; node:vm runs modules only behind an experimental flag, so the module body
 * runs inside an async function instead.)
 */
export async function bundleForBrowser(source: string, globalName: string): Promise<string> {
  const out = await build({
    stdin: { contents: source, loader: "ts", resolveDir: process.cwd(), sourcefile: "browser-entry.ts" },
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    write: false,
    legalComments: "none",
    logLevel: "silent",
  });
  const text = out.outputFiles[0].text;
  const exports = /\nexport \{([^}]*)\};\s*$/.exec(text);
  if (!exports) throw new Error("the browser bundle does not end with one export list");
  const entries = exports[1]
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const [local, exported = local] = s.split(/\s+as\s+/);
      return `${JSON.stringify(exported)}: ${local}`;
    });
  const body = text.slice(0, exports.index);
  return `globalThis[${JSON.stringify(globalName)}] = (async () => {\n"use strict";\n${body}\nreturn { ${entries.join(", ")} };\n})();\n`;
}

/** The origin the page is served from; workers and nodes are elsewhere, so every request is cross-origin. */
export const PAGE_ORIGIN = "https://dapp.example";

/**
 * fetch as a browser page does it: cross-origin requests carry Origin; a request that is not
 * "simple" (a binary body, custom headers) is preceded by a preflight, and an answer without a
 * matching Access-Control-Allow-Origin is a network error to the page.
 */
function corsFetch(input: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const method = (init.method ?? "GET").toUpperCase();
  const contentType = headers.get("content-type");
  const simpleType = contentType === null || ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"].includes(contentType.split(";")[0].trim());
  const custom = [...headers.keys()].filter((h) => !["accept", "accept-language", "content-language", "content-type"].includes(h));
  const needsPreflight = !["GET", "HEAD", "POST"].includes(method) || !simpleType || custom.length > 0;
  const allowed = (res: Response) => {
    const grant = res.headers.get("access-control-allow-origin");
    return grant === "*" || grant === PAGE_ORIGIN;
  };
  const blocked = (why: string) => new TypeError(`Failed to fetch (CORS: ${why})`);
  return (async () => {
    if (needsPreflight) {
      const requested = [...headers.keys()].filter((h) => h !== "accept").join(", ");
      const pre = await fetch(input, {
        method: "OPTIONS",
        headers: { origin: PAGE_ORIGIN, "access-control-request-method": method, ...(requested ? { "access-control-request-headers": requested } : {}) },
        signal: init.signal,
      });
      await pre.arrayBuffer();
      if (!pre.ok || !allowed(pre)) throw blocked(`preflight for ${input} answered ${pre.status} without a grant for ${PAGE_ORIGIN}`);
      const methods = (pre.headers.get("access-control-allow-methods") ?? "").toUpperCase();
      if (!methods.split(/\s*,\s*/).includes(method)) throw blocked(`preflight for ${input} does not allow ${method}`);
      const allowedHeaders = (pre.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(/\s*,\s*/);
      for (const h of requested ? requested.split(", ") : []) if (!allowedHeaders.includes(h)) throw blocked(`preflight for ${input} does not allow header ${h}`);
    }
    headers.set("origin", PAGE_ORIGIN);
    const res = await fetch(input, { ...init, headers });
    if (!allowed(res)) throw blocked(`${input} answered without a grant for ${PAGE_ORIGIN}`);
    return res;
  })();
}

/** A WHATWG WebSocket over `ws` (Node 20 has no global one): text frames arrive as strings, as in browsers. */
class PageWebSocket extends NodeWebSocket {
  constructor(url: string) {
    super(url, { headers: { origin: PAGE_ORIGIN } });
  }
}

/**
 * TextEncoder/TextDecoder from the page's own realm: the outer ones would hand back Uint8Arrays
 * of the Node realm, which fail `instanceof Uint8Array` inside, as they never would in a browser.
 */
const REALM_SHIMS = `
  const outerEncode = __outer.encode, outerDecode = __outer.decode;
  globalThis.TextEncoder = class TextEncoder { get encoding() { return "utf-8"; } encode(s = "") { return new Uint8Array(outerEncode(String(s))); } };
  globalThis.TextDecoder = class TextDecoder {
    constructor(label = "utf-8", opts = {}) { this.fatal = !!opts.fatal; }
    decode(b) { return b === undefined ? "" : outerDecode(b, this.fatal); }
  };
  delete globalThis.__outer;
`;

export interface PageRealm {
  context: Context;
  /** Runs a script in the page and awaits what it returns. */
  run<T>(script: string): Promise<T>;
}

/** A fresh page realm with `scripts` loaded in order. */
export function createPageRealm(scripts: string[]): PageRealm {
  const context = createContext({
    __outer: {
      encode: (s: string) => new TextEncoder().encode(s),
      decode: (b: Uint8Array | ArrayBuffer, fatal: boolean) => new TextDecoder("utf-8", { fatal }).decode(b),
    },
    WebSocket: PageWebSocket,
    fetch: corsFetch,
    Headers,
    Response,
    AbortController,
    AbortSignal,
    crypto: { getRandomValues: <T extends ArrayBufferView>(a: T) => webcrypto.getRandomValues(a as never) as T, subtle: webcrypto.subtle },
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
    queueMicrotask,
    URL,
    console,
  });
  runInContext(REALM_SHIMS, context);
  for (const s of scripts) runInContext(s, context);
  return { context, run: <T>(script: string) => runInContext(script, context) as Promise<T> };
}
