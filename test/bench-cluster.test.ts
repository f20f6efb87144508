import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { has } from "./helpers/backends.js";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const ready = (await has("postgres", "bench/cluster smoke")) && (await has("redis", "bench/cluster smoke"));

// A short form of bench/cluster (the figures come from a full run): two engine processes on PostgreSQL
// and Redis, clients cut at random and resuming on a random node; nothing is lost, duplicated or skipped.
describe.skipIf(!ready)("bench/cluster (smoke)", () => {
  it("forced disconnects across two nodes: every acknowledged message reaches every member once, by resume", async () => {
    const r = await promisify(execFile)(
      process.execPath,
      ["--conditions=development", "--import", "tsx", join(ROOT, "bench/cluster/run.ts")],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          CLUSTER_NODES: "2",
          CLUSTER_GROUPS: "3",
          CLUSTER_GROUP_SIZE: "4",
          CLUSTER_SECONDS: "3",
          CLUSTER_SEND_MS: "300",
          CLUSTER_DROPS: "30",
          CLUSTER_KILL_EVERY_S: "0",
        },
        timeout: 240_000,
      },
    );
    const out = r.stdout;
    const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN);
    expect(out, out).toMatch(/^cluster: 2 nodes, 12 clients/m);
    expect(num(/acknowledged : (\d+)/), out).toBeGreaterThan(0);
    expect(num(/lost\s+: (\d+)/), out).toBe(0);
    expect(num(/duplicated\s+: (\d+) stream seq/), out).toBe(0);
    expect(num(/stream seq, (\d+) message id/), out).toBe(0);
    expect(num(/stream gaps\s+: (\d+)/), out).toBe(0);
    expect(num(/resumes\s+: (\d+)/), out).toBeGreaterThan(0);
  }, 300_000);
});
