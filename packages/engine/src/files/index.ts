import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Clock } from "../core/clock.js";
import type { S3Config } from "../core/config.js";
import { LocalFileStore } from "./local.js";
import type { FileStore } from "./port.js";
import { S3FileStore } from "./s3.js";

export { LocalFileStore } from "./local.js";
export type { FileStore, PresignedUpload } from "./port.js";

/** Opens the S3-compatible store when configured, else local disk under `<dataDir>/files`. */
export async function openFileStore(opts: {
  dataDir: string;
  s3: S3Config | undefined;
  signingKey: Uint8Array;
  clock: Clock;
}): Promise<FileStore> {
  if (opts.s3) return S3FileStore.create(opts.s3, opts.clock);
  // A key of its own, derived so that a file URL signature can never pass as a user token signature.
  const key = createHash("sha256").update("utd-files-v1\n").update(opts.signingKey).digest();
  return new LocalFileStore(join(opts.dataDir, "files"), key, opts.clock);
}
