import type { S3Client } from "@aws-sdk/client-s3";
import type { Clock } from "../core/clock.js";
import type { S3Config } from "../core/config.js";
import type { DownloadTarget, FileStore, PresignedUpload, UploadTarget } from "./port.js";

type Sdk = typeof import("@aws-sdk/client-s3");
type Presigner = typeof import("@aws-sdk/s3-request-presigner");

/**
 * Objects in an S3-compatible bucket; clients upload and download with presigned URLs straight to the
 * bucket. The AWS SDK is loaded only when this backend is configured.
 */
export class S3FileStore implements FileStore {
  readonly kind = "s3";
  private constructor(
    private readonly cfg: S3Config,
    private readonly client: S3Client,
    private readonly sdk: Sdk,
    private readonly presigner: Presigner,
    private readonly clock: Clock,
  ) {}

  static async create(cfg: S3Config, clock: Clock): Promise<S3FileStore> {
    const sdk = await import("@aws-sdk/client-s3");
    const presigner = await import("@aws-sdk/s3-request-presigner");
    const client = new sdk.S3Client({
      region: cfg.region,
      endpoint: cfg.endpoint,
      forcePathStyle: cfg.forcePathStyle,
      credentials:
        cfg.accessKeyId && cfg.secretAccessKey ? { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey } : undefined,
    });
    return new S3FileStore(cfg, client, sdk, presigner, clock);
  }

  private objectKey(key: string): string {
    return `${this.cfg.prefix}${key}`;
  }

  /** The presigning window, on the injected clock (so URL expiry follows the same time as everything else). */
  private window(expiresAt: number): { signingDate: Date; expiresIn: number } {
    const now = this.clock.now();
    return { signingDate: new Date(now), expiresIn: Math.max(1, Math.floor((expiresAt - now) / 1000)) };
  }

  async presignUpload(t: UploadTarget): Promise<PresignedUpload> {
    const cmd = new this.sdk.PutObjectCommand({
      Bucket: this.cfg.bucket,
      Key: this.objectKey(t.key),
      ContentType: t.contentType,
      ContentLength: t.size,
    });
    const url = await this.presigner.getSignedUrl(this.client, cmd, {
      ...this.window(t.expiresAt),
      signableHeaders: new Set(["content-type", "content-length"]),
    });
    return { url, method: "PUT", headers: { "content-type": t.contentType } };
  }

  async presignDownload(t: DownloadTarget): Promise<string> {
    const cmd = new this.sdk.GetObjectCommand({
      Bucket: this.cfg.bucket,
      Key: this.objectKey(t.key),
      ResponseContentType: t.contentType,
      ResponseContentDisposition: `attachment; filename*=UTF-8''${encodeURIComponent(t.filename)}`,
    });
    return this.presigner.getSignedUrl(this.client, cmd, this.window(t.expiresAt));
  }

  async stat(key: string): Promise<{ size: number } | undefined> {
    try {
      const r = await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.cfg.bucket, Key: this.objectKey(key) }));
      return { size: Number(r.ContentLength ?? 0) };
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (err as { name?: string }).name === "NotFound") return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.cfg.bucket, Key: this.objectKey(key) }));
  }
}
