import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));

/** Runs one bench with tiny sizes and returns its stdout (the figures come from a full run, never from here). */
async function bench(path: string, env: Record<string, string>): Promise<string> {
  const r = await promisify(execFile)(process.execPath, ["--conditions=development", "--import", "tsx", join(ROOT, path)], {
    cwd: ROOT,
    env: { ...process.env, BENCH_ROUNDS: "1", ...env },
    timeout: 180_000,
    maxBuffer: 4 * 2 ** 20,
  });
  return r.stdout;
}

/** The number in "<name>: 1,234 <unit>" on the line that starts with `name`. */
function figure(out: string, name: string, unit: string): number {
  const line = out.split("\n").find((l) => l.trim().startsWith(name)) ?? "";
  const m = new RegExp(`: ([\\d,.]+) ?${unit}`).exec(line);
  expect(m, `a figure for ${name} in:\n${out}`).not.toBeNull();
  return Number(m?.[1]?.replaceAll(",", ""));
}

// A short smoke of every bench in bench/ (a few seconds each, no thresholds): each target connects,
// gets its deliveries, and the run prints its figures and ratios and exits by itself. Benches cannot rot.
describe("benches (smoke)", () => {
  it("bench/rooms: the room, the user streams and Socket.IO in one run", async () => {
    const out = await bench("bench/rooms/run.ts", { BENCH_MEMBERS: "20", BENCH_SECONDS: "1", BENCH_IN_FLIGHT: "2" });
    expect(out.split("\n")[0]).toMatch(/^rooms: 20 members in one room/);
    for (const name of ["engine room", "engine user streams", "Socket.IO room"]) {
      expect(figure(out, name, "deliveries/s")).toBeGreaterThan(0);
    }
    expect(out).toMatch(/room \/ user streams : [\d.]+ per server CPU-second/);
    expect(out).toMatch(/room \/ Socket\.IO\s+: [\d.]+ per server CPU-second/);
  }, 200_000);

  it("bench/fanout: the engine, bare ws, Socket.IO (and Centrifugo when built) in one run", async () => {
    const out = await bench("bench/fanout/run.ts", {
      BENCH_USERS: "20",
      BENCH_SECONDS: "1",
      BENCH_IN_FLIGHT: "2",
      BENCH_CENTRIFUGO: "if-installed",
    });
    for (const name of ["UTD engine", "bare ws broadcast", "Socket.IO 4 room"]) {
      expect(figure(out, name, "deliveries/s")).toBeGreaterThan(0);
    }
    expect(out).toMatch(/engine \/ bare ws broadcast\s*: [\d.]+ per server CPU-second/);
    expect(out).toMatch(/engine \/ Socket\.IO 4 room\s*: [\d.]+ per server CPU-second/);
    if (/Centrifugo v6\s+: not measured/.test(out)) {
      console.warn(`bench/fanout smoke: Centrifugo not measured (build it with bench/fanout/centrifugo-install.sh)\n${out}`);
    } else {
      expect(figure(out, "Centrifugo v6", "deliveries/s")).toBeGreaterThan(0);
    }
  }, 200_000);

  it("bench/chat: engine and baseline, over the socket and REST, full speed and fixed rate", async () => {
    const out = await bench("bench/chat/run.ts", {
      BENCH_MEMBERS: "5",
      BENCH_SENDERS: "2",
      BENCH_PER_SENDER: "5",
      BENCH_RATE: "20",
      BENCH_RATE_SECONDS: "0.5",
      BENCH_STORES: "sqlite",
    });
    for (const path of ["socket", "REST"]) {
      for (const mode of ["full speed", "fixed 20 msgs/s"]) {
        expect(out, out).toContain(`chat sqlite, over the ${path}, ${mode}`);
      }
    }
    // Every message reached every other member on both servers.
    const delivered = [...out.matchAll(/\((\d+)\/(\d+)\)/g)];
    expect(delivered.length).toBe(8);
    for (const m of delivered) expect(m[1]).toBe(m[2]);
    expect(out).toMatch(/engine\/baseline: [\d.]+ msgs\/s/);
  }, 200_000);

  it("bench/conn: handshakes, idle memory per socket, reconnect storm", async () => {
    const out = await bench("bench/conn/run.ts", { BENCH_SOCKETS: "30", BENCH_HANDSHAKES: "20", BENCH_PEERS: "bare" });
    expect(figure(out, "engine hello→welcome", "/s")).toBeGreaterThan(0);
    expect(out).toMatch(/engine\/bare\s+: [\d.]+ per server CPU-second/);
    expect(out).toMatch(/UTD engine \(hello'd\)\s*: heap -?[\d.]+ KB/);
    expect(out).toMatch(/\(30\/30 got it\); resumed:false 0, resync_required 0/);
  }, 200_000);

  it("bench/chat/raw-sqlite.mjs: what the disk allows", async () => {
    const r = await promisify(execFile)(process.execPath, [join(ROOT, "bench/chat/raw-sqlite.mjs")], { cwd: ROOT, timeout: 60_000 });
    expect(r.stdout).toMatch(/synchronous=FULL: \d+ single-row transactions\/s; \d+ rows\/s in groups of 20/);
  }, 90_000);
});
