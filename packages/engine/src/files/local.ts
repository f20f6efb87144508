import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { link, mkdir, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Clock } from "../core/clock.js";
import { ApiError } from "../core/errors.js";
import { type DownloadTarget, type FileStore, KEY_PATTERN, type PresignedUpload, type UploadTarget } from "./port.js";

/** The signed parameters of a local file URL. */
export interface SignedParams {
  op: "put" | "get";
  key: string;
  exp: number;
  /** put: the exact content type and size; get: the content type and download file name. */
  ct: string;
  size?: number;
  fn?: string;
}

/**
 * Files on local disk under `<dataDir>/files`. URLs point at the engine's `/api/v1/files/…` routes and
 * carry an HMAC over operation, key, expiry, content type and size, so they cannot be altered or reused
 * for another object, and they stop working at `exp`.
 */
export class LocalFileStore implements FileStore {
  readonly kind = "local";
  constructor(
    private readonly root: string,
    private readonly key: Uint8Array,
    private readonly clock: Clock,
  ) {}

  private path(key: string): string {
    if (!KEY_PATTERN.test(key)) throw ApiError.invalid("malformed file key");
    return join(this.root, key);
  }

  sign(p: SignedParams): string {
    const h = createHmac("sha256", this.key);
    h.update([p.op, p.key, String(p.exp), p.ct, String(p.size ?? ""), p.fn ?? ""].join("\n"));
    return h.digest("base64url");
  }

  /** Checks a URL's signature and expiry; throws `forbidden` when it is not valid now. */
  verify(p: SignedParams, sig: string): void {
    const want = Buffer.from(this.sign(p));
    const got = Buffer.from(sig);
    if (want.length !== got.length || !timingSafeEqual(want, got)) throw ApiError.forbidden("invalid file URL signature");
    if (this.clock.now() > p.exp) throw ApiError.forbidden("this file URL has expired");
  }

  private url(baseUrl: string, p: SignedParams): string {
    const q = new URLSearchParams({ exp: String(p.exp), ct: p.ct });
    if (p.size !== undefined) q.set("size", String(p.size));
    if (p.fn !== undefined) q.set("fn", p.fn);
    q.set("sig", this.sign(p));
    return `${baseUrl}/api/v1/files/${p.key}?${q.toString()}`;
  }

  async presignUpload(t: UploadTarget, baseUrl: string): Promise<PresignedUpload> {
    const p: SignedParams = { op: "put", key: t.key, exp: t.expiresAt, ct: t.contentType, size: t.size };
    return { url: this.url(baseUrl, p), method: "PUT", headers: { "content-type": t.contentType } };
  }

  async presignDownload(t: DownloadTarget, baseUrl: string): Promise<string> {
    return this.url(baseUrl, { op: "get", key: t.key, exp: t.expiresAt, ct: t.contentType, fn: t.filename });
  }

  async stat(key: string): Promise<{ size: number } | undefined> {
    try {
      const s = await stat(this.path(key));
      return { size: s.size };
    } catch {
      return undefined;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  /**
   * Stores a body under `key`, refusing more than `size` bytes (413) or fewer (400) and a second upload
   * to the same key (409). Written to a temporary file first, so a half-written object is never visible.
   */
  async write(key: string, size: number, body: Readable): Promise<void> {
    const final = this.path(key);
    if (await this.stat(key)) throw ApiError.conflict("this file was already uploaded", "uploaded");
    // Other local users must not read what users uploaded.
    await mkdir(dirname(final), { recursive: true, mode: 0o700 });
    const tmp = `${final}.part-${randomUUID()}`;
    let n = 0;
    try {
      await pipeline(
        body,
        async function* (src: AsyncIterable<Buffer>) {
          for await (const chunk of src) {
            n += chunk.length;
            if (n > size) throw new ApiError("payload_too_large", `the file is larger than the declared ${size} bytes`);
            yield chunk;
          }
        },
        createWriteStream(tmp, { flags: "wx", mode: 0o600 }),
      );
      if (n !== size) throw ApiError.invalid(`received ${n} bytes, declared ${size}`);
      // link() fails if the object exists, so of two concurrent uploads exactly one wins.
      await link(tmp, final).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "EEXIST") throw ApiError.conflict("this file was already uploaded", "uploaded");
        throw err;
      });
    } finally {
      await rm(tmp, { force: true });
    }
  }

  read(key: string): Readable {
    return createReadStream(this.path(key));
  }
}
