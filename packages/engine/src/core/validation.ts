import type { z } from "zod";
import { ApiError } from "./errors.js";

/**
 * Issues reported per refusal. A 10,000-element array of bad strings fits in one 64 KiB frame and would
 * otherwise be answered with 10,000 issues (megabytes): the first few say enough.
 */
export const MAX_REPORTED_ISSUES = 10;

/** Parses input with a protocol schema; a failure becomes the typed `invalid_argument` error (REST and WebSocket alike). */
export function parseOr400<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const all = r.error.issues;
  const issues = all.slice(0, MAX_REPORTED_ISSUES).map((i) => ({ path: [where, ...i.path.map(String)].join("."), message: i.message }));
  const more = all.length > issues.length ? ` (and ${all.length - issues.length} more)` : "";
  throw ApiError.invalid(`invalid ${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}${more}`, issues);
}
