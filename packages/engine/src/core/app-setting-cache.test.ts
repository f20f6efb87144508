import { describe, expect, it } from "vitest";
import { MemoryBusHub } from "../bus/memory.js";
import { AppSettingCache } from "./app-setting-cache.js";

/** A store of one setting per app that counts its reads; `gate` holds reads until released. */
function store() {
  const values = new Map<string, string>();
  let reads = 0;
  let gate: Promise<void> | undefined;
  return {
    values,
    reads: () => reads,
    hold(): () => void {
      let open = () => {};
      gate = new Promise<void>((r) => {
        open = r;
      });
      return () => {
        gate = undefined;
        open();
      };
    },
    load: async (appId: string) => {
      reads++;
      const v = values.get(appId);
      if (gate) await gate;
      if (v === "fail") throw new Error("store down");
      return v ?? "none";
    },
  };
}

describe("AppSettingCache", () => {
  it("serves one read per app for ttlMs, then reads again (the injected clock decides)", async () => {
    let now = 1_000;
    const s = store();
    s.values.set("a", "v1");
    const c = new AppSettingCache({ setting: "chat_filters", load: s.load, clock: { now: () => now }, ttlMs: 2000 });
    expect(await c.get("a")).toBe("v1");
    s.values.set("a", "v2");
    now += 1999;
    expect(await c.get("a")).toBe("v1");
    expect(s.reads()).toBe(1);
    now += 1;
    expect(await c.get("a")).toBe("v2");
    expect(await c.get("b")).toBe("none");
    expect(s.reads()).toBe(3);
    // A clock stepped back does not make an old copy look fresh for longer.
    now -= 10_000;
    expect(await c.get("a")).toBe("v2");
    expect(s.reads()).toBe(4);
  });

  it("a change drops the copy on this node at once and on every other node through the bus", async () => {
    const hub = new MemoryBusHub();
    const clock = { now: () => 0 };
    const s = store();
    s.values.set("a", "old");
    const here = new AppSettingCache({ setting: "chat_filters", load: s.load, clock, bus: hub.bus() });
    const there = new AppSettingCache({ setting: "chat_filters", load: s.load, clock, bus: hub.bus() });
    const otherSetting = new AppSettingCache({ setting: "webhook_endpoints", load: s.load, clock, bus: hub.bus() });
    expect([await here.get("a"), await there.get("a"), await otherSetting.get("a")]).toEqual(["old", "old", "old"]);
    s.values.set("a", "new");
    here.changed("a");
    expect([await here.get("a"), await there.get("a")]).toEqual(["new", "new"]);
    // Another setting's copy is not dropped by this setting's change.
    expect(await otherSetting.get("a")).toBe("old");
    there.close();
    s.values.set("a", "newer");
    here.changed("a");
    expect(await there.get("a")).toBe("new"); // unsubscribed: keeps its copy until the TTL
  });

  it("a read under way when the change comes answers those who asked before it and is not kept", async () => {
    const s = store();
    s.values.set("a", "old");
    const c = new AppSettingCache({ setting: "before_send_hook", load: s.load, clock: { now: () => 0 } });
    const open = s.hold();
    const early = c.get("a");
    s.values.set("a", "new");
    c.changed("a");
    open();
    expect(await early).toBe("old");
    expect(await c.get("a")).toBe("new");
  });

  it("ttlMs 0 keeps no copy: every get reads", async () => {
    const s = store();
    const c = new AppSettingCache({ setting: "chat_filters", load: s.load, clock: { now: () => 0 }, ttlMs: 0 });
    await c.get("a");
    await c.get("a");
    expect(s.reads()).toBe(2);
  });

  it("a failed read is not kept: the next get reads again", async () => {
    const s = store();
    s.values.set("a", "fail");
    const c = new AppSettingCache({ setting: "chat_filters", load: s.load, clock: { now: () => 0 } });
    await expect(c.get("a")).rejects.toThrow("store down");
    s.values.set("a", "ok");
    expect(await c.get("a")).toBe("ok");
    expect(s.reads()).toBe(2);
  });

  it("keeps at most `max` apps, dropping the oldest read first", async () => {
    const s = store();
    const c = new AppSettingCache({ setting: "chat_filters", load: s.load, clock: { now: () => 0 }, max: 2 });
    await c.get("a");
    await c.get("b");
    await c.get("c"); // drops a
    expect(s.reads()).toBe(3);
    await c.get("b");
    await c.get("c");
    expect(s.reads()).toBe(3);
    await c.get("a");
    expect(s.reads()).toBe(4);
  });
});
