/** Upload kinds (the TalkJS `uploadFile / uploadImage / uploadVideo / uploadAudio / uploadVoice`). */
export const UPLOAD_KINDS = ["file", "image", "video", "audio", "voice"] as const;
export type UploadKind = (typeof UPLOAD_KINDS)[number];

/** Upload limits the engine enforces (bytes). */
export const UPLOAD_LIMITS = {
  /** Largest file of any kind. */
  maxSize: 50 * 1024 * 1024,
  /** Longest file name. */
  maxFilenameLength: 255,
  /** How long an upload URL stays valid, seconds. */
  uploadUrlTtlS: 15 * 60,
  /** How long a download URL stays valid, seconds. */
  downloadUrlTtlS: 15 * 60,
} as const;

/**
 * Content types accepted per kind (`file` takes anything well-formed). A mismatch is `invalid_argument`.
 */
export const UPLOAD_CONTENT_TYPES: Record<UploadKind, RegExp> = {
  file: /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i,
  image: /^image\/[a-z0-9.+-]+$/i,
  video: /^video\/[a-z0-9.+-]+$/i,
  audio: /^audio\/[a-z0-9.+-]+$/i,
  voice: /^audio\/[a-z0-9.+-]+$/i,
};
