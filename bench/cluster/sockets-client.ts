/**
 * One client process of bench/cluster/sockets.ts (forked with IPC; a process holds at most ~19,000
 * sockets under this box's 20,000 open-file cap). It mints the engine's own user tokens for users
 * `u<from>`…`u<to - 1>` (the users exist: the bench inserted them), opens one authenticated socket per
 * user to node `i % urls.length`, keeps them idle (ws answers the engine's pings), and reports the
 * `custom.bench` event's arrival: how many sockets got it and when the last one did.
 */
import WebSocket from "ws";
import { UserTokens } from "../../packages/engine/src/modules/auth/tokens.js";

export interface ClientJob {
  urls: string[];
  from: number;
  to: number;
  appId: string;
  tokenSecret: string;
  /** Handshakes in flight at once. */
  concurrency: number;
  /** Source addresses to spread connections over (127.0.0.x), when one runs out of ephemeral ports. */
  sources: string[];
}

export type ClientReport =
  | { type: "connected"; open: number; failed: number; closed: number; ms: number }
  | { type: "progress"; open: number }
  | { type: "status"; open: number; closed: number; got: number; lastAt: number; firstAt: number };

const send = (m: ClientReport) => process.send?.(m);

async function run(job: ClientJob): Promise<void> {
  const tokens = new UserTokens(new TextEncoder().encode(job.tokenSecret), 86_400);
  const now = Date.now();
  let open = 0;
  let failed = 0;
  let closed = 0;
  let got = 0;
  let firstAt = 0;
  let lastAt = 0;
  const sockets: WebSocket[] = [];
  const t0 = Date.now();
  let next = job.from;
  // The bench's connect deadline: stop opening sockets (those in flight finish).
  let stop = false;
  const onStop = (m: { type: string }) => {
    if (m.type === "stop-connecting") stop = true;
  };
  process.on("message", onStop);
  const progress = setInterval(() => send({ type: "progress", open }), 5000);
  const one = async (i: number): Promise<void> => {
    const { token } = await tokens.sign(job.appId, `u${i}`, null, now, { authMode: "open", sessionStartedAt: now });
    const url = job.urls[i % job.urls.length] as string;
    const localAddress = job.sources[Math.floor(i / job.urls.length) % job.sources.length];
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, ...(localAddress ? { localAddress } : {}) });
      let welcomed = false;
      ws.on("open", () => ws.send(JSON.stringify({ type: "hello", token })));
      ws.on("message", (d) => {
        const text = d.toString();
        if (!welcomed) {
          if (text.startsWith('{"type":"welcome"')) {
            welcomed = true;
            open++;
            sockets.push(ws);
          } else failed++;
          resolve();
          return;
        }
        if (text.startsWith('{"type":"custom.bench"')) {
          const at = Date.now();
          got++;
          lastAt = at;
          if (!firstAt) firstAt = at;
        }
      });
      ws.on("error", () => {});
      ws.on("close", () => {
        if (welcomed) {
          open--;
          closed++;
        } else {
          failed++;
          resolve();
        }
      });
    });
  };
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (next < job.to && !stop) await one(next++);
    }),
  );
  clearInterval(progress);
  process.off("message", onStop);
  send({ type: "connected", open, failed, closed, ms: Date.now() - t0 });
  process.on("message", (m: { type: string }) => {
    if (m.type === "status") send({ type: "status", open, closed, got, lastAt, firstAt });
    if (m.type === "close") {
      for (const ws of sockets) ws.terminate();
      process.exit(0);
    }
  });
}

process.once("message", (job: ClientJob) => {
  run(job).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
});
