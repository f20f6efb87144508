import { MENTION_LIMITS } from "@utd-stream/protocol";
import type { Db } from "./access.js";

/** Punctuation that may follow a mention without being part of the identity (`@ana, hi`, `(@ana)`). */
const TRAILING = /[.,!?;:)\]}'"»”’…]+$/u;
/** `@` at the start or after a character that cannot end a word or an e-mail's local part. */
const MENTION = /(?<![\p{L}\p{N}_.@+-])@(\S+)/gu;

/**
 * The `@identity` tokens of a text, in order, each with the spellings it may stand for: the whole token,
 * then the token without trailing punctuation. Which one is meant is decided against the members.
 */
export function mentionCandidates(text: string | null | undefined): string[][] {
  if (!text) return [];
  const out: string[][] = [];
  for (const m of text.matchAll(MENTION)) {
    const token = m[1] as string;
    const bare = token.replace(TRAILING, "");
    out.push(bare && bare !== token ? [token, bare] : [token]);
  }
  return out;
}

/**
 * The members a text mentions: each `@identity` that names a member of the conversation, distinct, in
 * text order, at most `MENTION_LIMITS.maxPerMessage`. Anything else after an `@` is plain text.
 */
export async function resolveMentions(db: Db, conversationId: string, text: string | null | undefined): Promise<string[]> {
  const tokens = mentionCandidates(text);
  if (tokens.length === 0) return [];
  const all = [...new Set(tokens.flat())].slice(0, 4 * MENTION_LIMITS.maxPerMessage);
  const rows = await db
    .selectFrom("conversation_members")
    .select("identity")
    .where("conversation_id", "=", conversationId)
    .where("identity", "in", all)
    .execute();
  const members = new Set(rows.map((r) => r.identity));
  const out: string[] = [];
  for (const spellings of tokens) {
    const hit = spellings.find((s) => members.has(s));
    if (hit !== undefined && !out.includes(hit)) out.push(hit);
    if (out.length >= MENTION_LIMITS.maxPerMessage) break;
  }
  return out;
}
