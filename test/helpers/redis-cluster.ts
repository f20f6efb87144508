import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePorts } from "./net.js";

const run = promisify(execFile);

/** A local Redis Cluster of three masters on loopback (no replicas, no persistence). */
export interface LocalRedisCluster {
  /** Seed nodes, as `UTD_REDIS_CLUSTER` takes them. */
  nodes: { host: string; port: number }[];
  /** `host:port,…` */
  env: string;
  stop(): Promise<void>;
}

/**
 * Starts three `redis-server --cluster-enabled yes` processes on ports (and cluster-bus ports) the OS
 * picked, joins them with `redis-cli --cluster create`, and waits until every node reports the cluster ok.
 */
export async function startRedisCluster(): Promise<LocalRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), "utd-redis-cluster-"));
  const ports = await freePorts(6);
  const procs: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((r) => {
            if (p.exitCode !== null || p.signalCode !== null) return r();
            p.once("exit", () => r());
            p.kill("SIGKILL");
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const nodes = [0, 1, 2].map((i) => ({ host: "127.0.0.1", port: ports[i] as number, bus: ports[i + 3] as number }));
    for (const n of nodes) {
      const p = spawn(
        "redis-server",
        [
          "--port",
          String(n.port),
          "--cluster-port",
          String(n.bus),
          "--bind",
          "127.0.0.1",
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          join(dir, `nodes-${n.port}.conf`),
          "--dir",
          dir,
          "--save",
          "",
          "--appendonly",
          "no",
          "--daemonize",
          "no",
        ],
        { stdio: "ignore" },
      );
      procs.push(p);
    }
    for (const n of nodes) await waitFor(async () => (await cli(n.port, "ping")).includes("PONG"), `redis-server on ${n.port}`);
    await run("redis-cli", ["--cluster", "create", ...nodes.map((n) => `127.0.0.1:${n.port}`), "--cluster-replicas", "0", "--cluster-yes"]);
    for (const n of nodes)
      await waitFor(async () => (await cli(n.port, "cluster", "info")).includes("cluster_state:ok"), `cluster ok on ${n.port}`);
    const seeds = nodes.map((n) => ({ host: n.host, port: n.port }));
    return { nodes: seeds, env: seeds.map((n) => `${n.host}:${n.port}`).join(","), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function cli(port: number, ...args: string[]): Promise<string> {
  try {
    return (await run("redis-cli", ["-p", String(port), ...args])).stdout;
  } catch {
    return "";
  }
}

async function waitFor(f: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 15_000;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
