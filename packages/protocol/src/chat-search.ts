import { z } from "zod";
import { MessageSchema } from "./chat.js";
import { Id, Identity } from "./common.js";

/** Limits on message search. */
export const SEARCH_LIMITS = {
  /** Longest query, in characters. */
  maxQueryLength: 200,
  /** Most terms in one query (each term must match: AND). */
  maxTerms: 10,
  /** Largest page. */
  maxPageSize: 50,
  /** Deepest result reachable by paging (rank order is recomputed per page, so paging is bounded). */
  maxOffset: 1000,
} as const;

/** An ISO 8601 date-time with an offset (`2026-11-26T05:00:00Z`), as the other timestamps on the wire. */
const DateTime = z.iso.datetime({ offset: true });

/**
 * `GET /api/v1/search/messages` — full-text search over the messages the caller may read: in one
 * conversation (`conversation_id`) or across all of the caller's. Every term of `q` must match (a word,
 * or a word prefix when it ends with `*`). `from`/`to` bound the creation time (inclusive).
 */
export const SearchMessagesQuerySchema = z
  .strictObject({
    q: z
      .string()
      .trim()
      .min(1, "q must not be empty")
      .max(SEARCH_LIMITS.maxQueryLength)
      .refine((s) => /[\p{L}\p{N}]/u.test(s), "q needs at least one letter or digit"),
    conversation_id: Id.optional(),
    sender: Identity.optional(),
    from: DateTime.optional(),
    to: DateTime.optional(),
    has_attachment: z.enum(["true", "false"]).optional(),
    /** `next_cursor` of the previous page. */
    cursor: z
      .string()
      .max(16)
      .regex(/^o\d{1,4}$/, "not a next_cursor")
      .optional(),
    limit: z.coerce.number().int().min(1).max(SEARCH_LIMITS.maxPageSize).default(20),
  })
  .refine((v) => v.from === undefined || v.to === undefined || Date.parse(v.from) <= Date.parse(v.to), {
    message: "from must not be after to",
    path: ["from"],
  });
export type SearchMessagesQuery = z.infer<typeof SearchMessagesQuerySchema>;

/** A matched range of a message's `text`, in UTF-16 code units (JavaScript string indices). */
export const SearchHighlightSchema = z.object({ start: z.number().int().min(0), end: z.number().int().min(0) });
export type SearchHighlight = z.infer<typeof SearchHighlightSchema>;

/** One hit: the message as history serves it, and where its text matched. */
export const SearchHitSchema = z.object({
  message: MessageSchema,
  /** The matched terms in `message.text`, in order, not overlapping. Render them escaped: the text is not HTML. */
  highlights: z.array(SearchHighlightSchema),
});
export type SearchHit = z.infer<typeof SearchHitSchema>;

/** A page of hits, best first; `next_cursor` is null on the last page. */
export const SearchMessagesResponseSchema = z.object({
  hits: z.array(SearchHitSchema),
  next_cursor: z.string().nullable(),
});
export type SearchMessagesResponse = z.infer<typeof SearchMessagesResponseSchema>;
