/**
 * Signalling-room fan-out benchmark: N members in one room, each broadcast goes to all N. Three targets
 * in one run, driven the same way (HTTP publishes, `BENCH_IN_FLIGHT` at a time, same clients, same data):
 *
 * 1. the engine's signalling room — `POST /api/v1/rooms/{room}/broadcast` (app secret) to N sockets that
 *    sent `room.join`;
 * 2. the same fan-out through the engine's user streams — `POST /admin/v1/apps/{id}/events` naming the N
 *    identities (per-user seq + resume buffer);
 * 3. Socket.IO rooms (bench/lib/socketio-server.mjs, `io.to(room).emit`) with socket.io-client over WebSocket.
 *
 * Prints deliveries per second (wall) and per second of server CPU for each, and the ratios of the
 * room to the other two. The clients run in this process on the same (small, shared) machine, so the
 * figure to compare is the one per server CPU-second.
 *
 * Run: `node --conditions=development --import tsx bench/rooms/run.ts`
 * Env: BENCH_MEMBERS (1000), BENCH_SECONDS (5), BENCH_IN_FLIGHT (4), BENCH_ROUNDS (2; alternating, best round of each kept).
 * CI runs a short smoke of it (test/benches.test.ts): BENCH_MEMBERS=20 BENCH_SECONDS=1 BENCH_ROUNDS=1.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEngine } from "../../test/helpers/engine.js";
import {
  alternate,
  engineBenchEnv,
  engineHello,
  engineNodeArgs,
  type FanoutTarget,
  fmt,
  inBatches,
  machineLine,
  post,
  type Rate,
  ratio,
  socketIoReceivers,
  spawnPeer,
} from "../lib/load.js";

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const ROOM = "bench";
const DATA = { text: "x".repeat(120), n: 0, from: "bench" };
const HERE = dirname(fileURLToPath(import.meta.url));

/** Opens N engine sockets (hello; then `room.join` for each), in batches of 100. */
async function engineSockets(wsUrl: string, tokens: string[], join: boolean, onDelivery: () => void): Promise<() => void> {
  const sockets = await inBatches(tokens.length, 100, async (i) => {
    let joined: ((ok: boolean, s: string) => void) | undefined;
    const { ws } = await engineHello(wsUrl, tokens[i] as string, (s) => {
      if (s.startsWith('{"type":"reply"')) joined?.(s.includes('"ok":true'), s);
      else if (s.startsWith('{"type":"room.message"') || s.startsWith('{"type":"custom.')) onDelivery();
    });
    if (join) {
      await new Promise<void>((res, rej) => {
        joined = (ok, s) => (ok ? res() : rej(new Error(s)));
        ws.send(JSON.stringify({ type: "room.join", id: "j", room: ROOM }));
      });
    }
    return ws;
  });
  return () => {
    for (const ws of sockets) ws.terminate();
  };
}

const engine = await startEngine({ env: engineBenchEnv({ UTD_ROOMS_GRACE_S: "0" }), nodeArgs: engineNodeArgs() });
const sio = await spawnPeer(join(HERE, "../lib/socketio-server.mjs"));
try {
  const app = await engine.createApp({ plan: "enterprise" });
  const identities = Array.from({ length: MEMBERS }, (_, i) => `m${i}`);
  const tokens: string[] = [];
  for (let i = 0; i < MEMBERS; i += 50) {
    tokens.push(...(await Promise.all(identities.slice(i, i + 50).map(async (id) => (await engine.session(app, id)).user_token))));
  }
  const secret = `Basic ${Buffer.from(`${app.app_id}:${app.app_secret}`).toString("base64")}`;
  const roomBody = JSON.stringify({ data: DATA });
  const streamBody = JSON.stringify({ identities, type: "custom.bench", data: DATA });

  const room: FanoutTarget = {
    name: "engine room",
    pids: [engine.proc.pid as number],
    connect: (on) => engineSockets(engine.wsUrl, tokens, true, on),
    publish: () => post(`${engine.url}/api/v1/rooms/${ROOM}/broadcast`, roomBody, { authorization: secret }),
  };
  const streams: FanoutTarget = {
    name: "engine user streams",
    pids: [engine.proc.pid as number],
    connect: (on) => engineSockets(engine.wsUrl, tokens, false, on),
    publish: () => post(`${engine.url}/admin/v1/apps/${app.app_id}/events`, streamBody, { authorization: `Bearer ${engine.adminToken}` }),
  };
  const socketIo: FanoutTarget = {
    name: "Socket.IO room",
    pids: [sio.proc.pid as number],
    connect: (on) => socketIoReceivers(sio.port, MEMBERS, on),
    publish: () => post(`http://127.0.0.1:${sio.port}/publish`, roomBody),
  };

  // Alternate the three, ROUNDS times each, and keep each one's best round: the machine is shared and noisy.
  const results = await alternate([room, streams, socketIo], ROUNDS, {
    seconds: SECONDS,
    inFlight: IN_FLIGHT,
    settleMs: Math.min(2000, 200 + MEMBERS * 2),
  });
  const r = (name: string) => results.get(name) as Rate;
  console.log(
    `rooms: ${MEMBERS} members in one room, ${IN_FLIGHT} publishes in flight, best of ${ROUNDS} × ${SECONDS}s, ${JSON.stringify(DATA).length}-byte data`,
  );
  console.log(`  ${machineLine()}`);
  for (const t of [room, streams, socketIo]) {
    const x = r(t.name);
    console.log(`  ${t.name.padEnd(20)}: ${fmt(x.perS)} deliveries/s, ${fmt(x.perCpuS)} per server CPU-second`);
  }
  console.log(`  room / user streams : ${ratio(r(room.name), r(streams.name))}`);
  console.log(`  room / Socket.IO    : ${ratio(r(room.name), r(socketIo.name))}`);
} finally {
  sio.proc.kill("SIGTERM");
  await engine.stop();
}
