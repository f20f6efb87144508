/**
 * Node drain benchmark: how hard a node's clients hit the survivors when it stops. Three engine nodes
 * behind HAProxy (deploy/haproxy.cfg, test/helpers/cluster.ts), `BENCH_CLIENTS` SDK clients through the
 * balancer. Node 1 stops with no drain (`UTD_SHUTDOWN_DRAIN_S=0`: every socket closed at once with 1001,
 * the SDK's ordinary backoff); node 2, after a rebalance, stops with a drain of `BENCH_DRAIN_S` (sockets
 * closed with 4503 spread over it, the SDK reconnecting at once with jitter). For each: how many clients
 * moved, over how long, and the peak reconnects the survivors took in any 250 ms.
 *
 * Run: `node --conditions=development --import tsx bench/cluster/drain.ts`
 * Env: BENCH_CLIENTS (150), BENCH_DRAIN_S (5). Needs PostgreSQL, Redis and HAProxy (skips otherwise).
 */
import { UTDSignalClient, type WebSocketConstructor } from "@utd-stream/signaling";
import WebSocket from "ws";
import { startCluster } from "../../test/helpers/cluster.js";

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 150);
const DRAIN_S = Number(process.env.BENCH_DRAIN_S ?? 5);
const WINDOW_MS = 250;

const cluster = await startCluster({
  what: "drain bench",
  env: {
    UTD_SHUTDOWN_UNREADY_S: "3",
    UTD_RATE_SESSION_APP: "100000/100000",
    UTD_RATE_REQUESTS_APP: "100000/100000",
  },
  nodeEnv: (i) => ({ UTD_SHUTDOWN_DRAIN_S: i === 1 ? String(DRAIN_S) : "0" }),
});
if (!cluster) process.exit(0);
const c = cluster;

const app = await c.createApp({ plan: "pro" });
const clients: { sdk: UTDSignalClient; welcomes: number[] }[] = [];
for (let i = 0; i < CLIENTS; i++) {
  const s = await c.session(app, `drain-${i}`);
  const sdk = new UTDSignalClient({ url: c.wsUrl, token: () => s.user_token, WebSocket: WebSocket as unknown as WebSocketConstructor });
  const welcomes: number[] = [];
  sdk.on("welcome", () => welcomes.push(Date.now()));
  sdk.connect();
  clients.push({ sdk, welcomes });
}
const until = async (pred: () => Promise<boolean> | boolean, what: string) => {
  const deadline = Date.now() + 60_000;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};
const allConnected = () => clients.every((x) => x.sdk.state.value === "connected");
await until(allConnected, "clients connected");

/** SIGTERMs node `i`, waits until every client is connected again, and reports the reconnect curve. */
async function stopNode(i: number, label: string): Promise<string> {
  const onNode = (await c.metric(i, "utd_ws_connections")) ?? 0;
  const node = c.nodes[i];
  if (!node) throw new Error(`no node ${i}`);
  const t0 = Date.now();
  const exited = new Promise<number>((ok) => node.proc.once("exit", () => ok(Date.now())));
  node.proc.kill("SIGTERM");
  const exitAt = await exited;
  await until(allConnected, "clients reconnected");
  const times = clients.flatMap((x) => x.welcomes.filter((t) => t > t0)).sort((a, b) => a - b);
  let peak = 0;
  for (let a = 0, b = 0; b < times.length; b++) {
    while ((times[b] as number) - (times[a] as number) >= WINDOW_MS) a++;
    peak = Math.max(peak, b - a + 1);
  }
  const first = (times[0] ?? t0) - t0;
  const last = (times[times.length - 1] ?? t0) - t0;
  return `${label}: ${onNode} sockets moved (${times.length} reconnects) between +${first} ms and +${last} ms after SIGTERM; peak ${peak} reconnects in ${WINDOW_MS} ms; node exited after ${exitAt - t0} ms`;
}

const lines: string[] = [];
lines.push(await stopNode(0, "no drain (UTD_SHUTDOWN_DRAIN_S=0)"));
// Rebalance over the three nodes again.
await c.restart(0);
for (const x of clients) x.sdk.reconnect();
await until(allConnected, "rebalanced");
await new Promise((r) => setTimeout(r, 500));
lines.push(await stopNode(1, `drain ${DRAIN_S} s (UTD_SHUTDOWN_DRAIN_S=${DRAIN_S})`));

for (const x of clients) x.sdk.disconnect();
await c.stop();
process.stdout.write(`\n[drain bench] ${CLIENTS} clients over 3 nodes behind HAProxy, UTD_SHUTDOWN_UNREADY_S=3\n`);
for (const l of lines) process.stdout.write(`  ${l}\n`);
process.exit(0);
