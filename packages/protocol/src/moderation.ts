import { z } from "zod";
import { Id, Identity, Timestamp } from "./common.js";

/** Limits on reports and filters. */
export const MODERATION_LIMITS = {
  /** Longest report reason, in characters. */
  maxReasonLength: 500,
  /** Most terms in an app's word filter. */
  maxWords: 500,
  /** Longest filtered term. */
  maxTermLength: 64,
  /** Largest page of the report queue. */
  maxPageSize: 100,
} as const;

/** Report states: `open` until an admin resolves it by dismissing it, deleting the message or banning the user. */
export const REPORT_STATES = ["open", "dismissed", "message_deleted", "user_banned"] as const;
export type ReportState = (typeof REPORT_STATES)[number];

/** What an admin may do with a report. */
export const REPORT_ACTIONS = ["dismiss", "delete_message", "ban_user"] as const;
export type ReportAction = (typeof REPORT_ACTIONS)[number];

/** Word filter actions: `mask` stores the term as asterisks; `reject` refuses the message (`content_rejected`). */
export const WORD_FILTER_ACTIONS = ["mask", "reject"] as const;
/** Link policy: `allow` links, `strip` them from the text before storage, or `reject` messages with links. */
export const LINK_POLICIES = ["allow", "strip", "reject"] as const;
export type LinkPolicy = (typeof LINK_POLICIES)[number];

const Reason = z.string().trim().min(1).max(MODERATION_LIMITS.maxReasonLength);

/**
 * `POST /api/v1/reports` — report a message (of a conversation the caller is in) or a user, with a reason.
 * Reporting the same thing again while the first report is open returns that report (200).
 */
export const CreateReportRequestSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("message"), conversation_id: Id, message_id: Id, reason: Reason }),
  z.strictObject({ kind: z.literal("user"), identity: Identity, reason: Reason }),
]);
export type CreateReportRequest = z.infer<typeof CreateReportRequestSchema>;

/** A report in the app's queue. `message_text` is the message as it was when reported (the admin's evidence). */
export const ReportSchema = z.object({
  id: z.string(),
  kind: z.enum(["message", "user"]),
  reporter: z.string(),
  /** The reported user (the message's sender for a message report). */
  identity: z.string(),
  conversation_id: z.string().nullable(),
  message_id: z.string().nullable(),
  message_text: z.string().nullable(),
  reason: z.string(),
  state: z.enum(REPORT_STATES),
  created_at: Timestamp,
  resolved_at: Timestamp.nullable(),
});
export type Report = z.infer<typeof ReportSchema>;

/** `GET /admin/v1/apps/{app_id}/reports?state=&limit=&before=` — newest first. */
export const ReportListQuerySchema = z.strictObject({
  state: z.enum(REPORT_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(MODERATION_LIMITS.maxPageSize).default(50),
  before: z
    .string()
    .max(100)
    .regex(/^\d{1,16}_[A-Za-z0-9_-]{1,64}$/, "not a next_before cursor")
    .optional(),
});
export const ReportListSchema = z.object({ reports: z.array(ReportSchema), next_before: z.string().nullable() });
export type ReportList = z.infer<typeof ReportListSchema>;

/** `POST /admin/v1/apps/{app_id}/reports/{id}/resolve` — an open report only (`conflict` otherwise). */
export const ResolveReportRequestSchema = z.strictObject({ action: z.enum(REPORT_ACTIONS), note: z.string().max(500).optional() });

const Term = z
  .string()
  .trim()
  .min(1)
  .max(MODERATION_LIMITS.maxTermLength)
  .refine((s) => /[\p{L}\p{N}]/u.test(s), "a term needs a letter or digit");

/**
 * `GET|PUT /admin/v1/apps/{app_id}/chat/filters` — the app's word filter and link policy, applied before a
 * message (or an edit) is stored, on REST and WebSocket alike. Terms match whole words, case-insensitively.
 */
export const ChatFiltersSchema = z.strictObject({
  words: z
    .array(z.strictObject({ term: Term, action: z.enum(WORD_FILTER_ACTIONS) }))
    .max(MODERATION_LIMITS.maxWords)
    .refine((w) => new Set(w.map((x) => x.term.toLocaleLowerCase())).size === w.length, "each term once"),
  link_policy: z.enum(LINK_POLICIES),
});
export type ChatFilters = z.infer<typeof ChatFiltersSchema>;
