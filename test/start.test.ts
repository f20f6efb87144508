import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { has, LIVEKIT_CACHE, LIVEKIT_VERSION } from "./helpers/backends.js";
import { startLiveKit } from "./helpers/livekit.js";
import { freePort, freePorts, freeUdpPort } from "./helpers/net.js";

// `npm start` (scripts/start.mjs) owns what it starts: Ctrl-C stops the LiveKit it started, and leaves
// alone one it found running. Runs the built engine (packages/engine/bin/utd.js → dist: `npm run build`).
const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2];
    return stat !== "Z" && stat !== "X";
  } catch {
    return false;
  }
};

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, ms = 60_000) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Started {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  pidFile: string;
}

/** Runs `node scripts/start.mjs` with LiveKit and the engine on ports from the OS; resolves when the engine answers. */
async function npmStart(ports: { engine: number; livekit: number; tcp: number; udp: number }): Promise<Started> {
  const dataDir = mkdtempSync(join(tmpdir(), "utd-start-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    UTD_PORT: String(ports.engine),
    UTD_HOST: "127.0.0.1",
    UTD_DATA_DIR: dataDir,
    UTD_LIVEKIT_CACHE: LIVEKIT_CACHE,
    UTD_LIVEKIT_VERSION: LIVEKIT_VERSION,
    LIVEKIT_PORT: String(ports.livekit),
    LIVEKIT_RTC_TCP_PORT: String(ports.tcp),
    LIVEKIT_RTC_UDP_PORT: String(ports.udp),
  };
  for (const k of ["LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET", "UTD_ADMIN_TOKEN", "DATABASE_URL"]) delete env[k];
  const proc = spawn(process.execPath, [join(ROOT, "scripts/start.mjs")], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  proc.stderr?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  cleanups.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGKILL");
      await exited;
    }
  });
  await waitFor("the engine to answer", async () => {
    if (proc.exitCode !== null) throw new Error(`npm start exited early:\n${out}`);
    return fetch(`http://127.0.0.1:${ports.engine}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
  });
  return { proc, output: () => out, exited, pidFile: join(LIVEKIT_CACHE, "run", String(ports.livekit), "livekit.pid") };
}

describe.skipIf(!(await has("livekit", "npm start LiveKit tests")))("npm start (scripts/start.mjs) and LiveKit", () => {
  it("stops the LiveKit it started when interrupted", async () => {
    const [engine, livekit, tcp] = (await freePorts(3)) as [number, number, number];
    const udp = await freeUdpPort();
    cleanups.push(() => rmSync(join(LIVEKIT_CACHE, "run", String(livekit)), { recursive: true, force: true }));
    const s = await npmStart({ engine, livekit, tcp, udp });
    expect(existsSync(s.pidFile)).toBe(true);
    const pid = Number(readFileSync(s.pidFile, "utf8").trim());
    expect(alive(pid)).toBe(true);
    s.proc.kill("SIGINT");
    expect(await s.exited).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(existsSync(s.pidFile)).toBe(false);
    expect(s.output()).toContain("stopping the LiveKit it started");
  });

  it("leaves alone a LiveKit it found running", async () => {
    const engine = await freePort();
    const lk = await startLiveKit(`http://127.0.0.1:${engine}/api/v1/livekit/webhook`);
    if (!lk) return;
    cleanups.push(() => lk.stop());
    const pidFile = join(LIVEKIT_CACHE, "run", String(lk.port), "livekit.pid");
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    const s = await npmStart({ engine, livekit: lk.port, tcp: lk.rtcTcpPort, udp: lk.rtcUdpPort });
    expect(s.output()).toContain("reusing running LiveKit");
    s.proc.kill("SIGINT");
    expect(await s.exited).toBe(0);
    expect(alive(pid)).toBe(true);
    expect(s.output()).toContain("left running on exit");
  });
});
