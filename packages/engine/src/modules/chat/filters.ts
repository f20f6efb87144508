import type { ChatFilters, LinkPolicy } from "@utd-stream/protocol";
import type { Kysely, Selectable } from "kysely";
import { ApiError } from "../../core/errors.js";
import { Prepared } from "../../store/prepared.js";
import type { Database } from "../../store/schema.js";
import type { ChatFiltersTable } from "./depth-migrations.js";

/** Text a word filter and link policy let through (`undefined`: nothing left of the text). */
export type Filtered = string | undefined;

/** `http(s)://…` and `www.…` links (the forms clients turn into links). */
const LINK = /\b(?:https?:\/\/|www\.)[^\s<>]+/giu;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A whole-word, case-insensitive matcher of some terms (a term is not matched inside a longer word). */
function wordsRegExp(terms: readonly string[]): RegExp | null {
  if (terms.length === 0) return null;
  const alt = terms.map(escapeRegExp).join("|");
  return new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alt})(?![\\p{L}\\p{N}_])`, "giu");
}

/**
 * Applies an app's filters to a text: a `reject` term or (policy `reject`) a link refuses the message with
 * `content_rejected`; `mask` terms become asterisks; (policy `strip`) links are removed.
 */
export function applyFilters(f: ChatFilters, text: string): Filtered {
  const reject = wordsRegExp(f.words.filter((w) => w.action === "reject").map((w) => w.term));
  if (reject?.test(text)) throw new ApiError("content_rejected", "the message contains a word this app does not allow", { reason: "word" });
  if (f.link_policy === "reject" && new RegExp(LINK.source, LINK.flags).test(text))
    throw new ApiError("content_rejected", "this app does not allow links in messages", { reason: "link" });
  let out = text;
  const mask = wordsRegExp(f.words.filter((w) => w.action === "mask").map((w) => w.term));
  if (mask) out = out.replace(mask, (m) => "*".repeat([...m].length));
  if (f.link_policy === "strip")
    out = out
      .replace(new RegExp(LINK.source, LINK.flags), "")
      .replace(/[ \t]{2,}/g, " ")
      .trim();
  return out.length > 0 ? out : undefined;
}

const NO_FILTERS: ChatFilters = { words: [], link_policy: "allow" };

/** The filters read, prepared once per store (it runs before every send; see `Prepared`). */
const filtersReads = new WeakMap<Kysely<Database>, Prepared<Database, Selectable<ChatFiltersTable>>>();
function filtersRow(db: Kysely<Database>): Prepared<Database, Selectable<ChatFiltersTable>> {
  let p = filtersReads.get(db);
  if (!p) {
    p = new Prepared((d: Kysely<Database>, appId: string) => d.selectFrom("chat_filters").selectAll().where("app_id", "=", appId));
    filtersReads.set(db, p);
  }
  return p;
}

/** An app's filters as stored (none configured: allow everything). */
export async function filtersOf(db: Kysely<Database>, appId: string): Promise<ChatFilters> {
  const row = await filtersRow(db).first(db, appId);
  if (!row) return NO_FILTERS;
  return { words: JSON.parse(row.words) as ChatFilters["words"], link_policy: row.link_policy as LinkPolicy };
}

/**
 * The text to store under the app's filters `f` (see `applyFilters`). A text the link policy strips to
 * nothing, on a message with nothing else, is refused (`content_rejected`).
 */
export function filterWith(f: ChatFilters, text: string, hasOtherContent: boolean): Filtered {
  if (f.words.length === 0 && f.link_policy === "allow") return text;
  const out = applyFilters(f, text);
  if (out === undefined && !hasOtherContent)
    throw new ApiError("content_rejected", "nothing is left of the message once links are removed", { reason: "link" });
  return out;
}
