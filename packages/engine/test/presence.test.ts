import type { Presence } from "@utd-stream/protocol";
import { afterAll, beforeAll, expect, test } from "vitest";
import { backends, describeBackends, type FreshStore, freshStore } from "../../../test/helpers/backends.js";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import { sleep, WsClient } from "./ws-helpers.js";

type Err = { error: { code: string } };

describeBackends(await backends("store"), "presence", (store) => {
  let e: RunningEngine;
  let app: TestApp;
  let db: FreshStore | undefined;
  beforeAll(async () => {
    db = await freshStore(store);
    e = await startEngine({ env: { UTD_PRESENCE_GRACE_S: "1", ...db?.env } });
    app = await e.createApp();
  });
  afterAll(async () => {
    await e?.stop();
    await db?.drop();
  });

  const presenceOf = async (token: string, ids: string) =>
    (await e.request<{ presence: Presence[] }>("GET", `/api/v1/presence?identities=${ids}`, { token })).body.presence;

  test("watchers see online (with devices) and, after the grace period, offline with last seen", async () => {
    const watcher = await e.session(app, "p-watcher");
    const w = await WsClient.connect(e.wsUrl, watcher.user_token);
    const reply = await w.request("presence.watch", { identities: ["p-bob"] });
    expect(reply).toMatchObject({
      ok: true,
      data: { presence: [{ identity: "p-bob", status: "offline", last_seen_at: null, devices: [] }] },
    });

    const bobS = await e.session(app, "p-bob", { device_id: "phone" });
    const bob = await WsClient.connect(e.wsUrl, bobS.user_token);
    const on = await w.event<Presence>("presence.changed", (p) => p.identity === "p-bob" && p.status === "online");
    expect(on.data.devices).toEqual(["phone"]);
    const laptop = await WsClient.connect(e.wsUrl, (await e.session(app, "p-bob", { device_id: "laptop" })).user_token);
    await w.event<Presence>("presence.changed", (p) => p.devices.length === 2);
    expect((await presenceOf(watcher.user_token, "p-bob"))[0]).toMatchObject({ status: "online", devices: ["laptop", "phone"] });

    bob.close();
    laptop.close();
    const off = await w.event<Presence>("presence.changed", (p) => p.identity === "p-bob" && p.status === "offline");
    expect(off.data.devices).toEqual([]);
    expect(typeof off.data.last_seen_at).toBe("string");
    const [rest] = await presenceOf(watcher.user_token, "p-bob");
    expect(rest).toMatchObject({ status: "offline", last_seen_at: off.data.last_seen_at });
    w.close();
  });

  test("a page reload (same device back within the grace period) does not flap", async () => {
    const w = await WsClient.connect(e.wsUrl, (await e.session(app, "f-watcher")).user_token);
    await w.request("presence.watch", { identities: ["f-bob"] });
    const s = await e.session(app, "f-bob", { device_id: "tab" });
    const c1 = await WsClient.connect(e.wsUrl, s.user_token);
    await w.event<Presence>("presence.changed", (p) => p.status === "online");
    c1.ws.terminate();
    await sleep(200);
    const c2 = await WsClient.connect(e.wsUrl, s.user_token);
    await sleep(1800);
    expect(
      w
        .events()
        .filter((f) => f.type === "presence.changed")
        .map((f) => (f.data as Presence).status),
    ).toEqual(["online"]);
    c2.close();
    await w.event<Presence>("presence.changed", (p) => p.status === "offline");
    w.close();
  });

  test("unwatch stops events; non-watchers get none", async () => {
    const w = await WsClient.connect(e.wsUrl, (await e.session(app, "u-watcher")).user_token);
    const stranger = await WsClient.connect(e.wsUrl, (await e.session(app, "u-stranger")).user_token);
    await w.request("presence.watch", { identities: ["u-bob", "u-carol"] });
    expect(await w.request("presence.unwatch", { identities: ["u-bob"] })).toMatchObject({ ok: true, data: { watching: 1 } });
    const bob = await WsClient.connect(e.wsUrl, (await e.session(app, "u-bob")).user_token);
    const carol = await WsClient.connect(e.wsUrl, (await e.session(app, "u-carol")).user_token);
    await w.event<Presence>("presence.changed", (p) => p.identity === "u-carol");
    await sleep(200);
    expect(w.events().some((f) => (f.data as Presence).identity === "u-bob")).toBe(false);
    expect(stranger.events()).toEqual([]);
    for (const c of [w, stranger, bob, carol]) c.close();
  });

  test("friends get presence.changed without a watch list", async () => {
    const a = await e.session(app, "fr-alice");
    const b = await e.session(app, "fr-bob");
    expect(
      (await e.request("POST", "/api/v1/friends/requests", { token: a.user_token, body: { identity: "fr-bob" } })).status,
    ).toBeLessThan(300);
    expect((await e.request("POST", "/api/v1/friends/fr-alice/accept", { token: b.user_token, body: {} })).status).toBeLessThan(300);
    const aw = await WsClient.connect(e.wsUrl, a.user_token);
    const bw = await WsClient.connect(e.wsUrl, b.user_token);
    await aw.event<Presence>("presence.changed", (p) => p.identity === "fr-bob" && p.status === "online");
    bw.close();
    await aw.event<Presence>("presence.changed", (p) => p.identity === "fr-bob" && p.status === "offline");
    aw.close();
  });

  test("another app's users are invisible; bad queries are refused", async () => {
    const app2 = await e.createApp({ name: "p2" });
    const x = await WsClient.connect(e.wsUrl, (await e.session(app2, "same-name")).user_token);
    const me = await e.session(app, "q-me");
    await sleep(200);
    expect((await presenceOf(me.user_token, "same-name"))[0]).toMatchObject({ status: "offline", last_seen_at: null });
    const tooMany = Array.from({ length: 201 }, (_, i) => `u${i}`).join(",");
    for (const q of ["", "?identities=", `?identities=${tooMany}`, "?identities=a%20b", "?other=1"]) {
      const r = await e.request<Err>("GET", `/api/v1/presence${q}`, { token: me.user_token });
      expect([r.status, r.body.error.code], q).toEqual([400, "invalid_argument"]);
    }
    expect((await e.request("GET", "/api/v1/presence?identities=a")).status).toBe(401);
    x.close();
  });
});
