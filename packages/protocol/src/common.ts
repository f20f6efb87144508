import { z } from "zod";

/** A user's identity inside an app: 1–128 characters, no whitespace or control characters. */
export const Identity = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^\s\p{Cc}]+$/u, "must not contain whitespace or control characters");

/** A display name: up to 128 characters, no control characters. */
export const DisplayName = z
  .string()
  .max(128)
  .regex(/^[^\p{Cc}]*$/u, "must not contain control characters");

/** A device id chosen by the client: 1–128 of `A–Z a–z 0–9 . _ : -`. */
export const DeviceId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, "may only contain letters, digits, '.', '_', ':' and '-'");

/** An opaque id issued by the engine (apps, calls, conversations, messages…). */
export const Id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, "malformed id");

/** An ISO-8601 timestamp in UTC. */
export const Timestamp = z.string();
