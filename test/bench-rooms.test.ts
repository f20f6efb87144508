import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));

// A short smoke of bench/rooms (the figures come from a full run, never from here): every target
// connects, receives broadcasts, and the run prints its figures and ratios and exits by itself.
describe("bench/rooms (smoke)", () => {
  it("measures the room, the user streams and Socket.IO in one run", async () => {
    const r = await promisify(execFile)(
      process.execPath,
      ["--conditions=development", "--import", "tsx", join(ROOT, "bench/rooms/run.ts")],
      {
        cwd: ROOT,
        env: { ...process.env, BENCH_MEMBERS: "20", BENCH_SECONDS: "1", BENCH_ROUNDS: "1", BENCH_IN_FLIGHT: "2" },
        timeout: 120_000,
      },
    );
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^rooms: 20 members in one room/);
    for (const name of ["engine room", "engine user streams", "Socket.IO room"]) {
      const line = lines.find((l) => l.trim().startsWith(name));
      const m = /: ([\d,]+) deliveries\/s, ([\d,]+) per server CPU-second/.exec(line ?? "");
      expect(m, `a figure for ${name} in:\n${r.stdout}`).not.toBeNull();
      expect(Number(m?.[1]?.replaceAll(",", ""))).toBeGreaterThan(0);
    }
    expect(lines.some((l) => /room \/ user streams : [\d.]+ per server CPU-second/.test(l))).toBe(true);
    expect(lines.some((l) => /room \/ Socket\.IO\s+: [\d.]+ per server CPU-second/.test(l))).toBe(true);
  }, 150_000);
});
