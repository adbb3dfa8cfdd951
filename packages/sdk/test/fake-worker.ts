/** A fake pRuntime HTTP API for SDK tests: `POST /query`, `POST /queries` and command results, with the answers a test chooses. */
import { createServer, type Server } from "node:http";
import { once } from "node:events";
import { toHex } from "@phala-ts/primitives";
import { QueryBatchRequest } from "@phala-ts/runtime/phala";
import { decodeExact } from "@phala-ts/runtime/types";

type Refusal = { status: number; code: string; message: string };

export class FakeWorker {
  /** Served command results by `<contract hex>/<command hex>`. */
  readonly results = new Map<string, Uint8Array>();
  /** Answers a query's SCALE body with SCALE bytes, or an HTTP error. */
  onQuery: (body: Uint8Array) => Uint8Array | Refusal = () => ({ status: 500, code: "NO_HANDLER", message: "no query handler" });
  /** Answers the QueryRequests of a `POST /queries` batch; undefined serves no such route (404), as a pRuntime older than batches. */
  onQueryBatch: ((requests: Uint8Array[]) => Uint8Array | Refusal) | undefined;
  resultRequests = 0;
  queries = 0;
  /** `POST /queries` requests, and the queries they carried. */
  batches: number[] = [];
  /** Answer results as JSON `{ result: hex }` instead of binary. */
  jsonResults = false;
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<FakeWorker> {
    const server = createServer();
    const w = new FakeWorker(server);
    server.on("request", (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = new Uint8Array(Buffer.concat(chunks));
        const error = (status: number, code: string, message: string) => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: { code, message } }));
        };
        const m = /^\/contracts\/(0x[0-9a-f]{64})\/results\/(0x[0-9a-f]{64})$/.exec(req.url ?? "");
        if (req.method === "GET" && m) {
          w.resultRequests++;
          const r = w.results.get(`${m[1]}/${m[2]}`);
          if (!r) return error(404, "NOT_FOUND", "no result for this command yet");
          if (w.jsonResults) {
            res.writeHead(200, { "content-type": "application/json" });
            return res.end(JSON.stringify({ result: toHex(r) }));
          }
          res.writeHead(200, { "content-type": "application/octet-stream" });
          return res.end(r);
        }
        if (req.method === "POST" && req.url === "/query") {
          w.queries++;
          const a = w.onQuery(body);
          if (a instanceof Uint8Array) {
            res.writeHead(200, { "content-type": "application/octet-stream" });
            return res.end(a);
          }
          return error(a.status, a.code, a.message);
        }
        if (req.method === "POST" && req.url === "/queries" && w.onQueryBatch) {
          const requests = decodeExact(QueryBatchRequest, body);
          w.batches.push(requests.length);
          const a = w.onQueryBatch(requests);
          if (a instanceof Uint8Array) {
            res.writeHead(200, { "content-type": "application/octet-stream" });
            return res.end(a);
          }
          return error(a.status, a.code, a.message);
        }
        error(404, "NOT_FOUND", `no route ${req.method} ${req.url}`);
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return w;
  }

  get url(): string {
    const a = this.#server.address();
    return `http://127.0.0.1:${typeof a === "string" ? a : a!.port}`;
  }

  serve(contract: Uint8Array, command: Uint8Array, result: Uint8Array): void {
    this.results.set(`${toHex(contract)}/${toHex(command)}`, result);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}
