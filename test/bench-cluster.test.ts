import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { has } from "./helpers/backends.js";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const what = "bench/cluster smoke";
const ready =
  (await has("postgres", what)) && (await has("redis", what)) && (await has("haproxy", what)) && (await has("redis-cluster", what));

/** PostgreSQL server binaries (the benches run a PostgreSQL of their own, to restart it). */
const pgServer =
  existsSync("/usr/lib/postgresql") && readdirSync("/usr/lib/postgresql").some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
if (!pgServer) process.stderr.write("\n⚠️  SKIPPING bench/cluster smoke: no PostgreSQL server binaries under /usr/lib/postgresql\n\n");

async function run(env: Record<string, string>, script = "bench/cluster/run.ts"): Promise<{ out: string; num: (re: RegExp) => number }> {
  const r = await promisify(execFile)(process.execPath, ["--conditions=development", "--import", "tsx", join(ROOT, script)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    timeout: 240_000,
  });
  const out = r.stdout;
  return { out, num: (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN) };
}

// A short form of bench/cluster (the figures come from a full run): two engine processes behind
// HAProxy on their own PostgreSQL and Redis, clients cut at random and resuming on any node, Redis
// crashing (history lost) and PostgreSQL restarting under the load. Nothing acknowledged is lost, no
// stream seq repeats or skips, every failed send failed with a typed retryable error and was retried.
describe.skipIf(!ready || !pgServer)("bench/cluster (smoke)", () => {
  it("forced disconnects, a Redis crash and a PostgreSQL restart across two nodes: every acknowledged message reaches every member", async () => {
    const { out, num } = await run({
      CLUSTER_NODES: "2",
      CLUSTER_GROUPS: "3",
      CLUSTER_GROUP_SIZE: "4",
      CLUSTER_SECONDS: "10",
      CLUSTER_SEND_MS: "300",
      CLUSTER_DROPS: "60",
      CLUSTER_KILL_EVERY_S: "0",
      CLUSTER_RESTART_REDIS_AT_S: "3",
      CLUSTER_RESTART_PG_AT_S: "6",
      CLUSTER_DOWN_MS: "1000",
    });
    expect(out, out).toMatch(/^cluster: 2 nodes behind HAProxy, 12 clients/m);
    expect(out, out).toMatch(/Redis \(crash\) back/);
    expect(out, out).toMatch(/PostgreSQL back/);
    expect(num(/acknowledged : (\d+)/), out).toBeGreaterThan(0);
    expect(num(/(\d+) sends gave up/), out).toBe(0);
    expect(num(/untyped: (\d+)/), out).toBe(0);
    expect(num(/lost\s+: (\d+)/), out).toBe(0);
    expect(num(/duplicated\s+: (\d+) stream seq/), out).toBe(0);
    expect(num(/stream gaps\s+: (\d+)/), out).toBe(0);
    expect(num(/resumes\s+: (\d+)/), out).toBeGreaterThan(0);
    // The crash lost every stream's history: the clients were told so (and re-read), never silently skipped.
    expect(num(/resyncs: (\d+)/), out).toBeGreaterThan(0);
  }, 300_000);

  it("sockets: idle authenticated sockets on two nodes, one event to all of them through the bus", async () => {
    const { out } = await run(
      { SOCKETS_TOTAL: "600", SOCKETS_NODES: "2", SOCKETS_PER_PROC: "300", SOCKETS_IDLE_S: "2" },
      "bench/cluster/sockets.ts",
    );
    expect(out, out).toMatch(/handshakes: 600 of 600 sockets authenticated/);
    expect(out, out).toMatch(/one event to all : 600 of 600 sockets got it/);
    // Each node receives from Redis one message per event it delivers: its own users' only.
    const perEvent = [...out.matchAll(/node \d+: \d+ B, ([\d.]+) msgs/g)].map((m) => Number(m[1]));
    expect(perEvent, out).toEqual([1, 1]);
  }, 300_000);
});
