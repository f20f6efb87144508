import { UTDSignalClient, type WebSocketConstructor } from "@utd-stream/signaling";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Cluster, startCluster } from "../helpers/cluster.js";
import type { TestApp } from "../helpers/engine.js";

/**
 * Three engine nodes behind a real HAProxy running deploy/haproxy.cfg (round-robin, no stickiness,
 * health checks on /readyz): REST and WebSocket through the balancer; a node killed with SIGKILL is
 * taken out and its clients reconnect to the others; a node given SIGTERM fails /readyz, moves its
 * clients away spread over its drain period, fails no request, and exits within drain + margin.
 */
const UNREADY_S = 3;
const DRAIN_S = 4;

const cluster = await startCluster({
  what: "cluster tests (HAProxy + PostgreSQL + Redis)",
  env: {
    UTD_SHUTDOWN_UNREADY_S: String(UNREADY_S),
    UTD_SHUTDOWN_DRAIN_S: String(DRAIN_S),
    // Load from one address through one balancer: per-user budgets only.
    UTD_RATE_REQUESTS_USER: "100000/100000",
    UTD_RATE_REQUESTS_APP: "100000/100000",
    UTD_RATE_SESSION_APP: "100000/100000",
  },
});

/** An SDK client through the balancer that records its close codes and welcomes. */
interface Client {
  identity: string;
  sdk: UTDSignalClient;
  closes: { code: number; at: number }[];
  welcomes: number;
}

describe.skipIf(!cluster)("three engine nodes behind HAProxy", () => {
  const c = cluster as Cluster;
  let app: TestApp;
  const clients: Client[] = [];

  beforeAll(async () => {
    app = await c.createApp({ plan: "pro" });
  });
  afterAll(async () => {
    for (const x of clients) x.sdk.disconnect();
    await c.stop();
  });

  async function connect(identity: string): Promise<Client> {
    const s = await c.session(app, identity);
    const closes: Client["closes"] = [];
    // ws's WebSocket, recording every close the SDK sees.
    class Traced extends WebSocket {
      constructor(url: string) {
        super(url);
        this.addEventListener("close", (e) => closes.push({ code: e.code, at: Date.now() }));
      }
    }
    const sdk = new UTDSignalClient({
      url: c.wsUrl,
      token: () => s.user_token,
      WebSocket: Traced as unknown as WebSocketConstructor,
      backoff: { initialMs: 200, maxMs: 2000 },
    });
    const client: Client = { identity, sdk, closes, welcomes: 0 };
    sdk.on("welcome", () => {
      client.welcomes++;
    });
    const up = new Promise<void>((ok) => sdk.on("welcome", () => ok()));
    sdk.connect();
    await up;
    clients.push(client);
    return client;
  }

  const perNode = async () => Promise.all(c.nodes.map((_, i) => c.metric(i, "utd_ws_connections")));
  async function until(pred: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await pred())) {
      if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** REST through the balancer from `workers` loops until stopped; every outcome is kept with its start time. */
  function restLoad(token: string, workers = 4) {
    const results: { at: number; status: number | string }[] = [];
    let on = true;
    const loops = Array.from({ length: workers }, async () => {
      while (on) {
        const at = Date.now();
        try {
          results.push({ at, status: (await c.request("GET", "/api/v1/presence?identities=nobody", { token })).status });
        } catch (err) {
          results.push({ at, status: `${(err as Error).message}: ${String((err as Error & { cause?: unknown }).cause)}` });
        }
      }
    });
    return {
      results,
      /** Outcomes other than 200 of the requests started in [from, to). */
      failures(from = 0, to = Number.POSITIVE_INFINITY) {
        return results.filter((r) => r.at >= from && r.at < to && r.status !== 200);
      },
      async stop() {
        on = false;
        await Promise.all(loops);
      },
    };
  }

  it("serves REST and WebSocket through the balancer, round-robin over every node", async () => {
    const s = await c.session(app, "lb-rest");
    for (let i = 0; i < 12; i++) {
      const r = await c.request("GET", "/api/v1/presence?identities=a", { token: s.user_token });
      expect(r.status).toBe(200);
    }
    // Every node answered some of them (no stickiness).
    const served = await Promise.all(c.nodes.map((_, i) => c.metric(i, "utd_http_requests_total")));
    for (const n of served) expect(n).toBeGreaterThan(0);
    // Nine sockets, spread over every node (round-robin: about three each).
    for (let i = 0; i < 9; i++) await connect(`lb-u${i}`);
    await until(
      async () => {
        const n = await perNode();
        return n.every((x) => (x ?? 0) > 0) && n.reduce((a, b) => (a ?? 0) + (b ?? 0), 0) === 9;
      },
      10_000,
      "sockets on every node",
    );
    // Events reach every socket through the balancer, whichever node publishes and whichever holds them.
    const got = clients.map((x) => new Promise<unknown>((ok) => x.sdk.on("event", (e) => e.type === "custom.ping" && ok(e.data))));
    const pub = await c.request("POST", `/admin/v1/apps/${app.app_id}/events`, {
      token: c.adminToken,
      body: { identities: clients.map((x) => x.identity), type: "custom.ping", data: { n: 1 } },
    });
    expect(pub.status).toBe(200);
    expect(await Promise.all(got)).toEqual(clients.map(() => ({ n: 1 })));
  });

  it("a resume through the balancer that lands on another node replays the gap: no resync_required", async () => {
    const s = await c.session(app, "lb-roamer");
    type F = { type: string; seq?: number; epoch?: string; resumed?: boolean; data?: { n?: number } };
    /** A raw socket through the balancer: hello (with `resume`), its frames, and the node it landed on. */
    const open = async (resume?: { epoch: string; seq: number }) => {
      const before = await perNode();
      const ws = new WebSocket(c.wsUrl);
      const frames: F[] = [];
      ws.on("message", (d) => frames.push(JSON.parse(d.toString()) as F));
      await new Promise((ok, fail) => {
        ws.once("open", ok);
        ws.once("error", fail);
      });
      ws.send(JSON.stringify({ type: "hello", token: s.user_token, ...(resume ? { resume } : {}) }));
      await until(() => frames.some((f) => f.type === "welcome"), 10_000, "welcome");
      let node = -1;
      await until(
        async () => {
          const after = await perNode();
          node = after.findIndex((x, i) => (x ?? 0) > (before[i] ?? 0));
          return node >= 0;
        },
        10_000,
        "the socket's node",
      );
      return { ws, frames, node, before };
    };
    const publish = async (n: number) =>
      expect(
        (
          await c.request("POST", `/admin/v1/apps/${app.app_id}/events`, {
            token: c.adminToken,
            body: { identities: ["lb-roamer"], type: "custom.n", data: { n } },
          })
        ).status,
      ).toBe(200);
    const first = await open();
    const epoch = first.frames.find((f) => f.type === "welcome")?.epoch as string;
    await publish(1);
    await publish(2);
    await until(() => first.frames.some((f) => f.seq === 2), 10_000, "seq 2 on the first socket");
    /** Closes a socket and waits until the nodes count what they counted before it opened. */
    const close = async (x: { ws: WebSocket; before: (number | undefined)[] }) => {
      x.ws.close();
      await until(async () => JSON.stringify(await perNode()) === JSON.stringify(x.before), 10_000, "the socket closed");
    };
    await close(first);
    for (let n = 3; n <= 5; n++) await publish(n);
    // Round-robin sends the next sockets elsewhere; each resume replays 3..5, whichever node it reaches.
    const nodes: number[] = [];
    for (let attempt = 0; attempt < 3 && !nodes.some((x) => x !== first.node); attempt++) {
      const again = await open({ epoch, seq: 2 });
      nodes.push(again.node);
      await until(() => again.frames.some((f) => f.seq === 5), 10_000, "the replay");
      expect(again.frames.find((f) => f.type === "welcome")).toMatchObject({ resumed: true, epoch, seq: 2 });
      expect(again.frames.filter((f) => f.type === "custom.n").map((f) => [f.seq, f.data?.n])).toEqual([
        [3, 3],
        [4, 4],
        [5, 5],
      ]);
      expect(again.frames.some((f) => f.type === "resync_required")).toBe(false);
      await close(again);
    }
    expect(nodes.some((x) => x !== first.node)).toBe(true);
  });

  it("takes a SIGKILLed node out by health check; its clients reconnect to the others; once it is out no REST call fails", async () => {
    const before = await perNode();
    const s = await c.session(app, "lb-kill-load");
    const load = restLoad(s.user_token);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    const victim = c.nodes[1];
    if (!victim) throw new Error("no node 1");
    await victim.stop("SIGKILL");
    await c.waitForStates((st) => st[1] === "DOWN", 15_000, "engine2 DOWN");
    const downAfter = Date.now() - t0;
    // Every client is connected again, on the two survivors.
    await until(() => clients.every((x) => x.sdk.state.value === "connected"), 15_000, "every client reconnected");
    const reconnectedAfter = Date.now() - t0;
    await until(
      async () => {
        const [a, , b] = await perNode();
        return (a ?? 0) + (b ?? 0) === clients.length;
      },
      10_000,
      "all sockets on the survivors",
    );
    await new Promise((r) => setTimeout(r, 300));
    await load.stop();
    // Back: the node restarts on its port and HAProxy brings it UP again.
    await c.restart(1);
    expect(await c.states()).toEqual(["UP", "UP", "UP"]);
    const downAt = t0 + downAfter;
    const window = load.failures(0, downAt);
    process.stderr.write(
      `\n[cluster] SIGKILL: HAProxy marked the node DOWN after ${downAfter} ms; all ${clients.length} clients connected again after ${reconnectedAfter} ms; ${load.results.length} REST calls during it, ${window.length} failed before the node was marked DOWN (${window.map((f) => `+${f.at - t0} ms ${f.status}`).join("; ")})\n`,
    );
    expect(before[1]).toBeGreaterThan(0);
    // Until the health check notices, a request the dead node was processing, or one HAProxy sent on a
    // kept-alive connection to it, fails with the connection closed (a client retries such a request);
    // that is a handful (the 4 loops' requests in flight, and races right after the kill), never a
    // stream of failures: connections refused are retried on another node by HAProxy. Once the node is
    // out, every request succeeds.
    expect(window.length).toBeLessThanOrEqual(8);
    for (const f of window) expect(f.status).toMatch(/other side closed|socket hang up|terminated|^502$/);
    expect(load.failures(downAt)).toEqual([]);
  });

  it("SIGTERM: /readyz fails first, sockets move away spread over the drain period, no request fails, the node exits in time", async () => {
    // More sockets, so the spread shows: 30 in all, about ten on each node.
    for (let i = clients.length; i < 30; i++) await connect(`lb-u${i}`);
    // The restarted node got no sockets back by itself; rebalance by reconnecting everyone once.
    for (const x of clients) x.sdk.reconnect();
    await until(() => clients.every((x) => x.sdk.state.value === "connected"), 15_000, "reconnected");
    await until(async () => (await perNode()).reduce((a, b) => (a ?? 0) + (b ?? 0), 0) === clients.length, 10_000, "counted");
    const onVictim = (await perNode())[2] ?? 0;
    expect(onVictim).toBeGreaterThan(0);

    const s = await c.session(app, "lb-term-load");
    const load = restLoad(s.user_token);
    await new Promise((r) => setTimeout(r, 300));
    const victim = c.nodes[2];
    if (!victim) throw new Error("no node 2");
    const closesBefore = clients.map((x) => x.closes.length);
    const t0 = Date.now();
    const exited = new Promise<{ code: number | null; at: number }>((ok) =>
      victim.proc.once("exit", (code) => ok({ code, at: Date.now() })),
    );
    victim.proc.kill("SIGTERM");
    // HAProxy sees /readyz fail and takes the node out before any socket is closed.
    await c.waitForStates((st) => st[2] === "DOWN" || st[2]?.startsWith("DOWN") === true, (UNREADY_S + 5) * 1000, "engine3 DOWN");
    const downAt = Date.now();
    const exit = await exited;
    await until(() => clients.every((x) => x.sdk.state.value === "connected"), 15_000, "every client reconnected");
    await until(
      async () => {
        const [a, b] = await perNode();
        return (a ?? 0) + (b ?? 0) === clients.length;
      },
      10_000,
      "all sockets on the two survivors",
    );
    await new Promise((r) => setTimeout(r, 300));
    await load.stop();
    const [onA, onB] = await perNode();

    const drained = clients
      .map((x, i) => x.closes.slice(closesBefore[i]).filter((e) => e.code === 4503))
      .filter((l) => l.length > 0)
      .map((l) => (l[0] as { at: number }).at - t0)
      .sort((a, b) => a - b);
    const span = drained.length > 1 ? (drained[drained.length - 1] as number) - (drained[0] as number) : 0;
    process.stderr.write(
      `\n[cluster] SIGTERM: node DOWN in HAProxy after ${downAt - t0} ms; ${drained.length} sockets closed with 4503 from ${drained[0]} ms to ${
        drained[drained.length - 1]
      } ms (span ${span} ms, drain period ${DRAIN_S * 1000} ms); exit after ${exit.at - t0} ms with code ${exit.code}; ${
        load.results.length
      } REST calls during it; sockets now ${onA} + ${onB} on the survivors\n`,
    );
    // Every socket the node held was told to reconnect elsewhere, none before HAProxy took the node out.
    expect(drained.length).toBe(onVictim);
    expect(drained[0]).toBeGreaterThanOrEqual(downAt - t0 - 1000);
    // Spread: the closes cover most of the drain period, never a burst of all of them at once.
    expect(span).toBeGreaterThanOrEqual(DRAIN_S * 1000 * 0.5);
    // No request failed, and the process exited cleanly within unready + drain + margin.
    expect(load.failures()).toEqual([]);
    expect(exit.code).toBe(0);
    expect(exit.at - t0).toBeLessThan((UNREADY_S + DRAIN_S + 10) * 1000);
  });
});
