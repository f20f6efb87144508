import type { z } from "zod";
import { ApiError } from "./errors.js";

/** Parses input with a protocol schema; a failure becomes the typed `invalid_argument` error (REST and WebSocket alike). */
export function parseOr400<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join("."), message: i.message }));
  throw ApiError.invalid(`invalid ${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, issues);
}
