/**
 * Fan-out benchmark: N connected users, each publish goes to all N (a server-side publish over HTTP).
 * Four servers in one run, driven the same way (`BENCH_IN_FLIGHT` publishes at a time, the same data,
 * the same number of users), measured in alternating rounds:
 *
 * 1. the UTD engine — `POST /admin/v1/apps/{id}/events` naming the N identities (per-user streams);
 * 2. a bare `ws` broadcast server (bare-server.mjs: parse, encode once, send to every socket);
 * 3. Socket.IO 4 — a room broadcast (bench/lib/socketio-server.mjs), received with socket.io-client;
 * 4. Centrifugo v6 — built by centrifugo-install.sh, HTTP API publish to one channel, received with the
 *    `centrifuge` npm client (JWT-authenticated, subscribed to the channel). Skipped, with the
 *    installer's error quoted, when it cannot be built; `BENCH_CENTRIFUGO=off` skips it on purpose,
 *    `BENCH_CENTRIFUGO=if-installed` uses it only when already built (the CI smoke).
 *
 * Prints deliveries per second (wall) and per second of server CPU for each, and the engine's ratios.
 * The clients run in this process on the same (small, shared) machine, so wall-clock rates mostly
 * measure how fast they can read: the figure to compare is the one per server CPU-second.
 *
 * Run: `node --conditions=development --import tsx bench/fanout/run.ts`
 * Env: BENCH_USERS (1000), BENCH_SECONDS (5), BENCH_IN_FLIGHT (4), BENCH_ROUNDS (2; alternating, best
 * round of each kept), BENCH_CENTRIFUGO (on|off|if-installed), BENCH_ENGINE_NODE_OPTIONS (e.g. --cpu-prof).
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEngine } from "../../test/helpers/engine.js";
import { type CentrifugoPeer, installCentrifugo, startCentrifugo } from "../lib/centrifugo.js";
import {
  alternate,
  engineBenchEnv,
  engineHello,
  engineNodeArgs,
  type FanoutTarget,
  fmt,
  inBatches,
  machineLine,
  openSocket,
  post,
  type Rate,
  ratio,
  socketIoReceivers,
  spawnPeer,
} from "../lib/load.js";

const USERS = Number(process.env.BENCH_USERS ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const DATA = { text: "x".repeat(120), n: 0, from: "bench" };
const HERE = dirname(fileURLToPath(import.meta.url));

const engine = await startEngine({ env: engineBenchEnv(), nodeArgs: engineNodeArgs() });
const bare = await spawnPeer(join(HERE, "bare-server.mjs"), [], {
  nodeArgs: process.env.BENCH_BARE_NODE_ARGS ? process.env.BENCH_BARE_NODE_ARGS.split(" ") : [],
});
const sio = await spawnPeer(join(HERE, "../lib/socketio-server.mjs"));
let centrifugo: CentrifugoPeer | undefined;
let centrifugoMissing: string | undefined;
if (process.env.BENCH_CENTRIFUGO !== "off") {
  const installed = installCentrifugo({ build: process.env.BENCH_CENTRIFUGO !== "if-installed" });
  if ("bin" in installed) centrifugo = await startCentrifugo(installed.bin);
  else centrifugoMissing = installed.error;
} else centrifugoMissing = "skipped (BENCH_CENTRIFUGO=off)";
try {
  const app = await engine.createApp({ plan: "enterprise" });
  const identities = Array.from({ length: USERS }, (_, i) => `u${i}`);
  const tokens = await inBatches(USERS, 50, async (i) => (await engine.session(app, identities[i] as string)).user_token);
  const body = JSON.stringify({ identities, type: "custom.bench", data: DATA });
  const roomBody = JSON.stringify({ data: DATA });
  const settleMs = Math.min(2000, 200 + USERS / 5);

  const bareTarget: FanoutTarget = {
    name: "bare ws broadcast",
    pids: [bare.proc.pid as number],
    async connect(on) {
      const sockets = await inBatches(USERS, 100, async () => {
        const ws = await openSocket(`ws://127.0.0.1:${bare.port}`);
        ws.on("message", on);
        return ws;
      });
      return () => {
        for (const ws of sockets) ws.terminate();
      };
    },
    publish: async () => {
      await post(`http://127.0.0.1:${bare.port}/publish`, body);
    },
  };
  const engineTarget: FanoutTarget = {
    name: "UTD engine",
    pids: [engine.proc.pid as number],
    async connect(on) {
      const sockets = await inBatches(USERS, 100, async (i) => (await engineHello(engine.wsUrl, tokens[i] as string, on)).ws);
      return () => {
        for (const ws of sockets) ws.terminate();
      };
    },
    publish: async () => {
      await post(`${engine.url}/admin/v1/apps/${app.app_id}/events`, body, { authorization: `Bearer ${engine.adminToken}` });
    },
  };
  const sioTarget: FanoutTarget = {
    name: "Socket.IO 4 room",
    pids: [sio.proc.pid as number],
    connect: (on) => socketIoReceivers(sio.port, USERS, on),
    publish: async () => {
      await post(`http://127.0.0.1:${sio.port}/publish`, roomBody);
    },
  };
  const targets = [engineTarget, bareTarget, sioTarget];
  if (centrifugo) {
    const c = centrifugo;
    const channelBody = JSON.stringify({ channel: "bench", data: DATA });
    targets.push({
      name: "Centrifugo v6",
      pids: [c.proc.pid as number],
      connect: (on) => c.receivers(USERS, "bench", on),
      publish: () => c.publishRaw(channelBody),
    });
  }
  const results = await alternate(targets, ROUNDS, { seconds: SECONDS, inFlight: IN_FLIGHT, settleMs });
  const r = (name: string) => results.get(name) as Rate;
  console.log(
    `fanout: ${USERS} users, ${IN_FLIGHT} publishes in flight, best of ${ROUNDS} × ${SECONDS}s (alternating), ${JSON.stringify(DATA).length}-byte data`,
  );
  console.log(`  ${machineLine()}`);
  for (const t of targets) {
    const x = r(t.name);
    console.log(`  ${t.name.padEnd(18)}: ${fmt(x.perS)} deliveries/s, ${fmt(x.perCpuS)} per server CPU-second`);
  }
  if (centrifugoMissing) console.log(`  Centrifugo v6     : not measured — ${centrifugoMissing.replaceAll("\n", " | ")}`);
  for (const t of targets.slice(1)) {
    console.log(`  engine / ${t.name.padEnd(18)}: ${ratio(r(engineTarget.name), r(t.name))}`);
  }
} finally {
  bare.proc.kill("SIGTERM");
  sio.proc.kill("SIGTERM");
  await centrifugo?.stop();
  await engine.stop();
}
