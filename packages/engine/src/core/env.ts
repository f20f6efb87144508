/** Reading configuration from environment variables: typed values, and a clear error naming the variable. */

/** Token-bucket settings: `burst` tokens, refilled at `perSecond`. */
export interface BucketConfig {
  burst: number;
  perSecond: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export type Env = Record<string, string | undefined>;

/** Reads an integer variable (`fallback` when unset), refusing anything below `min`. */
export function int(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

/** Reads a token-bucket variable written `<burst>/<per second>`. */
export function bucket(env: Env, name: string, fallback: BucketConfig): BucketConfig {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const m = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(raw);
  if (!m) throw new ConfigError(`${name} must look like "<burst>/<per second>", e.g. "20/5", got "${raw}"`);
  return { burst: Number(m[1]), perSecond: Number(m[2]) };
}
