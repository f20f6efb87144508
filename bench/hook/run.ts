/**
 * Before-send hook benchmark: what a synchronous hook that answers `allow` (on loopback) adds to
 * send→deliver latency.
 *
 * One engine (SQLite), two apps: one without a hook, one whose before-send hook is a small HTTP server in
 * this process answering `{"action":"allow"}`. In each app Alice sends to Bob, who holds a WebSocket;
 * rounds alternate between the apps so both see the same machine. It prints p50 / p99 send→deliver (ms,
 * from just before the POST to Bob's `message.new` frame) for each app and the difference.
 *
 * Run: `node --conditions=development --import tsx bench/hook/run.ts`
 * Env: BENCH_ROUNDS (20), BENCH_PER_ROUND (25), BENCH_CONCURRENCY (1).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import WebSocket from "ws";
import { type RunningEngine, startEngine } from "../../test/helpers/engine.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const PER_ROUND = Number(process.env.BENCH_PER_ROUND ?? 25);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 1);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function hookServer(): Promise<{ url: string; calls: () => number; close(): Promise<void> }> {
  let calls = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      calls++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"action":"allow"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/before-send`,
    calls: () => calls,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

interface Lane {
  label: string;
  send(n: number): Promise<number[]>;
  close(): void;
}

async function lane(engine: RunningEngine, label: string, hookUrl: string | undefined): Promise<Lane> {
  const app = await engine.createApp({ plan: "pro" });
  if (hookUrl) {
    const r = await engine.admin("PUT", `/admin/v1/apps/${app.app_id}/hooks/before-send`, { url: hookUrl, policy: "fail_closed" });
    if (r.status !== 200) throw new Error(`set hook: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const alice = (await engine.session(app, "alice")).user_token;
  const bob = (await engine.session(app, "bob")).user_token;
  const conv = (
    await engine.request<{ id: string }>("POST", "/api/v1/conversations", { token: alice, body: { kind: "direct", members: ["bob"] } })
  ).body.id;
  const waiting = new Map<string, (t: number) => void>();
  const ws = new WebSocket(engine.wsUrl);
  await new Promise<void>((res, rej) => {
    ws.once("open", () => res());
    ws.once("error", rej);
  });
  await new Promise<void>((res) => {
    ws.on("message", (d) => {
      const f = JSON.parse(d.toString()) as { type: string; data?: { client_msg_id?: string } };
      if (f.type === "welcome") res();
      if (f.type === "message.new" && f.data?.client_msg_id) waiting.get(f.data.client_msg_id)?.(performance.now());
    });
    ws.send(JSON.stringify({ type: "hello", token: bob }));
  });
  let seq = 0;
  const one = async (): Promise<number> => {
    const id = `${label}-${seq++}`;
    const delivered = new Promise<number>((r) => waiting.set(id, r));
    const t0 = performance.now();
    const res = await engine.request("POST", `/api/v1/conversations/${conv}/messages`, {
      token: alice,
      body: { client_msg_id: id, text: "hello" },
    });
    if (res.status !== 201) throw new Error(`send: ${res.status} ${JSON.stringify(res.body)}`);
    const t1 = await delivered;
    waiting.delete(id);
    return t1 - t0;
  };
  return {
    label,
    async send(n) {
      const out: number[] = [];
      let left = n;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (left > 0) {
            left--;
            out.push(await one());
          }
        }),
      );
      return out;
    },
    close: () => ws.close(),
  };
}

const hook = await hookServer();
const engine = await startEngine({
  env: {
    UTD_WEBHOOK_ALLOW_NETWORKS: "loopback",
    UTD_RATE_REQUESTS_USER: "1000000/1000000",
    UTD_RATE_REQUESTS_APP: "1000000/1000000",
    UTD_RATE_SESSION_IDENTITY: "1000000/1000000",
    UTD_RATE_SESSION_APP: "1000000/1000000",
  },
});
try {
  const plain = await lane(engine, "no-hook", undefined);
  const hooked = await lane(engine, "allow-hook", hook.url);
  // Warm-up (JIT, connections, the hook cache).
  await plain.send(20);
  await hooked.send(20);
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    a.push(...(await plain.send(PER_ROUND)));
    b.push(...(await hooked.send(PER_ROUND)));
  }
  a.sort((x, y) => x - y);
  b.sort((x, y) => x - y);
  const f = (n: number) => n.toFixed(2);
  console.log(`before-send hook, send→deliver over REST + WebSocket, SQLite, ${a.length} messages each, concurrency ${CONCURRENCY}:`);
  console.log(`  without hook:             p50 ${f(pct(a, 50))} ms   p99 ${f(pct(a, 99))} ms`);
  console.log(`  with loopback allow hook: p50 ${f(pct(b, 50))} ms   p99 ${f(pct(b, 99))} ms   (hook called ${hook.calls()} times)`);
  console.log(
    `  cost of the hook:         p50 +${f(pct(b, 50) - pct(a, 50))} ms   p99 +${f(pct(b, 99) - pct(a, 99))} ms   (p50 ratio ${(pct(b, 50) / pct(a, 50)).toFixed(2)} ×)`,
  );
  plain.close();
  hooked.close();
} finally {
  await engine.stop();
  await hook.close();
}
