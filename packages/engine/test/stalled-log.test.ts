import { describe, expect, it } from "vitest";
import { startEngine } from "../../../test/helpers/engine.js";

/**
 * A stalled log consumer never costs liveness (issue 15): the engine's stdout goes to a pipe nobody
 * reads after the ready line (or whose reader is gone). Under load the engine keeps answering, drops log
 * lines (counted in `utd_log_lines_dropped_total`) and still exits cleanly on SIGTERM, within its drain
 * period plus the margin (a clean exit code 0, not the watchdog's SIGKILL).
 */
describe("a log reader that stops reading", () => {
  const drainS = 2;

  async function scenario(reader: "stalled" | "gone") {
    const engine = await startEngine({
      ...(reader === "stalled" ? { stallStdout: true } : { closeStdout: true }),
      env: {
        UTD_LOG_LEVEL: "info",
        // A small bound so the test fills it with a few hundred requests (the default is 4 MiB).
        UTD_LOG_BUFFER_BYTES: "16384",
        UTD_RATE_REQUESTS_USER: "100000/100000",
        UTD_SHUTDOWN_UNREADY_S: "1",
        UTD_SHUTDOWN_DRAIN_S: String(drainS),
      },
    });
    const app = await engine.createApp();
    const s = await engine.session(app, "alice");
    // Load: authenticated REST requests, 16 at a time; every one logs (request + response lines).
    const statuses = new Map<number, number>();
    const hit = async () => {
      const r = await engine.request("GET", "/api/v1/presence?identities=bob", { token: s.user_token });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    };
    const dropped = async () => {
      const r = await engine.request<string>("GET", "/metrics", { token: engine.adminToken });
      const m = /^utd_log_lines_dropped_total (\d+)/m.exec(r.body);
      return Number(m?.[1] ?? -1);
    };
    let rounds = 0;
    // Until lines are being dropped (the pipe and both buffers are full), and some more after that.
    let extra = 5;
    while (extra > 0 && rounds < 400) {
      await Promise.all(Array.from({ length: 16 }, hit));
      rounds++;
      if ((await dropped()) > 0) extra--;
    }
    expect(await dropped()).toBeGreaterThan(0);
    expect([...statuses.keys()]).toEqual([200]);
    // Still answering, also health and readiness.
    expect((await engine.request("GET", "/healthz")).status).toBe(200);
    expect((await engine.request("GET", "/readyz")).status).toBe(200);
    // The exit: a clean one (0), not the watchdog's kill, and within unready + drain + margin.
    const t0 = Date.now();
    engine.proc.kill("SIGTERM");
    // /readyz fails (a balancer probed it above: the node waits UTD_SHUTDOWN_UNREADY_S), REST still answers.
    let ready = 200;
    for (let i = 0; i < 50 && ready === 200; i++) {
      ready = (await engine.request("GET", "/readyz")).status;
      if (ready === 200) await new Promise((r) => setTimeout(r, 20));
    }
    expect(ready).toBe(503);
    expect((await engine.request("GET", "/healthz")).status).toBe(200);
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => {
      if (engine.proc.exitCode !== null || engine.proc.signalCode !== null)
        r({ code: engine.proc.exitCode, signal: engine.proc.signalCode });
      else engine.proc.once("exit", (code, signal) => r({ code, signal }));
    });
    const took = (Date.now() - t0) / 1000;
    process.stderr.write(`\n[log reader ${reader}] ${rounds * 16} requests, all answered; exit after SIGTERM: ${took.toFixed(1)} s\n`);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(took).toBeLessThan(1 + drainS + 10);
  }

  it("stalled (a paused pipe): keeps serving under load, counts dropped lines, exits on SIGTERM", () => scenario("stalled"));
  it("gone (the read end closed, EPIPE): keeps serving under load, counts dropped lines, exits on SIGTERM", () => scenario("gone"));
});
