/** Where a client sends an object's bytes (a signed, expiring URL). */
export interface PresignedUpload {
  url: string;
  method: "PUT";
  /** Headers the client must send exactly (the signature covers them). */
  headers: Record<string, string>;
}

export interface UploadTarget {
  key: string;
  contentType: string;
  size: number;
  /** Epoch ms after which the URL stops working. */
  expiresAt: number;
}

export interface DownloadTarget {
  key: string;
  filename: string;
  contentType: string;
  expiresAt: number;
}

/**
 * The files port: objects addressed by key, written and read by clients through signed, expiring URLs.
 * Implementations: local disk under `UTD_DATA_DIR` (the engine serves the URLs) and S3-compatible storage.
 * `baseUrl` is the engine's public base URL, for implementations whose URLs point at the engine.
 */
export interface FileStore {
  readonly kind: "local" | "s3";
  presignUpload(t: UploadTarget, baseUrl: string): Promise<PresignedUpload>;
  presignDownload(t: DownloadTarget, baseUrl: string): Promise<string>;
  /** The stored object's size, or undefined when nothing is stored under the key yet. */
  stat(key: string): Promise<{ size: number } | undefined>;
  delete(key: string): Promise<void>;
}

/** Object keys are `<app id>/<file id>`: two id-like segments, so they can never escape a directory. */
export const KEY_PATTERN = /^[A-Za-z0-9_-]{1,64}\/[A-Za-z0-9_-]{1,64}$/;
