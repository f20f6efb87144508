/**
 * Connection benchmark: handshakes, idle memory per socket, and a reconnect storm.
 *
 * 1. **Handshakes** — `BENCH_HANDSHAKES` sockets, `BENCH_HANDSHAKE_CONCURRENCY` in flight: authenticated
 *    `hello` → `welcome` on the engine vs a bare `ws` connect (bench/fanout/bare-server.mjs), alternating
 *    rounds; per second (wall) and per server CPU-second, and the ratio.
 * 2. **Idle memory** — the engine and the peers (bare `ws`, Socket.IO 4) run with `--expose-gc
 *    --inspect=127.0.0.1:<port>`; the bench forces full GCs through the inspector before and after
 *    opening `BENCH_SOCKETS` idle sockets (authenticated, for the engine) and prints heap and RSS per socket.
 * 3. **Reconnect storm** — with the engine's `BENCH_SOCKETS` users connected and an event delivered to
 *    each, every socket is dropped at once, one more event is published to all of them while they are
 *    away, and all reconnect with `hello` + `resume` (`BENCH_STORM_CONCURRENCY` connects in flight).
 *    Prints the time until every user got its welcome and the missed event, how many were not resumed
 *    (`resync_required`), and the engine's peak RSS during the storm.
 *
 * Client sockets live in this process (one fd each, well under the 20,000 open-files cap at 10k).
 *
 * Run: `node --conditions=development --import tsx bench/conn/run.ts`
 * Env: BENCH_SOCKETS (10000), BENCH_HANDSHAKES (2000), BENCH_HANDSHAKE_CONCURRENCY (50), BENCH_ROUNDS (3),
 * BENCH_STORM_CONCURRENCY (1000), BENCH_PEERS (bare,socketio), BENCH_ENGINE_NODE_OPTIONS,
 * BENCH_PROFILE_DIR (CPU-profiles the engine through its inspector during the engine's handshake rounds
 * and the storm only — not the session minting — and writes `handshakes.cpuprofile`, `storm.cpuprofile` there).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type WebSocket from "ws";
import { startEngine } from "../../test/helpers/engine.js";
import {
  cpuSeconds,
  engineBenchEnv,
  engineHello,
  engineNodeArgs,
  fmt,
  freePort,
  inBatches,
  machineLine,
  memory,
  memoryAfterGc,
  openSocket,
  pool,
  post,
  sleep,
  socketIoReceivers,
  spawnPeer,
} from "../lib/load.js";

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 10_000);
const HANDSHAKES = Number(process.env.BENCH_HANDSHAKES ?? 2000);
const HS_CONCURRENCY = Number(process.env.BENCH_HANDSHAKE_CONCURRENCY ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const STORM_CONCURRENCY = Number(process.env.BENCH_STORM_CONCURRENCY ?? 1000);
const PEERS = (process.env.BENCH_PEERS ?? "bare,socketio").split(",");
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
/** The engine's default offline grace, set explicitly: the handshake rounds wait it out (see `quiet`). */
const PRESENCE_GRACE_S = 5;
const HERE = dirname(fileURLToPath(import.meta.url));
const kb = (bytes: number) => (bytes / 1024).toFixed(1);

const enginePort = await freePort();
const barePort = await freePort();
const sioPort = await freePort();
const engine = await startEngine({
  env: engineBenchEnv({ UTD_WS_RESUME_TTL_S: "300", UTD_PRESENCE_GRACE_S: String(PRESENCE_GRACE_S) }),
  nodeArgs: engineNodeArgs(["--expose-gc", `--inspect=127.0.0.1:${enginePort}`]),
});
const bare = await spawnPeer(join(HERE, "../fanout/bare-server.mjs"), [], { nodeArgs: ["--expose-gc", `--inspect=127.0.0.1:${barePort}`] });
const sio = PEERS.includes("socketio")
  ? await spawnPeer(join(HERE, "../lib/socketio-server.mjs"), [], { nodeArgs: ["--expose-gc", `--inspect=127.0.0.1:${sioPort}`] })
  : undefined;
const enginePid = engine.proc.pid as number;

/**
 * Starts the engine's CPU profiler through its inspector (when BENCH_PROFILE_DIR is set); the returned
 * function stops it and writes `<name>.cpuprofile`. Phases profiled this way leave the minting out.
 */
async function profile(name: string): Promise<() => Promise<void>> {
  if (!PROFILE_DIR) return async () => {};
  const list = (await (await fetch(`http://127.0.0.1:${enginePort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const ws = await openSocket(list[0]?.webSocketDebuggerUrl as string);
  let id = 0;
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<{ result?: { profile?: unknown } }>((res) => {
      const my = ++id;
      const on = (d: WebSocket.RawData) => {
        const m = JSON.parse(d.toString()) as { id?: number; result?: { profile?: unknown } };
        if (m.id !== my) return;
        ws.off("message", on);
        res(m);
      };
      ws.on("message", on);
      ws.send(JSON.stringify({ id: my, method, params }));
    });
  await call("Profiler.enable");
  // 100 µs: a handshake costs a few hundred, so the default 1 ms interval leaves too few samples per round.
  await call("Profiler.setSamplingInterval", { interval: 100 });
  await call("Profiler.start");
  return async () => {
    const r = await call("Profiler.stop");
    ws.close();
    mkdirSync(PROFILE_DIR, { recursive: true });
    writeFileSync(join(PROFILE_DIR, `${name}.cpuprofile`), JSON.stringify(r.result?.profile));
  };
}
try {
  console.log(`conn: ${fmt(SOCKETS)} sockets, ${fmt(HANDSHAKES)} handshakes; ${machineLine()}`);
  const app = await engine.createApp({ plan: "enterprise" });
  const tMint = performance.now();
  const tokens = await inBatches(SOCKETS, 50, async (i) => (await engine.session(app, `u${i}`)).user_token);
  console.log(`  (minted ${fmt(SOCKETS)} sessions in ${((performance.now() - tMint) / 1000).toFixed(1)}s)`);

  // 1. Handshakes: alternate engine hello and bare connect.
  /** Waits `minMs`, then until `pid` spends no CPU over a quarter second (at most 10 s more). */
  const quiet = async (pid: number, minMs: number) => {
    await sleep(minMs);
    for (let until = performance.now() + 10_000; performance.now() < until; ) {
      const c0 = cpuSeconds(pid);
      await sleep(250);
      if (cpuSeconds(pid) - c0 < 0.015) return;
    }
  };
  const handshakes = async (kind: "engine" | "bare") => {
    const pid = kind === "engine" ? enginePid : (bare.proc.pid as number);
    const sockets: WebSocket[] = [];
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    await pool(HANDSHAKES, HS_CONCURRENCY, async (i) => {
      sockets.push(
        kind === "engine"
          ? (await engineHello(engine.wsUrl, tokens[i % tokens.length] as string)).ws
          : await openSocket(`ws://127.0.0.1:${bare.port}`),
      );
    });
    const wall = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(pid) - cpu0;
    return {
      perS: HANDSHAKES / wall,
      perCpuS: HANDSHAKES / Math.max(cpu, 0.01),
      close: async () => {
        for (const ws of sockets) ws.terminate();
        // The next round starts on an idle server: the engine's closes (and, a grace later, the offline sweep
        // of those users) would otherwise land in whichever round runs then, the bare server's or its own.
        await quiet(pid, kind === "engine" ? (PRESENCE_GRACE_S + 1.5) * 1000 : 500);
      },
    };
  };
  const hs = { engine: { perS: 0, perCpuS: 0 }, bare: { perS: 0, perCpuS: 0 } };
  await quiet(enginePid, 0);
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of ["engine", "bare"] as const) {
      const stop = kind === "engine" && r === ROUNDS - 1 ? await profile("handshakes") : async () => {};
      const x = await handshakes(kind);
      await stop(); // the profile holds the handshakes only, not the closes
      await x.close();
      hs[kind] = { perS: Math.max(hs[kind].perS, x.perS), perCpuS: Math.max(hs[kind].perCpuS, x.perCpuS) };
    }
  }
  console.log(`handshakes (${HS_CONCURRENCY} in flight, best of ${ROUNDS} alternating):`);
  console.log(`  engine hello→welcome : ${fmt(hs.engine.perS)}/s, ${fmt(hs.engine.perCpuS)} per server CPU-second`);
  console.log(`  bare ws connect      : ${fmt(hs.bare.perS)}/s, ${fmt(hs.bare.perCpuS)} per server CPU-second`);
  console.log(
    `  engine/bare          : ${(hs.engine.perCpuS / hs.bare.perCpuS).toFixed(2)} per server CPU-second (${(hs.engine.perS / hs.bare.perS).toFixed(2)} wall)`,
  );

  // 2. Idle memory per socket, after forced GCs.
  const perSocket = async (name: string, pid: number, port: number, open: () => Promise<() => void>) => {
    await sleep(500);
    const before = await memoryAfterGc(port);
    const rss0 = memory(pid).rss;
    const close = await open();
    await sleep(1000);
    const after = await memoryAfterGc(port);
    const rss1 = memory(pid).rss;
    console.log(
      `  ${name.padEnd(22)}: heap ${kb((after.heapUsed - before.heapUsed) / SOCKETS)} KB, heap+external+buffers ${kb(
        (after.heapUsed + after.external - before.heapUsed - before.external) / SOCKETS,
      )} KB, V8 heap committed ${kb((after.heapTotal - before.heapTotal) / SOCKETS)} KB, RSS ${kb((rss1 - rss0) / SOCKETS)} KB per socket (RSS ${fmt(
        rss0 / 2 ** 20,
      )} → ${fmt(rss1 / 2 ** 20)} MB at ${fmt(SOCKETS)})`,
    );
    return close;
  };
  console.log(`idle memory per socket, ${fmt(SOCKETS)} sockets, after forced GC:`);
  for (const peer of PEERS) {
    if (peer === "bare") {
      const close = await perSocket("bare ws", bare.proc.pid as number, barePort, async () => {
        const s = await inBatches(SOCKETS, 200, () => openSocket(`ws://127.0.0.1:${bare.port}`));
        return () => {
          for (const ws of s) ws.terminate();
        };
      });
      close();
    } else if (peer === "socketio" && sio) {
      const close = await perSocket("Socket.IO 4", sio.proc.pid as number, sioPort, () => socketIoReceivers(sio.port, SOCKETS, () => {}));
      close();
    }
  }
  await sleep(1000);
  // The engine's sockets stay open for the storm; each remembers its epoch and last seq.
  const state = tokens.map(() => ({ epoch: "", seq: 0, ws: undefined as WebSocket | undefined }));
  let gotMissed = 0;
  let resyncs = 0;
  let storming = false;
  const frame = (i: number) => (text: string) => {
    const seq = /"seq":(\d+)/.exec(text);
    const st = state[i] as (typeof state)[number];
    if (seq) st.seq = Math.max(st.seq, Number(seq[1]));
    if (text.startsWith('{"type":"resync_required"')) resyncs++;
    else if (storming && text.includes('"custom.missed"')) gotMissed++;
  };
  await perSocket("UTD engine (hello'd)", enginePid, enginePort, async () => {
    await inBatches(SOCKETS, 200, async (i) => {
      const { ws, welcome } = await engineHello(engine.wsUrl, tokens[i] as string, frame(i));
      const st = state[i] as (typeof state)[number];
      st.ws = ws;
      st.epoch = welcome.epoch;
      st.seq = welcome.seq;
    });
    return () => {};
  });

  // 3. Reconnect storm.
  const identities = tokens.map((_, i) => `u${i}`);
  // In chunks of 500 identities (the publish endpoint caps its body).
  const publish = async (type: string) => {
    for (let i = 0; i < identities.length; i += 500) {
      await post(
        `${engine.url}/admin/v1/apps/${app.app_id}/events`,
        JSON.stringify({ identities: identities.slice(i, i + 500), type, data: { n: 1 } }),
        { authorization: `Bearer ${engine.adminToken}` },
      );
    }
  };
  await publish("custom.before");
  await sleep(1000);
  let peak = memory(enginePid).rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, memory(enginePid).rss);
  }, 50);
  const stopProfile = await profile("storm");
  const stormCpu0 = cpuSeconds(enginePid);
  const clientCpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const st of state) st.ws?.terminate();
  storming = true;
  await publish("custom.missed"); // published while everyone is away: resume must replay it
  let notResumed = 0;
  await pool(SOCKETS, STORM_CONCURRENCY, async (i) => {
    const st = state[i] as (typeof state)[number];
    for (let attempt = 0; ; attempt++) {
      try {
        const { ws, welcome } = await engineHello(engine.wsUrl, tokens[i] as string, frame(i), { epoch: st.epoch, seq: st.seq });
        if (!welcome.resumed) notResumed++;
        st.ws = ws;
        return;
      } catch (e) {
        if (attempt >= 5) throw e;
        await sleep(100 * (attempt + 1));
      }
    }
  });
  const welcomed = performance.now();
  const deadline = welcomed + 30_000;
  while (gotMissed < SOCKETS - notResumed && performance.now() < deadline) await sleep(5);
  const done = performance.now();
  clearInterval(sampler);
  const stormCpu = cpuSeconds(enginePid) - stormCpu0;
  const clientCpu = process.cpuUsage(clientCpu0);
  await stopProfile();
  peak = Math.max(peak, memory(enginePid).rss);
  console.log(`reconnect storm: ${fmt(SOCKETS)} users dropped at once, ${STORM_CONCURRENCY} reconnects in flight:`);
  console.log(
    `  all welcomed in ${((welcomed - t0) / 1000).toFixed(2)}s, all resumed with the missed event in ${((done - t0) / 1000).toFixed(2)}s ` +
      `(${fmt(gotMissed)}/${fmt(SOCKETS)} got it); resumed:false ${notResumed}, resync_required ${resyncs}; engine peak RSS ${fmt(peak / 2 ** 20)} MB`,
  );
  // CPU spent, load-independent: on a machine with a core free for each, the storm lasts about the larger one.
  console.log(
    `  CPU spent meanwhile: engine ${stormCpu.toFixed(2)} s, the bench's clients ${((clientCpu.user + clientCpu.system) / 1e6).toFixed(2)} s; ` +
      `load average ${machineLine().match(/load average ([\d.]+)/)?.[1] ?? "?"}`,
  );
  for (const st of state) st.ws?.terminate();
  // Warnings and errors the engine logged during the run, by message (a failing write would show here).
  const warned = new Map<string, number>();
  for (const line of engine.logs) {
    try {
      const l = JSON.parse(line) as { level?: number; msg?: string };
      if ((l.level ?? 0) >= 40) warned.set(l.msg ?? "?", (warned.get(l.msg ?? "?") ?? 0) + 1);
    } catch {}
  }
  console.log(`engine warnings/errors logged: ${warned.size === 0 ? "none" : [...warned].map(([m, n]) => `${n}× ${m}`).join("; ")}`);
} finally {
  bare.proc.kill("SIGTERM");
  sio?.proc.kill("SIGTERM");
  await engine.stop();
}
