import { z } from "zod";
import { Timestamp } from "./common.js";
import { UPLOAD_KINDS, UPLOAD_LIMITS } from "./constants/uploads.js";

/** What a client may say about the file (seed: width/height for images and videos, duration for media). */
export const UploadMetadataSchema = z.strictObject({
  width: z.number().int().min(1).max(100_000).optional(),
  height: z.number().int().min(1).max(100_000).optional(),
  duration: z
    .number()
    .min(0)
    .max(86_400 * 7)
    .optional(),
});
export type UploadMetadata = z.infer<typeof UploadMetadataSchema>;

/** `POST /api/v1/uploads` — reserves an upload and returns where to send the bytes. */
export const CreateUploadRequestSchema = z.strictObject({
  kind: z.enum(UPLOAD_KINDS),
  filename: z
    .string()
    .min(1)
    .max(UPLOAD_LIMITS.maxFilenameLength)
    .regex(/^[^\p{Cc}/\\]+$/u, "must not contain control characters or slashes"),
  content_type: z.string().min(3).max(255),
  size: z.number().int().min(1),
  metadata: UploadMetadataSchema.optional(),
});
export type CreateUploadRequest = z.infer<typeof CreateUploadRequestSchema>;

/** Send the file's bytes with `method` to `upload_url` with exactly `headers`; then put `file_token` in a message. */
export const CreateUploadResponseSchema = z.object({
  file_token: z.string(),
  upload_url: z.string(),
  method: z.literal("PUT"),
  headers: z.record(z.string(), z.string()),
  expires_at: Timestamp,
});
export type CreateUploadResponse = z.infer<typeof CreateUploadResponseSchema>;

/** `GET /api/v1/uploads/{file_token}` — the file's record and, for those allowed, a signed download URL. */
export const UploadInfoSchema = z.object({
  file_token: z.string(),
  kind: z.enum(UPLOAD_KINDS),
  filename: z.string(),
  content_type: z.string(),
  size: z.number().int(),
  metadata: UploadMetadataSchema,
  uploaded: z.boolean(),
  uploader: z.string(),
  created_at: Timestamp,
  download_url: z.string().nullable(),
  download_expires_at: Timestamp.nullable(),
});
export type UploadInfo = z.infer<typeof UploadInfoSchema>;
