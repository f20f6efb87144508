import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./net.js";

/** The part of s3rver (a real S3 protocol server on local disk; it ships no types) used here. */
interface S3rverInstance {
  run(): Promise<unknown>;
  close(): Promise<void>;
}
const S3rver = createRequire(import.meta.url)("s3rver") as new (o: Record<string, unknown>) => S3rverInstance;

/** s3rver's built-in account. */
const ACCESS_KEY = "S3RVER";
const SECRET_KEY = "S3RVER";
const REGION = "us-east-1";

/** An S3-compatible server for tests, on ports from the OS. */
export interface TestS3 {
  /** Where clients and the SDK talk to it (path-style). */
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Engine environment selecting this bucket (`UTD_S3_*`), objects under `prefix`. */
  env(prefix?: string): Record<string, string>;
  stop(): Promise<void>;
}

/**
 * s3rver (in-process, on disk) behind a proxy that checks presigned URLs' SigV4 signatures the way S3
 * does. s3rver itself accepts any SigV4 signature ("unimplemented"), so without the proxy a URL pointed
 * at another key, or used with another content type, would pass here and fail on real S3. Requests the
 * SDK signs in a header (HEAD, DELETE…) pass through unchecked.
 */
export async function startS3(bucket = "utd-files"): Promise<TestS3> {
  const dir = mkdtempSync(join(tmpdir(), "utd-s3-"));
  const inner = await freePort();
  const s3 = new S3rver({
    port: inner,
    address: "127.0.0.1",
    directory: dir,
    silent: true,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  await s3.run();
  const proxy: Server = createServer((req, res) => {
    const refusal = checkPresigned(req);
    if (refusal) {
      req.resume();
      res.writeHead(403, { "content-type": "application/xml" });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${refusal.code}</Code><Message>${refusal.message}</Message></Error>`);
      return;
    }
    const up = httpRequest({ host: "127.0.0.1", port: inner, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on("error", (err) => {
      res.writeHead(502);
      res.end(String(err));
    });
    req.pipe(up);
  });
  const port = await new Promise<number>((ok) =>
    proxy.listen(0, "127.0.0.1", () => {
      const a = proxy.address();
      ok(typeof a === "object" && a ? a.port : 0);
    }),
  );
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    region: REGION,
    accessKeyId: ACCESS_KEY,
    secretAccessKey: SECRET_KEY,
    env: (prefix = "test/") => ({
      UTD_S3_BUCKET: bucket,
      UTD_S3_ENDPOINT: endpoint,
      UTD_S3_REGION: REGION,
      UTD_S3_ACCESS_KEY_ID: ACCESS_KEY,
      UTD_S3_SECRET_ACCESS_KEY: SECRET_KEY,
      UTD_S3_FORCE_PATH_STYLE: "true",
      UTD_S3_PREFIX: prefix,
    }),
    async stop() {
      await new Promise<void>((r) => proxy.close(() => r()));
      proxy.closeAllConnections();
      await s3.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

/** SigV4 query-string authentication, checked independently of the SDK that signed it. */
function checkPresigned(req: IncomingMessage): { code: string; message: string } | undefined {
  const url = new URL(req.url ?? "/", "http://x");
  const q = url.searchParams;
  if (q.get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256") return undefined;
  const given = q.get("X-Amz-Signature") ?? "";
  const amzDate = q.get("X-Amz-Date") ?? "";
  const credential = q.get("X-Amz-Credential") ?? "";
  const signed = (q.get("X-Amz-SignedHeaders") ?? "").split(";").filter(Boolean);
  const [, date, region, service] = credential.split("/");
  if (!date || !region || !service) return { code: "AuthorizationQueryParametersError", message: "malformed credential" };
  const query = [...q.entries()]
    .filter(([k]) => k !== "X-Amz-Signature")
    .map(([k, v]) => [enc(k), enc(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const headers = signed
    .map(
      (h) =>
        `${h}:${String(req.headers[h] ?? "")
          .trim()
          .replace(/\s+/g, " ")}\n`,
    )
    .join("");
  const canonical = [req.method, url.pathname, query, headers, signed.join(";"), "UNSIGNED-PAYLOAD"].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, createHash("sha256").update(canonical).digest("hex")].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${SECRET_KEY}`, date), region), service), "aws4_request");
  const want = Buffer.from(hmac(key, toSign).toString("hex"));
  const got = Buffer.from(given);
  if (want.length !== got.length || !timingSafeEqual(want, got)) {
    return { code: "SignatureDoesNotMatch", message: "The request signature we calculated does not match the signature you provided." };
  }
  return undefined;
}
