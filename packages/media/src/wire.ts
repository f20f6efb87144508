/**
 * The one place the SDK maps the engine's snake_case wire to camelCase TypeScript (and back).
 * Types follow the protocol package's schemas, so a renamed wire field is a compile error here.
 */
import type { Call, SeatsState, SpeakRequest, Stage, StageMember, TokenResponse } from "@utd-stream/protocol";

type CamelKey<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<CamelKey<T>>}` : S;

/** `T` with every object key camelCased, deeply. */
export type Camelize<T> = T extends readonly (infer U)[]
  ? Camelize<U>[]
  : T extends Record<string, unknown>
    ? { [K in keyof T as K extends string ? CamelKey<K> : K]: Camelize<T[K]> }
    : T;

/** Deep snake_case → camelCase of object keys (values untouched). Free-form `metadata` keeps its keys. */
export function camelize<T>(value: T): Camelize<T> {
  return convert(value, (k) => k.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())) as Camelize<T>;
}

/** Shallow camelCase → snake_case for request bodies; undefined fields are dropped. */
export function snakeBody(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (v !== undefined) out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  return out;
}

function convert(value: unknown, key: (k: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => convert(v, key));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[key(k)] = k === "metadata" ? v : convert(v, key);
  return out;
}

/** Seed `UTDTokenResponse`: a room token mint's answer. */
export type UTDTokenResponse = Camelize<TokenResponse>;
/** Seed `UTDCall`: a 1:1 call as the engine returns it. */
export type UTDCall = Camelize<Call>;
/** Seed `UTDStageMember`. */
export type UTDStageMember = Camelize<StageMember>;
export type UTDStage = Camelize<Stage>;
/** The seat grid, mode and open requests of an audio room. */
export type UTDSeats = Camelize<SeatsState>;
export type UTDSpeakRequest = Camelize<SpeakRequest>;
/** A call's media (token and URL for its room). */
export interface UTDCallMedia {
  token: string;
  url: string;
  roomName: string;
  expiresAt: string;
}
