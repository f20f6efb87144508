import { describe, expect, it } from "vitest";
import { CallTracker, TokenSource, type UTDCall, type UTDCredentials } from "../src/index.js";

const at = (ms: number) => new Date(ms);

describe("TokenSource", () => {
  it("caches until expiry, then fetches; concurrent callers share one fetch", async () => {
    let now = 0;
    let fetches = 0;
    let release: () => void = () => {};
    const src = new TokenSource({
      now: () => now,
      earlyMs: 1000,
      fetch: () => {
        fetches++;
        const n = fetches;
        return new Promise<UTDCredentials>((ok) => {
          release = () => ok({ token: `t${n}`, expiresAt: at(now + 60_000) });
        });
      },
    });
    const first = [src.token(), src.token(), src.token()];
    release();
    expect(await Promise.all(first)).toEqual(["t1", "t1", "t1"]);
    expect(fetches).toBe(1);
    now = 58_000; // inside the lifetime, outside the early margin: cached
    expect(await src.token()).toBe("t1");
    now = 59_500; // within 1 s of expiry: a new one
    const next = src.token();
    release();
    expect(await next).toBe("t2");
    expect(fetches).toBe(2);
  });

  it("refresh(failed) renews once for everyone who saw the same token refused", async () => {
    let fetches = 0;
    const src = new TokenSource({
      initial: { token: "old", expiresAt: null },
      fetch: async () => ({ token: `new${++fetches}`, expiresAt: null }),
    });
    const all = await Promise.all([src.refresh("old"), src.refresh("old"), src.refresh("old")]);
    expect(all).toEqual(["new1", "new1", "new1"]);
    // A caller that saw the old token refused after the renewal gets the new one without another fetch.
    expect(await src.refresh("old")).toBe("new1");
    expect(fetches).toBe(1);
    expect(await src.refresh("new1")).toBe("new2");
  });

  it("a fixed token cannot be renewed: refresh throws unauthorized; the margin never exceeds a fifth of the lifetime", async () => {
    const fixed = TokenSource.fixed("abc");
    await expect(fixed.refresh("abc")).rejects.toMatchObject({ code: "unauthorized", statusCode: 401 });
    expect(await fixed.token()).toBe("abc");
    let now = 0;
    let fetches = 0;
    // A 10 s token with a 30 s default margin would look expired at once and be fetched on every call.
    const short = new TokenSource({ now: () => now, fetch: async () => ({ token: `s${++fetches}`, expiresAt: at(now + 10_000) }) });
    await short.token();
    now = 7_000;
    await short.token();
    expect(fetches).toBe(1);
  });
});

function call(status: UTDCall["status"], extra: Partial<UTDCall> = {}): UTDCall {
  return {
    id: "c1",
    type: "audio_call",
    status,
    callerIdentity: "alice",
    callerName: null,
    calleeIdentity: "bob",
    calleeName: null,
    metadata: {},
    clientCallId: null,
    answeredDeviceId: null,
    endReason: null,
    endedBy: null,
    createdAt: at(0),
    ringDeadlineAt: null,
    answeredAt: null,
    endedAt: null,
    ...extra,
  };
}

describe("CallTracker", () => {
  it("keeps the furthest state: an event that overtook the HTTP answer wins; a finished call never changes", () => {
    const t = new CallTracker();
    t.apply(call("ringing")); // the callee's ringing, on the socket, before the invite's answer
    expect(t.apply(call("initiating")).status).toBe("ringing");
    const seen: string[] = [];
    t.get("c1")?.subscribe((c) => seen.push(c.status));
    t.apply(call("active", { answeredDeviceId: "bob-phone" }));
    t.apply(call("ended", { endReason: "hangup" }));
    t.apply(call("active"));
    expect(seen).toEqual(["ringing", "active", "ended"]);
    expect(t.get("c1")?.value.endReason).toBe("hangup");
  });
});
