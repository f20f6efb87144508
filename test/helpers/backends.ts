import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { describe } from "vitest";

/**
 * The one place that decides which backends a test runs on.
 *
 * - SQLite, the in-process bus, the memory limiter, local files and the fake media port always run.
 * - PostgreSQL, Redis, LiveKit (and Chromium for browser suites) run when they are reachable here.
 * - Under `CI=true` an absent service is a failure; otherwise the suite is skipped LOUDLY (a warning on
 *   stderr, and the suite shows as skipped in the report).
 *
 * Service locations: `UTD_TEST_PG_URL` (default postgres://postgres@127.0.0.1:5432/postgres),
 * `UTD_TEST_REDIS_URL` (default redis://127.0.0.1:6379), the LiveKit binary in `UTD_LIVEKIT_CACHE`
 * (scripts/livekit/install.sh), Chromium at `UTD_CHROMIUM` (default /usr/bin/chromium), HAProxy at `UTD_HAPROXY`
 * (default /usr/sbin/haproxy).
 */
export const IN_CI = process.env.CI === "true";

export type Service = "postgres" | "redis" | "redis-cluster" | "livekit" | "chromium" | "haproxy";

export const PG_ADMIN_URL = process.env.UTD_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const REDIS_URL = process.env.UTD_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
export const LIVEKIT_VERSION = process.env.UTD_LIVEKIT_VERSION ?? "v1.13.3";
export const LIVEKIT_CACHE = process.env.UTD_LIVEKIT_CACHE ?? join(homedir(), ".cache/utd-livekit");
export const LIVEKIT_BIN = join(LIVEKIT_CACHE, LIVEKIT_VERSION, "livekit-server");
/** Debian's HAProxy (`apt-get install -y haproxy`), for the load-balanced cluster suites. */
export const HAPROXY = process.env.UTD_HAPROXY ?? "/usr/sbin/haproxy";
/** Debian's Chromium (`apt-get install -y chromium`); never a downloaded browser. */
export const CHROMIUM = process.env.UTD_CHROMIUM ?? "/usr/bin/chromium";

type Probe = { ok: true } | { ok: false; why: string };

const PROBES: Record<Service, () => Promise<Probe>> = {
  async postgres() {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
    try {
      await c.connect();
      await c.query("select 1");
      return { ok: true };
    } catch (err) {
      return { ok: false, why: `${PG_ADMIN_URL}: ${(err as Error).message}` };
    } finally {
      await c.end().catch(() => {});
    }
  },
  async redis() {
    const { Redis } = await import("ioredis");
    const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
    try {
      await r.connect();
      await r.ping();
      return { ok: true };
    } catch (err) {
      return { ok: false, why: `${REDIS_URL}: ${(err as Error).message}` };
    } finally {
      r.disconnect();
    }
  },
  async "redis-cluster"() {
    // Started per suite (test/helpers/redis-cluster.ts) from the Debian redis-server and redis-cli.
    const { execFileSync } = await import("node:child_process");
    for (const bin of ["redis-server", "redis-cli"]) {
      try {
        execFileSync(bin, ["--version"], { stdio: "ignore" });
      } catch {
        return { ok: false, why: `${bin} not found (apt-get install -y redis-server)` };
      }
    }
    return { ok: true };
  },
  async livekit() {
    // Under CI scripts/livekit/start.sh installs the pinned binary on first use (a failure there is fatal).
    if (existsSync(LIVEKIT_BIN) || IN_CI) return { ok: true };
    return { ok: false, why: `no livekit-server binary at ${LIVEKIT_BIN} (run scripts/livekit/install.sh; needs Go >= 1.26)` };
  },
  async haproxy() {
    if (existsSync(HAPROXY)) return { ok: true };
    return { ok: false, why: `HAProxy not found at ${HAPROXY} (apt-get install -y haproxy)` };
  },
  async chromium() {
    if (existsSync(CHROMIUM)) return { ok: true };
    return { ok: false, why: `Chromium not found at ${CHROMIUM} (apt-get install -y chromium)` };
  },
};

const probed = new Map<Service, Promise<Probe>>();
const warned = new Set<string>();

/**
 * Whether `service` is usable here (probed once per test file). When it is not: throws under CI=true,
 * otherwise prints a loud warning naming `what` (the suite that skips) and answers false.
 */
export async function has(service: Service, what = `${service} tests`): Promise<boolean> {
  let p = probed.get(service);
  if (!p) {
    p = PROBES[service]();
    probed.set(service, p);
  }
  const r = await p;
  return r.ok ? true : absent(service, r.why, what);
}

/** Chromium's presence, synchronously (browser suites decide at collection time); same policy as `has`. */
export function hasChromium(what: string): boolean {
  return existsSync(CHROMIUM) || absent("chromium", `Chromium not found at ${CHROMIUM} (apt-get install -y chromium)`, what);
}

/** The policy for an absent service: fail under CI=true, else warn loudly (once per suite) and answer false. */
function absent(service: Service, why: string, what: string): false {
  const msg = `${service} is not available (${why})`;
  if (IN_CI) throw new Error(`${msg}; CI=true requires it`);
  if (!warned.has(what)) {
    warned.add(what);
    process.stderr.write(`\n⚠️  SKIPPING ${what}: ${msg}\n\n`);
  }
  return false;
}

/** A unique name for this run's databases, Redis key prefixes and bus channels (concurrent runs share the services). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
}

export interface FreshPostgres {
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty PostgreSQL database of its own, or undefined (skip, loudly) when PostgreSQL is absent. */
export async function freshPostgres(what = "PostgreSQL tests"): Promise<FreshPostgres | undefined> {
  if (!(await has("postgres", what))) return undefined;
  const name = uniqueName("utd_test");
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
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

/** The Redis URL when Redis answers, or undefined (skip, loudly). Use `uniqueName` for keys and channels. */
export async function redisUrlOrSkip(what = "Redis tests"): Promise<string | undefined> {
  return (await has("redis", what)) ? REDIS_URL : undefined;
}

// ----- one list of implementations per port --------------------------------------------------------

/** Every implementation of every port, and the service each needs (none: it always runs). */
export const IMPLEMENTATIONS = {
  store: { sqlite: undefined, postgres: "postgres" },
  bus: { "in-process": undefined, redis: "redis" },
  streams: { "in-process": undefined, redis: "redis", "redis-cluster": "redis-cluster" },
  limiter: { memory: undefined, redis: "redis" },
  files: { local: undefined, s3: undefined }, // s3: s3rver, a real S3 protocol server in-process
  media: { fake: undefined, livekit: "livekit" },
} as const satisfies Record<string, Record<string, Service | undefined>>;

export type Port = keyof typeof IMPLEMENTATIONS;
export type Impl<P extends Port> = keyof (typeof IMPLEMENTATIONS)[P] & string;

export interface Backend<N extends string = string> {
  name: N;
  /** False when its service is absent here (outside CI; under CI that already threw). */
  available: boolean;
}

/** The implementations of `port`, each with whether it runs here. */
export async function backends<P extends Port>(port: P): Promise<Backend<Impl<P>>[]> {
  const out: Backend<Impl<P>>[] = [];
  for (const [name, service] of Object.entries(IMPLEMENTATIONS[port]) as [Impl<P>, Service | undefined][]) {
    out.push({ name, available: service ? await has(service, `${port} tests on ${name}`) : true });
  }
  return out;
}

/** One `describe` per backend, titled "<title> on <name>"; an absent backend's block is skipped (and was warned about). */
export function describeBackends<N extends string>(list: readonly Backend<N>[], title: string, body: (name: N) => void): void {
  for (const b of list) describe.skipIf(!b.available)(`${title} on ${b.name}`, () => body(b.name));
}

// ----- stores for engine-level suites --------------------------------------------------------------

/** A fresh, empty store of one backend. */
export interface FreshStore {
  /** Environment for an engine process (`DATABASE_URL`, or nothing: SQLite in the engine's data dir). */
  env: Record<string, string>;
  /** Arguments for `openStore` (in-process tests). */
  storeOptions: { dataDir: string; databaseUrl?: string };
  drop(): Promise<void>;
}

/** A fresh store on `name`, or undefined (skip, loudly) when its service is absent. */
export async function freshStore(name: Impl<"store">, what?: string): Promise<FreshStore | undefined> {
  if (name === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "utd-store-"));
    return { env: {}, storeOptions: { dataDir: dir }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const p = await freshPostgres(what);
  if (!p) return undefined;
  return { env: { DATABASE_URL: p.url }, storeOptions: { dataDir: "/nonexistent", databaseUrl: p.url }, drop: p.drop };
}
