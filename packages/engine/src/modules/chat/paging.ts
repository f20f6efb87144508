/**
 * Keyset paging rules shared by chat's lists. A cursor `<ms>_<key>` names the last row of the
 * previous page by its sort position (a time in ms, then a unique key as the tie-breaker), so pages
 * stay stable while rows are added in front of them.
 */

/** A decoded cursor: the sort time and the tie-breaking key of the last row already served. */
export interface Position {
  at: number;
  key: string;
}

export function cursorOf(at: number, key: string): string {
  return `${at}_${key}`;
}

/** The position a cursor names; undefined for none or a malformed one (the key may itself contain `_`). */
export function parseCursor(cursor: string | undefined): Position | undefined {
  if (!cursor) return undefined;
  const i = cursor.indexOf("_");
  if (i <= 0) return undefined;
  const at = Number(cursor.slice(0, i));
  const key = cursor.slice(i + 1);
  return Number.isFinite(at) && key.length > 0 ? { at, key } : undefined;
}

/**
 * The first `limit` rows (the query fetched one more, to know whether another page exists) and the
 * cursor of the next page, or null on the last one. Without `limit`, every row and no cursor.
 */
export function pageOf<R>(
  rows: readonly R[],
  limit: number | undefined,
  position: (row: R) => Position,
): { page: R[]; next: string | null } {
  if (limit === undefined) return { page: [...rows], next: null };
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  if (rows.length <= limit || last === undefined) return { page, next: null };
  const p = position(last);
  return { page, next: cursorOf(p.at, p.key) };
}

/**
 * A history page by seq. Forward pages (`after`) were read oldest first; the others newest first and
 * are turned round, so a page is always oldest first. `has_more` says the query found a row past it.
 */
export function historyWindow<R>(rows: readonly R[], limit: number, forward: boolean): { page: R[]; has_more: boolean } {
  const page = rows.slice(0, limit);
  if (!forward) page.reverse();
  return { page, has_more: rows.length > limit };
}
