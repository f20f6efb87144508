import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { type Clock, iso } from "../core/clock.js";
import type { RateLimiter } from "../core/rate-limit.js";
import type { Store } from "../store/port.js";

const DAY = 86_400_000;

/**
 * Business figures read from the store when Prometheus scrapes (so every node reports the same
 * cluster-wide values; sum by app with max(), not sum(), across nodes): MAU this calendar month,
 * users active in the last day and 30 days, calls in progress, files and bytes stored. Labelled by
 * app only: apps are created by the operator, so the label stays bounded.
 */
export function registerStoreGauges(registry: Registry, store: Store, clock: Clock): void {
  const db = store.db;
  new Gauge({
    name: "utd_mau",
    help: "Monthly active users (distinct identities with a session) in the current calendar month (UTC), by app",
    labelNames: ["app"],
    registers: [registry],
    async collect() {
      this.reset();
      const month = iso(clock.now()).slice(0, 7);
      const rows = await db
        .selectFrom("mau")
        .select(["app_id", (eb) => eb.fn.countAll<number>().as("n")])
        .where("month", "=", month)
        .groupBy("app_id")
        .execute();
      for (const r of rows) this.set({ app: r.app_id }, Number(r.n));
    },
  });
  new Gauge({
    name: "utd_active_users",
    help: "Users seen (session or socket) within the window (1d, 30d), by app",
    labelNames: ["app", "window"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [window, ms] of [
        ["1d", DAY],
        ["30d", 30 * DAY],
      ] as const) {
        const rows = await db
          .selectFrom("users")
          .select(["app_id", (eb) => eb.fn.countAll<number>().as("n")])
          .where("last_seen_at", ">=", clock.now() - ms)
          .groupBy("app_id")
          .execute();
        for (const r of rows) this.set({ app: r.app_id, window }, Number(r.n));
      }
    },
  });
  new Gauge({
    name: "utd_calls_in_progress",
    help: "Calls ringing or active right now, by app",
    labelNames: ["app"],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await db
        .selectFrom("calls")
        .select(["app_id", (eb) => eb.fn.countAll<number>().as("n")])
        .where("status", "in", ["initiating", "ringing", "active"])
        .groupBy("app_id")
        .execute();
      for (const r of rows) this.set({ app: r.app_id }, Number(r.n));
    },
  });
  // Two gauges from one grouped query each: a collect() may only set its own metric (the registry
  // serialises each metric right after its collect, so setting another one would show last scrape's).
  const stored = (name: string, help: string, pick: (r: { n: number; bytes: number | null }) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["app"],
      registers: [registry],
      async collect() {
        this.reset();
        const rows = await db
          .selectFrom("uploads")
          .select(["app_id", (eb) => eb.fn.countAll<number>().as("n"), (eb) => eb.fn.sum<number>("size").as("bytes")])
          .where("uploaded_at", "is not", null)
          .groupBy("app_id")
          .execute();
        for (const r of rows) this.set({ app: r.app_id }, Number(pick(r)));
      },
    });
  stored("utd_files_stored", "Uploaded files stored (confirmed by the engine: attached or fetched), by app", (r) => r.n);
  stored("utd_files_stored_bytes", "Bytes of uploaded files stored, by app", (r) => Number(r.bytes ?? 0));
}

/**
 * The budget a rate-limit key belongs to: its leading all-lowercase-word segments, at most three
 * (`session:app`, `req:user`, `session:fail:addr`, `room-pub`), which code names, so the label stays
 * bounded; the ids that follow (`app_…`, identities, addresses) are cut off.
 */
export function budgetOf(key: string): string {
  const words: string[] = [];
  for (const seg of key.split(":")) {
    if (words.length === 3 || !/^[a-z-]+$/.test(seg)) break;
    words.push(seg);
  }
  return words.length ? words.join(":") : "other";
}

/** Counts refusals by budget (see `budgetOf`). */
export function countRefusals(limiter: RateLimiter, registry: Registry): RateLimiter {
  const refused = new Counter({
    name: "utd_rate_limited_total",
    help: "Requests refused by a rate limit, by budget (the limit's name)",
    labelNames: ["budget"],
    registers: [registry],
  });
  return {
    async take(key, bucket, cost) {
      const d = await limiter.take(key, bucket, cost);
      if (!d.allowed && (cost ?? 1) > 0) refused.inc({ budget: budgetOf(key) });
      return d;
    },
    ...(limiter.close ? { close: () => limiter.close?.() ?? Promise.resolve() } : {}),
  };
}

/** Latency of calls to the LiveKit server API, by operation and result (ok | error). */
export function livekitLatency(registry: Registry): Histogram<"op" | "result"> {
  return new Histogram({
    name: "utd_livekit_api_duration_seconds",
    help: "LiveKit server API call latency, by operation and result",
    labelNames: ["op", "result"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
}
