import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { UTDSignalClient, type WebSocketLike } from "../src/index.js";

/** A scripted WebSocket: the test plays the engine. */
class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(): void {
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  frame(f: unknown): void {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  drop(code: number, reason = ""): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  welcome(epoch = "e1", seq = 0, resumed = false): void {
    this.frame({
      type: "welcome",
      epoch,
      seq,
      resumed,
      heartbeat_s: 30,
      max_frame_bytes: 65536,
      session: {
        app_id: "app",
        identity: "me",
        device_id: null,
        signaling_enabled: true,
        messaging_enabled: true,
        plan_limits: {
          history_days: 7,
          max_group_members: 10,
          max_friends: 50,
          max_chatrooms: 1,
          max_room_members: 50,
          room_history: 0,
          max_storage_bytes_per_user: 100 * 1024 ** 2,
          max_storage_bytes_per_app: 1024 ** 3,
        },
        expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      },
    });
  }
}

const last = () => FakeSocket.all[FakeSocket.all.length - 1] as FakeSocket;

describe("UTDSignalClient (scripted socket)", () => {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function make(extra: Partial<ConstructorParameters<typeof UTDSignalClient>[0]> = {}) {
    return new UTDSignalClient({
      url: "ws://x/api/v1/ws",
      token: () => "tok",
      WebSocket: FakeSocket,
      backoff: { initialMs: 100, maxMs: 1000 },
      ...extra,
    });
  }

  test("backoff grows exponentially with jitter, is capped, and resets after a welcome", async () => {
    const c = make();
    c.connect();
    await vi.advanceTimersByTimeAsync(0);
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = FakeSocket.all.length;
      last().drop(1006);
      let waited = 0;
      while (FakeSocket.all.length === before) {
        await vi.advanceTimersByTimeAsync(10);
        waited += 10;
      }
      delays.push(waited);
    }
    // attempt n waits base·2ⁿ capped at max, times a jitter factor in [0.5, 1].
    const bases = [100, 200, 400, 800, 1000, 1000];
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual((bases[i] as number) * 0.5 - 10);
      expect(d).toBeLessThanOrEqual((bases[i] as number) + 10);
    });
    expect(c.state.value).toBe("reconnecting");
    last().open();
    last().welcome();
    expect(c.state.value).toBe("connected");
    const before = FakeSocket.all.length;
    last().drop(1006);
    let waited = 0;
    while (FakeSocket.all.length === before) {
      await vi.advanceTimersByTimeAsync(10);
      waited += 10;
    }
    expect(waited).toBeLessThanOrEqual(110);
    c.disconnect();
  });

  test("4503 (node draining) reconnects at once with jitter and no backoff growth, resuming the cursor", async () => {
    const c = make({ backoff: { initialMs: 5000, maxMs: 30_000 } });
    c.connect();
    await vi.advanceTimersByTimeAsync(0);
    last().open();
    last().welcome("e1", 0);
    last().frame({ type: "x.y", seq: 1, data: {} });
    // Failed attempts first, so a growing backoff would show.
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = FakeSocket.all.length;
      last().drop(4503, "node draining: reconnect elsewhere");
      let waited = 0;
      while (FakeSocket.all.length === before) {
        await vi.advanceTimersByTimeAsync(10);
        waited += 10;
      }
      delays.push(waited);
    }
    // Each within the jitter window (1 s), never the 5 s+ backoff, and not all identical (jittered).
    for (const d of delays) expect(d).toBeLessThanOrEqual(1010);
    expect(c.state.value).toBe("reconnecting");
    last().open();
    expect(last().sent[0]).toMatchObject({ type: "hello", resume: { epoch: "e1", seq: 1 } });
    c.disconnect();
  });

  test("resume cursor, duplicate suppression, queued requests sent once, 4403 stops for good", async () => {
    const c = make();
    const seqs: number[] = [];
    c.on("event", (e) => seqs.push(e.seq));
    const closed: number[] = [];
    c.on("closed", (x) => closed.push(x.code));
    const reply = c.request<{ ok: number }>("presence.watch", { identities: ["a"] });
    c.connect();
    await vi.advanceTimersByTimeAsync(0);
    const s1 = last();
    s1.open();
    expect(s1.sent[0]).toMatchObject({ type: "hello", token: "tok" });
    expect(s1.sent[0]?.resume).toBeUndefined();
    expect(s1.sent.length).toBe(1); // nothing but hello before the welcome
    s1.welcome("e1", 0);
    const req = s1.sent[1] as { type: string; id: string };
    expect(req.type).toBe("presence.watch");
    s1.frame({ type: "x.y", seq: 1, data: {} });
    s1.frame({ type: "x.y", seq: 2, data: {} });
    // The socket drops before the reply: the request goes again (once) after the reconnect, with the cursor.
    s1.drop(1006);
    await vi.advanceTimersByTimeAsync(200);
    const s2 = last();
    expect(s2).not.toBe(s1);
    s2.open();
    expect(s2.sent[0]).toMatchObject({ type: "hello", resume: { epoch: "e1", seq: 2 } });
    s2.welcome("e1", 2, true);
    s2.frame({ type: "x.y", seq: 2, data: {} }); // a duplicate is dropped
    s2.frame({ type: "x.y", seq: 3, data: {} });
    const resent = s2.sent.filter((f) => f.type === "presence.watch");
    expect(resent).toEqual([req]);
    s2.frame({ type: "reply", id: req.id, ok: true, data: { ok: 1 } });
    expect(await reply).toEqual({ ok: 1 });
    expect(seqs).toEqual([1, 2, 3]);
    s2.drop(4403, "banned");
    await vi.advanceTimersByTimeAsync(5000);
    expect(FakeSocket.all.length).toBe(2);
    expect(c.state.value).toBe("closed");
    expect(closed).toEqual([4403]);
  });

  test("a stream event reaches its typed listener; one named like a local event or of an unknown type reaches none", async () => {
    const c = make();
    const got: string[] = [];
    c.on("typing.started", (d) => got.push(`typing:${d.conversation_id}`));
    c.on("closed", () => got.push("closed"));
    c.on("error", () => got.push("error"));
    const raw: string[] = [];
    c.on("event", (e) => raw.push(e.type));
    c.connect();
    await vi.advanceTimersByTimeAsync(0);
    last().open();
    last().welcome();
    // A hostile or buggy engine: stream frames named like the client's own events must not fire them.
    last().frame({ type: "closed", seq: 1, data: { code: 4403, reason: "x" } });
    last().frame({ type: "error", seq: 2, data: {} });
    // A newer engine's event: passed on raw, no typed listener fires.
    last().frame({ type: "future.thing", seq: 3, data: { a: 1 } });
    last().frame({ type: "typing.started", seq: 4, data: { conversation_id: "c1", identity: "bob", expires_at: null } });
    expect(got).toEqual(["typing:c1"]);
    expect(raw).toEqual(["closed", "error", "future.thing", "typing.started"]);
    expect(c.state.value).toBe("connected");
    c.disconnect();
  });

  test("4401 asks refreshToken for a new token before reconnecting", async () => {
    let n = 0;
    const c = make({ refreshToken: async () => `fresh${++n}` });
    c.connect();
    await vi.advanceTimersByTimeAsync(0);
    last().open();
    last().welcome();
    last().drop(4401, "token expired");
    await vi.advanceTimersByTimeAsync(200);
    last().open();
    expect(last().sent[0]).toMatchObject({ type: "hello", token: "fresh1" });
    c.disconnect();
  });

  test("a silent link is given up after twice the heartbeat, and pings are sent meanwhile", async () => {
    const c = make();
    c.connect();
    await vi.advanceTimersByTimeAsync(0);
    const s = last();
    s.open();
    s.welcome();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(s.sent.some((f) => f.type === "ping")).toBe(true);
    await vi.advanceTimersByTimeAsync(61_000);
    expect(FakeSocket.all.length).toBeGreaterThan(1);
    c.disconnect();
  });
});
