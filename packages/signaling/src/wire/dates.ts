/** Wire timestamps are ISO 8601 strings; the SDK hands out `Date`s. */
export const date = (s: string): Date => new Date(s);
export const dateOrNull = (s: string | null): Date | null => (s === null ? null : new Date(s));
