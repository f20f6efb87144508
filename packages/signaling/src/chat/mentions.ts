/**
 * Mention autocomplete: find the `@partial` being typed at the caret, suggest members whose identity
 * (or display name) starts with it, and insert the chosen one. Pure functions, so any UI can use them.
 */

/** The `@partial` being typed at `caret`: where its `@` is and the text typed after it (no whitespace yet). */
export interface MentionQuery {
  /** Index of the `@` in the text. */
  start: number;
  /** What follows the `@` up to the caret. */
  query: string;
}

/** A member that may be mentioned (`name`: a display name to match and show, when the app has one). */
export interface MentionCandidate {
  identity: string;
  name?: string | null;
}

/**
 * The mention being typed at `caret` (default: the end of the text), or null when the caret is not in one.
 * An `@` counts at the start or after a space or opening punctuation, as the engine parses it.
 */
export function activeMention(text: string, caret = text.length): MentionQuery | null {
  const before = text.slice(0, caret);
  const at = before.lastIndexOf("@");
  if (at < 0) return null;
  const query = before.slice(at + 1);
  if (/\s/u.test(query)) return null;
  const prev = at > 0 ? before[at - 1] : "";
  if (prev && /[\p{L}\p{N}_.@+-]/u.test(prev)) return null;
  return { start: at, query };
}

/**
 * Members matching a partial mention, best first: identities starting with it, then names starting with
 * it, then identities or names containing it (case-insensitive), each group alphabetical; `exclude` (e.g.
 * yourself) is left out. At most `limit`.
 */
export function suggestMentions(
  members: readonly MentionCandidate[],
  query: string,
  opts: { limit?: number; exclude?: readonly string[] } = {},
): MentionCandidate[] {
  const q = query.toLocaleLowerCase();
  const skip = new Set(opts.exclude ?? []);
  const rank = (m: MentionCandidate): number => {
    const id = m.identity.toLocaleLowerCase();
    const name = (m.name ?? "").toLocaleLowerCase();
    if (id.startsWith(q)) return 0;
    if (name.startsWith(q)) return 1;
    if (id.includes(q) || name.includes(q)) return 2;
    return 3;
  };
  return members
    .filter((m) => !skip.has(m.identity))
    .map((m) => ({ m, r: rank(m) }))
    .filter((x) => x.r < 3)
    .sort((x, y) => x.r - y.r || x.m.identity.localeCompare(y.m.identity))
    .slice(0, opts.limit ?? 8)
    .map((x) => x.m);
}

/** Replaces the mention being typed with `@identity ` and returns the new text and caret position. */
export function insertMention(text: string, q: MentionQuery, identity: string): { text: string; caret: number } {
  const end = q.start + 1 + q.query.length;
  const inserted = `@${identity} `;
  return { text: text.slice(0, q.start) + inserted + text.slice(end), caret: q.start + inserted.length };
}
