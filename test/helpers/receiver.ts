import http from "node:http";
import type { AddressInfo } from "node:net";

/** One request an app backend received. */
export interface Received {
  at: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A stand-in for an app's backend on loopback: records every request and answers as the test says. */
export interface Receiver {
  url: string;
  received: Received[];
  /** How to answer the next request (default 204, at once). */
  respond: (r: Received) => { status: number; body?: unknown; delayMs?: number };
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const state: Receiver = { url: "", received: [], respond: () => ({ status: 204 }), close: async () => {} };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r: Received = { at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      state.received.push(r);
      const a = state.respond(r);
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(a.status, a.body === undefined ? {} : { "content-type": "application/json" });
        res.end(a.body === undefined ? undefined : JSON.stringify(a.body));
      };
      if (a.delayMs) setTimeout(send, a.delayMs);
      else send();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  state.close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}
