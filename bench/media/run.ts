/**
 * Call media setup benchmark: time from `accept` to both parties hearing each other, on a real LiveKit.
 *
 * Each round: alice calls bob, bob accepts, both fetch their call tokens from the engine, join the call
 * room with @livekit/rtc-node, publish a tone, and the clock stops when each side detects the other's
 * tone. The peer measured in the same run is the bare SFU: two participants joining a pre-created room
 * with tokens minted locally (no engine), clock from "go" to both tones detected. The ratio is the
 * engine's share of call setup.
 *
 * Run: `node --conditions=development --import tsx bench/media/run.ts` (needs scripts/livekit/install.sh).
 * Env: BENCH_ROUNDS (10). LiveKit and the engine listen on ports the OS hands out.
 */
import { dispose } from "@livekit/rtc-node";
import { AccessToken, RoomServiceClient } from "livekit-server-sdk";
import { startMediaStack } from "../../test/helpers/livekit.js";
import { RtcPeer } from "../../test/helpers/rtc-peer.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
}

async function exchange(url: string, ta: string, tb: string, a: string, b: string): Promise<void> {
  const [pa, pb] = await Promise.all([RtcPeer.join(a, url, ta), RtcPeer.join(b, url, tb)]);
  try {
    await Promise.all([pa.publishTone(440), pb.publishTone(880)]);
    await Promise.all([pa.detectTone(b, 880), pb.detectTone(a, 440)]);
  } finally {
    await Promise.all([pa.leave(), pb.leave()]);
  }
}

const stack = await startMediaStack({ UTD_RATE_SESSION_IDENTITY: "1000/1000" });
if (!stack) process.exit(1);
const { engine, livekit } = stack;
const app = await engine.createApp();
const lk = new RoomServiceClient(livekit.url.replace(/^ws/, "http"), livekit.apiKey, livekit.apiSecret);
const withEngine: number[] = [];
const bare: number[] = [];
try {
  for (let i = 0; i < ROUNDS; i++) {
    const alice = await engine.session(app, `alice${i}`);
    const bob = await engine.session(app, `bob${i}`);
    const c = await engine.request<{ id: string }>("POST", "/api/v1/calls", {
      token: alice.user_token,
      body: { callee_identity: `bob${i}`, type: "audio_call" },
    });
    const t0 = performance.now();
    await engine.request("POST", `/api/v1/calls/${c.body.id}/accept`, { token: bob.user_token, body: {} });
    const tokens = await Promise.all(
      [alice, bob].map((s) =>
        engine.request<{ token: string; url: string }>("POST", `/api/v1/calls/${c.body.id}/token`, { token: s.user_token }),
      ),
    );
    await exchange(livekit.url, tokens[0]?.body.token ?? "", tokens[1]?.body.token ?? "", `alice${i}`, `bob${i}`);
    withEngine.push(performance.now() - t0);
    await engine.request("POST", `/api/v1/calls/${c.body.id}/end`, { token: alice.user_token, body: {} });

    const room = `bench-bare-${i}`;
    await lk.createRoom({ name: room, maxParticipants: 2 });
    const mint = async (identity: string) => {
      const at = new AccessToken(livekit.apiKey, livekit.apiSecret, { identity, ttl: 60 });
      at.addGrant({ roomJoin: true, room, canPublish: true, canSubscribe: true });
      return at.toJwt();
    };
    const [ba, bb] = await Promise.all([mint("a"), mint("b")]);
    const t1 = performance.now();
    await exchange(livekit.url, ba, bb, "a", "b");
    bare.push(performance.now() - t1);
    await lk.deleteRoom(room);
  }
} finally {
  await stack.stop();
  await dispose();
}
const p50 = pct(withEngine, 50);
const b50 = pct(bare, 50);
console.log(
  `call media setup, ${ROUNDS} rounds: accept → both hear each other p50 ${p50.toFixed(0)} ms (p95 ${pct(withEngine, 95).toFixed(0)}); ` +
    `bare LiveKit join → both hear p50 ${b50.toFixed(0)} ms (p95 ${pct(bare, 95).toFixed(0)}); ratio ${(p50 / b50).toFixed(2)}`,
);
