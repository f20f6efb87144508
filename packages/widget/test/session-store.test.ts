import { describe, expect, it } from "vitest";
import { type KeyValueStorage, type PersistedSession, parseSession, SESSION_KEY, SessionStore } from "../src/session-store.js";
import { jwtSubject } from "../src/wire.js";

class MemoryStorage implements KeyValueStorage {
  readonly map = new Map<string, string>();
  failWrites = false;
  getItem(k: string) {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    if (this.failWrites) throw new Error("QuotaExceededError");
    this.map.set(k, v);
  }
  removeItem(k: string) {
    this.map.delete(k);
  }
}

const session = (over: Partial<PersistedSession> = {}): PersistedSession => ({
  v: 1,
  baseUrl: "http://127.0.0.1:7800",
  wsUrl: "ws://127.0.0.1:7800/api/v1/ws",
  appId: "app_1",
  appKey: "pk_1",
  widgetId: "w1",
  identity: "vera",
  identityToken: "a.b.c",
  userToken: "ut_1",
  userTokenExpiresAt: 1_900_000_000_000,
  deviceId: "web-1",
  conversationId: null,
  lastSeq: 0,
  ...over,
});

describe("SessionStore (persisted background session)", () => {
  it("round-trips through storage, so a new page resumes with no arguments", () => {
    const storage = new MemoryStorage();
    new SessionStore(storage).save(session({ conversationId: "conv_1", lastSeq: 4 }));
    const reloaded = new SessionStore(storage).load();
    expect(reloaded).toEqual(session({ conversationId: "conv_1", lastSeq: 4 }));
  });

  it("is empty before any login, and after clear()", () => {
    const storage = new MemoryStorage();
    const s = new SessionStore(storage);
    expect(s.load()).toBeNull();
    s.save(session());
    s.clear();
    expect(s.load()).toBeNull();
    expect(storage.map.has(SESSION_KEY)).toBe(false);
    expect(new SessionStore(storage).load()).toBeNull();
  });

  it("drops corrupt, partial or foreign-version entries instead of throwing", () => {
    for (const bad of [
      "not json",
      "null",
      "42",
      JSON.stringify({ ...session(), v: 2 }),
      JSON.stringify({ ...session(), userToken: "" }),
      JSON.stringify({ ...session(), appId: 7 }),
      JSON.stringify({ ...session(), lastSeq: -1 }),
      JSON.stringify({ ...session(), lastSeq: 1.5 }),
      JSON.stringify({ ...session(), userTokenExpiresAt: "soon" }),
      JSON.stringify({ ...session(), conversationId: 3 }),
      JSON.stringify((({ wsUrl: _w, ...rest }) => rest)(session())),
    ]) {
      const storage = new MemoryStorage();
      storage.map.set(SESSION_KEY, bad);
      expect(new SessionStore(storage).load(), bad).toBeNull();
      expect(storage.map.has(SESSION_KEY), bad).toBe(false);
    }
    expect(parseSession(JSON.stringify(session()))).toEqual(session());
  });

  it("advance() only moves the watermark forward, and only for the stored conversation", () => {
    const storage = new MemoryStorage();
    const s = new SessionStore(storage);
    s.save(session({ conversationId: "conv_1", lastSeq: 3 }));
    s.advance("conv_1", 5);
    s.advance("conv_1", 4);
    s.advance("conv_other", 9);
    expect(new SessionStore(storage).load()?.lastSeq).toBe(5);
  });

  it("update() patches fields and is a no-op without a session", () => {
    const storage = new MemoryStorage();
    const s = new SessionStore(storage);
    expect(s.update({ userToken: "x" })).toBeNull();
    expect(storage.map.size).toBe(0);
    s.save(session());
    s.update({ userToken: "ut_2", conversationId: "conv_9" });
    expect(new SessionStore(storage).load()).toMatchObject({ userToken: "ut_2", conversationId: "conv_9", identity: "vera" });
  });

  it("keeps working in memory when storage refuses writes or is absent", () => {
    const storage = new MemoryStorage();
    storage.failWrites = true;
    const s = new SessionStore(storage);
    s.save(session());
    expect(s.load()?.identity).toBe("vera");
    const none = new SessionStore(undefined);
    none.save(session());
    expect(none.load()?.identity).toBe("vera");
  });

  it("invalidate() re-reads storage (another tab logged out)", () => {
    const storage = new MemoryStorage();
    const s = new SessionStore(storage);
    s.save(session());
    storage.map.delete(SESSION_KEY);
    expect(s.load()).not.toBeNull();
    s.invalidate();
    expect(s.load()).toBeNull();
  });
});

describe("jwtSubject", () => {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  it("reads `sub` (UTF-8 too) and rejects tokens without one", () => {
    expect(jwtSubject(`${b64({ alg: "HS256" })}.${b64({ sub: "vera", exp: 1 })}.sig`)).toBe("vera");
    expect(jwtSubject(`${b64({})}.${b64({ sub: "عائشہ" })}.sig`)).toBe("عائشہ");
    expect(jwtSubject(`${b64({})}.${b64({ exp: 1 })}.sig`)).toBeNull();
    expect(jwtSubject("garbage")).toBeNull();
    expect(jwtSubject("a.!!!.c")).toBeNull();
  });
});
