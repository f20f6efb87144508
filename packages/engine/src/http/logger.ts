import type { FastifyRequest } from "fastify";
import { pino } from "pino";
import type { Logger } from "../core/logger.js";

/** Never log these, wherever they appear. */
export const REDACT = [
  "req.headers.authorization",
  "req.headers.cookie",
  "*.token",
  "*.user_token",
  "*.identity_token",
  "*.app_key",
  "*.app_secret",
  "*.secret",
  // The console: passwords, the admin token it signs in with, the session cookie and its CSRF token.
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  "*.password",
  "*.admin_token",
  "*.csrf_token",
];

/** Query strings may carry signed-URL signatures; log the path only. */
export function logPath(req: FastifyRequest | { url?: string }): string {
  const url = req.url ?? "";
  const q = url.indexOf("?");
  return q < 0 ? url : `${url.slice(0, q)}?…`;
}

/** The engine's default logger (the `logger` port): JSON to stdout, secrets redacted, request URLs without query strings. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: { paths: REDACT, censor: "[redacted]" },
    serializers: {
      req: (req: FastifyRequest) => ({ method: req.method, url: logPath(req), id: req.id }),
    },
  });
}
