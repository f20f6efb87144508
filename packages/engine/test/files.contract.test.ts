import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify from "fastify";
import { afterAll, beforeAll, expect, test } from "vitest";
import { backends, describeBackends, type Impl } from "../../../test/helpers/backends.js";
import { ManualClock } from "../../../test/helpers/inproc.js";
import { startS3 } from "../../../test/helpers/s3.js";
import { ApiError } from "../src/core/errors.js";
import { LocalFileStore } from "../src/files/local.js";
import type { FileStore } from "../src/files/port.js";
import { registerLocalFileRoutes } from "../src/files/routes.js";
import { S3FileStore } from "../src/files/s3.js";

/** One implementation, running: the port, the base URL its presigned URLs are made for, and a stop. */
interface Running {
  files: FileStore;
  baseUrl: string;
  stop(): Promise<void>;
}

const STORES: Record<Impl<"files">, (clock: ManualClock) => Promise<Running>> = {
  // Local disk, its signed URLs served by the engine's own routes on a real HTTP server.
  local: async (clock) => {
    const dir = mkdtempSync(join(tmpdir(), "utd-files-local-"));
    const files = new LocalFileStore(join(dir, "files"), randomBytes(32), clock);
    // A bare Fastify with the engine's error mapping (the full HTTP stack has suites of its own).
    const http = Fastify({ logger: false });
    http.setErrorHandler((err, _req, reply) => {
      if (err instanceof ApiError) return reply.code(err.status).send(err.toBody());
      return reply.code(500).send({ error: String(err) });
    });
    await registerLocalFileRoutes(http, files);
    const baseUrl = await http.listen({ port: 0, host: "127.0.0.1" });
    return {
      files,
      baseUrl,
      stop: async () => {
        await http.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  // The S3 protocol against s3rver behind a SigV4 check (helpers/s3.ts); URLs point at the bucket.
  s3: async (clock) => {
    const s3 = await startS3("contract");
    const files = await S3FileStore.create(
      {
        bucket: s3.bucket,
        region: s3.region,
        endpoint: s3.endpoint,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
        forcePathStyle: true,
        prefix: "p/",
      },
      clock,
    );
    return { files, baseUrl: "http://unused.invalid", stop: () => s3.stop() };
  },
};

let n = 0;
/** A fresh object key (`<app>/<file>`). */
const newKey = (app = "app_contract") => `${app}/f${++n}_${randomBytes(4).toString("hex")}`;
const MIN = 60_000;

/** The files port's contract, run over every implementation (test/helpers/backends.ts decides which run here). */
describeBackends(await backends("files"), "files contract", (impl) => {
  const clock = new ManualClock();
  let r: Running;
  beforeAll(async () => {
    r = await STORES[impl](clock);
  });
  afterAll(async () => {
    await r?.stop();
  });

  /** Presigns and performs an upload; resolves to the HTTP status. */
  async function upload(key: string, bytes: Uint8Array, contentType = "application/octet-stream", opts: { sendAs?: string } = {}) {
    const p = await r.files.presignUpload({ key, contentType, size: bytes.length, expiresAt: clock.now() + 5 * MIN }, r.baseUrl);
    expect(p.method).toBe("PUT");
    const res = await fetch(p.url, {
      method: p.method,
      headers: { ...p.headers, ...(opts.sendAs ? { "content-type": opts.sendAs } : {}) },
      body: bytes as Uint8Array<ArrayBuffer>,
    });
    await res.arrayBuffer();
    return res.status;
  }
  const download = (key: string, filename = "file.bin", contentType = "application/octet-stream") =>
    r.files.presignDownload({ key, filename, contentType, expiresAt: clock.now() + 5 * MIN }, r.baseUrl);

  test("nothing is stored under a new key", async () => {
    expect(await r.files.stat(newKey())).toBeUndefined();
  });

  test("a presigned PUT stores the exact bytes; stat reports the size; a presigned GET returns them as an attachment", async () => {
    const key = newKey();
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 31) % 256);
    expect(await upload(key, bytes, "image/png")).toBe(200);
    expect(await r.files.stat(key)).toEqual({ size: bytes.length });
    const res = await fetch(await download(key, "résumé 2026.png", "image/png"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename*=UTF-8''${encodeURIComponent("résumé 2026.png")}`);
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
  });

  test("an empty object round-trips", async () => {
    const key = newKey();
    expect(await upload(key, new Uint8Array(0))).toBe(200);
    expect(await r.files.stat(key)).toEqual({ size: 0 });
    expect((await (await fetch(await download(key))).arrayBuffer()).byteLength).toBe(0);
  });

  test("an upload URL is bound to its key: pointed at another key it is refused and stores nothing", async () => {
    const [key, other] = [newKey(), newKey()];
    const p = await r.files.presignUpload({ key, contentType: "text/plain", size: 2, expiresAt: clock.now() + MIN }, r.baseUrl);
    const forged = p.url.replace(key.split("/")[1] as string, other.split("/")[1] as string);
    expect(forged).not.toBe(p.url);
    const res = await fetch(forged, { method: "PUT", headers: p.headers, body: "hi" });
    expect(res.status).toBe(403);
    expect(await r.files.stat(other)).toBeUndefined();
    expect(await r.files.stat(key)).toBeUndefined();
  });

  test("an upload URL is bound to its content type: another type is refused and stores nothing", async () => {
    const key = newKey();
    expect(await upload(key, new Uint8Array([1, 2, 3]), "image/png", { sendAs: "text/html" })).toBeGreaterThanOrEqual(400);
    expect(await r.files.stat(key)).toBeUndefined();
  });

  test("an upload URL is bound to its size: more or fewer bytes are refused and store nothing", async () => {
    for (const sent of [4, 2]) {
      const key = newKey();
      const p = await r.files.presignUpload({ key, contentType: "text/plain", size: 3, expiresAt: clock.now() + MIN }, r.baseUrl);
      const res = await fetch(p.url, { method: "PUT", headers: p.headers, body: "x".repeat(sent) });
      expect(res.status, `${sent} bytes`).toBeGreaterThanOrEqual(400);
      expect(await r.files.stat(key)).toBeUndefined();
    }
  });

  test("a download URL is bound to its key", async () => {
    const [key, other] = [newKey(), newKey()];
    expect(await upload(key, new Uint8Array([1]))).toBe(200);
    expect(await upload(other, new Uint8Array([2]))).toBe(200);
    const url = await download(key);
    const forged = url.replace(key.split("/")[1] as string, other.split("/")[1] as string);
    expect((await fetch(forged)).status).toBe(403);
  });

  test("URLs stop working once their expiry has passed (by the clock that presigned them)", async () => {
    const key = newKey();
    expect(await upload(key, new Uint8Array([9, 9]))).toBe(200);
    const real = Date.now();
    // Presigned two hours ago, valid for one minute: long expired now.
    clock.set(real - 120 * MIN);
    const get = await r.files.presignDownload(
      { key, filename: "x", contentType: "application/octet-stream", expiresAt: clock.now() + MIN },
      r.baseUrl,
    );
    const other = newKey();
    const put = await r.files.presignUpload({ key: other, contentType: "text/plain", size: 1, expiresAt: clock.now() + MIN }, r.baseUrl);
    clock.set(real);
    expect((await fetch(get)).status).toBe(403);
    expect((await fetch(put.url, { method: "PUT", headers: put.headers, body: "x" })).status).toBe(403);
    expect(await r.files.stat(other)).toBeUndefined();
  });

  test("delete removes the object (stat and downloads see nothing); deleting a missing key is fine", async () => {
    const key = newKey();
    expect(await upload(key, new Uint8Array([4, 5]))).toBe(200);
    await r.files.delete(key);
    expect(await r.files.stat(key)).toBeUndefined();
    expect((await fetch(await download(key))).status).toBe(404);
    await r.files.delete(key);
    await r.files.delete(newKey());
  });

  test("the same file id under two apps is two objects", async () => {
    const id = `same_${randomBytes(4).toString("hex")}`;
    expect(await upload(`app_one/${id}`, new Uint8Array([1]))).toBe(200);
    expect(await r.files.stat(`app_two/${id}`)).toBeUndefined();
    expect(await upload(`app_two/${id}`, new Uint8Array([2, 2]))).toBe(200);
    expect(await r.files.stat(`app_one/${id}`)).toEqual({ size: 1 });
    expect(await r.files.stat(`app_two/${id}`)).toEqual({ size: 2 });
  });
});
