/**
 * Signalling-room fan-out benchmark: N members in one room, each broadcast goes to all N. Three targets
 * in one run, driven the same way (HTTP publishes, `BENCH_IN_FLIGHT` at a time, same clients, same data):
 *
 * 1. the engine's signalling room — `POST /api/v1/rooms/{room}/broadcast` (app secret) to N sockets that
 *    sent `room.join`;
 * 2. the same fan-out through the engine's user streams — `POST /admin/v1/apps/{id}/events` naming the N
 *    identities (per-user seq + resume buffer);
 * 3. Socket.IO rooms (socketio-server.mjs, `io.to(room).emit`) with socket.io-client over WebSocket.
 *
 * Prints deliveries per second (wall) and per second of server CPU for each, and the ratios of the
 * room to the other two. The clients run in this process on the same (small, shared) machine, so the
 * figure to compare is the one per server CPU-second.
 *
 * Run: `node --conditions=development --import tsx bench/rooms/run.ts`
 * Env: BENCH_MEMBERS (1000), BENCH_SECONDS (5), BENCH_IN_FLIGHT (4), BENCH_ROUNDS (2; alternating, best round of each kept).
 * CI runs a short smoke of it (test/bench-rooms.test.ts): BENCH_MEMBERS=20 BENCH_SECONDS=1 BENCH_ROUNDS=1.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { io as ioClient, type Socket } from "socket.io-client";
import WebSocket from "ws";
import { startEngine } from "../../test/helpers/engine.js";

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const ROOM = "bench";
const DATA = { text: "x".repeat(120), n: 0, from: "bench" };
const HERE = dirname(fileURLToPath(import.meta.url));

/** utime + stime of a process, in seconds (Linux /proc). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Result {
  perS: number;
  perCpuS: number;
}

interface Target {
  name: string;
  pid: number;
  /** Connects the N members; `onDelivery` counts each broadcast a member receives. Resolves to a closer. */
  connect(onDelivery: () => void): Promise<() => void>;
  publish(): Promise<void>;
}

async function measure(t: Target): Promise<Result> {
  let deliveries = 0;
  let counting = false;
  const close = await t.connect(() => {
    if (counting) deliveries++;
  });
  let stop = false;
  const loop = async () => {
    while (!stop) await t.publish();
  };
  const loops = Array.from({ length: IN_FLIGHT }, loop);
  await new Promise((r) => setTimeout(r, Math.min(1000, SECONDS * 500))); // warm-up
  counting = true;
  const cpu0 = cpuSeconds(t.pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(t.pid) - cpu0;
  counting = false;
  stop = true;
  await Promise.all(loops);
  close();
  // Let the server see the sockets go (and tell the room) before the next target is measured.
  await new Promise((r) => setTimeout(r, Math.min(2000, 200 + MEMBERS * 2)));
  return { perS: deliveries / wall, perCpuS: deliveries / Math.max(cpu, 0.01) };
}

/** Opens N engine sockets (hello; then `join` for each), in batches of 100. */
async function engineSockets(wsUrl: string, tokens: string[], join: boolean, onDelivery: () => void): Promise<() => void> {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < tokens.length; i += 100) {
    await Promise.all(
      tokens.slice(i, i + 100).map(async (token) => {
        const ws = new WebSocket(wsUrl);
        await new Promise<void>((res, rej) => {
          ws.once("open", () => res());
          ws.once("error", rej);
        });
        await new Promise<void>((res, rej) => {
          ws.on("message", (d) => {
            const s = d.toString();
            if (s.startsWith('{"type":"welcome"') && join) ws.send(JSON.stringify({ type: "room.join", id: "j", room: ROOM }));
            else if (s.startsWith('{"type":"welcome"')) res();
            else if (s.startsWith('{"type":"reply"')) {
              if (s.includes('"ok":true')) res();
              else rej(new Error(s));
            } else if (s.startsWith('{"type":"room.message"') || s.startsWith('{"type":"custom.')) onDelivery();
          });
          ws.send(JSON.stringify({ type: "hello", token }));
        });
        sockets.push(ws);
      }),
    );
  }
  return () => {
    for (const ws of sockets) ws.terminate();
  };
}

async function startSocketIo(): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, [join(HERE, "socketio-server.mjs")], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((res, rej) => {
    proc.stdout?.once("data", (d: Buffer) => res((JSON.parse(d.toString()) as { port: number }).port));
    proc.once("exit", (c) => rej(new Error(`socket.io server exited ${c}`)));
  });
  return { proc, port };
}

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<void> {
  const r = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  await r.text();
}

const engine = await startEngine({
  env: {
    UTD_RATE_SESSION_IDENTITY: "1000000/1000000",
    UTD_RATE_SESSION_APP: "1000000/1000000",
    UTD_WS_HEARTBEAT_S: "60",
    UTD_ROOMS_GRACE_S: "0",
    UTD_LOG_LEVEL: "info",
    ...(process.env.BENCH_ENGINE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_ENGINE_NODE_OPTIONS } : {}),
  },
});
const sio = await startSocketIo();
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

  const room: Target = {
    name: "engine room",
    pid: engine.proc.pid as number,
    connect: (on) => engineSockets(engine.wsUrl, tokens, true, on),
    publish: () => post(`${engine.url}/api/v1/rooms/${ROOM}/broadcast`, roomBody, { authorization: secret }),
  };
  const streams: Target = {
    name: "engine user streams",
    pid: engine.proc.pid as number,
    connect: (on) => engineSockets(engine.wsUrl, tokens, false, on),
    publish: () => post(`${engine.url}/admin/v1/apps/${app.app_id}/events`, streamBody, { authorization: `Bearer ${engine.adminToken}` }),
  };
  const socketIo: Target = {
    name: "Socket.IO room",
    pid: sio.proc.pid as number,
    async connect(on) {
      const sockets: Socket[] = [];
      for (let i = 0; i < MEMBERS; i += 100) {
        await Promise.all(
          Array.from({ length: Math.min(100, MEMBERS - i) }, async () => {
            const s = ioClient(`http://127.0.0.1:${sio.port}`, { transports: ["websocket"], reconnection: false, forceNew: true });
            await new Promise<void>((res, rej) => {
              s.once("connect", () => res());
              s.once("connect_error", rej);
            });
            s.on("room.message", on);
            sockets.push(s);
          }),
        );
      }
      // The server joins each socket to the room on connect; one publish round trip makes sure all did.
      await post(`http://127.0.0.1:${sio.port}/publish`, JSON.stringify({ data: "warm" }));
      return () => {
        for (const s of sockets) s.disconnect();
      };
    },
    publish: () => post(`http://127.0.0.1:${sio.port}/publish`, roomBody),
  };

  // Alternate the three, ROUNDS times each, and keep each one's best round: the machine is shared and noisy.
  const best = (a: Result | undefined, b: Result): Result =>
    a ? { perS: Math.max(a.perS, b.perS), perCpuS: Math.max(a.perCpuS, b.perCpuS) } : b;
  const results = new Map<string, Result>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of [room, streams, socketIo]) results.set(t.name, best(results.get(t.name), await measure(t)));
  }
  const f = (n: number) => Math.round(n).toLocaleString("en-US");
  const r = (name: string) => results.get(name) as Result;
  console.log(
    `rooms: ${MEMBERS} members in one room, ${IN_FLIGHT} publishes in flight, best of ${ROUNDS} × ${SECONDS}s, ${JSON.stringify(DATA).length}-byte data`,
  );
  for (const t of [room, streams, socketIo]) {
    const x = r(t.name);
    console.log(`  ${t.name.padEnd(20)}: ${f(x.perS)} deliveries/s, ${f(x.perCpuS)} per server CPU-second`);
  }
  const ratio = (a: Result, b: Result) =>
    `${(a.perCpuS / b.perCpuS).toFixed(2)} per server CPU-second (${(a.perS / b.perS).toFixed(2)} wall)`;
  console.log(`  room / user streams : ${ratio(r(room.name), r(streams.name))}`);
  console.log(`  room / Socket.IO    : ${ratio(r(room.name), r(socketIo.name))}`);
} finally {
  sio.proc.kill("SIGTERM");
  await engine.stop();
}
