import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Extra trusted CA certificates (PEM). */
  ca?: string | undefined;
  timeoutMs: number;
  /** Name resolution (the webhook SSRF guard checks every address here, so a DNS answer cannot slip past it). */
  lookup?: LookupFunction;
  /** Cap on the response body kept, bytes (default 64 KiB). */
  maxBody?: number;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One HTTP(S) request with a hard timeout, a bounded response body, optional extra CA and a custom
 * resolver. Node's fetch cannot take a CA or a resolver without a dependency on undici's internals.
 */
export function httpRequest(url: string, o: HttpRequestOptions): Promise<HttpResponse> {
  const u = new URL(url);
  const mod = u.protocol === "https:" ? https : http;
  const max = o.maxBody ?? 64 * 1024;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.body !== undefined) headers["content-length"] = String(Buffer.byteLength(o.body));
    const req = mod.request(
      u,
      {
        method: o.method ?? "GET",
        headers,
        timeout: o.timeoutMs,
        ...(o.ca ? { ca: o.ca } : {}),
        ...(o.lookup ? { lookup: o.lookup } : {}),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          if (size < max) chunks.push(c.subarray(0, max - size));
          size += c.length;
        });
        res.on("end", () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") });
        });
        res.on("error", (err) => {
          clearTimeout(timer);
          reject(err);
        });
      },
    );
    // `timeout` above is per idle socket; this bounds the whole exchange.
    const timer = setTimeout(() => req.destroy(new Error(`timed out after ${o.timeoutMs} ms`)), o.timeoutMs);
    req.on("timeout", () => req.destroy(new Error(`timed out after ${o.timeoutMs} ms`)));
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}
