import pg from "pg";

/**
 * External services for tests. When one is absent the suite is skipped with a loud warning —
 * except under CI=true, where absence is a failure.
 */
export const IN_CI = process.env.CI === "true";

function absent(service: string, why: string): undefined {
  const msg = `${service} is not available (${why})`;
  if (IN_CI) throw new Error(`${msg}; CI=true requires it`);
  process.stderr.write(`\n⚠️  SKIPPING ${service} tests: ${msg}\n\n`);
  return undefined;
}

const PG_ADMIN_URL = process.env.UTD_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** Creates a fresh PostgreSQL database for one suite; returns its URL and a drop function, or undefined (skip). */
export async function freshPostgres(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (err) {
    return absent("PostgreSQL", `${PG_ADMIN_URL}: ${(err as Error).message}`);
  }
  const name = `utd_test_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** The Redis URL for tests (`UTD_TEST_REDIS_URL`, default 127.0.0.1:6379) when Redis answers; else undefined (skip). */
export async function redisUrlOrSkip(): Promise<string | undefined> {
  const url = process.env.UTD_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
  const { Redis } = await import("ioredis");
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  try {
    await r.connect();
    await r.ping();
    return url;
  } catch (err) {
    return absent("Redis", `${url}: ${(err as Error).message}`);
  } finally {
    r.disconnect();
  }
}
