import type { Call } from "@utd-stream/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InProcessEngine, startInProcess } from "../../../test/helpers/inproc.js";
import { WsClient } from "./ws-helpers.js";

// The daily usage rollup the console charts (issue 17): active users, messages, call minutes and peak
// sockets per app and UTC day, and the live figures, over the admin API.

type Daily = {
  app_id: string;
  days: { day: string; active_users: number; messages: number; call_minutes: number; peak_sockets: number }[];
};
type Live = {
  sockets: number;
  users: number;
  messages_per_s: number;
  calls_in_progress: number;
  livekit_rooms: number | null;
  apps: { app_id: string }[];
};

describe("daily usage rollup and live figures", () => {
  let e: InProcessEngine;
  let wsUrl: string;
  const sockets: WsClient[] = [];

  beforeAll(async () => {
    e = await startInProcess();
    wsUrl = (await e.listen()).wsUrl;
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await e?.close();
  });

  it("counts active users, messages, call minutes and the peak of open sockets per day", async () => {
    const app = await e.createApp({ name: "usage" });
    const other = await e.createApp({ name: "other" });
    const ann = await e.session(app, "ann");
    const bob = await e.session(app, "bob");
    // Signed in over REST only (no socket): active today as well.
    await e.session(app, "cat");
    sockets.push(await WsClient.connect(wsUrl, ann.user_token), await WsClient.connect(wsUrl, ann.user_token));
    sockets.push(await WsClient.connect(wsUrl, bob.user_token));
    const conv = await e.request<{ id: string }>("POST", "/api/v1/conversations", {
      token: ann.user_token,
      body: { kind: "direct", members: ["bob"] },
    });
    for (const text of ["one", "two", "three"])
      await e.request("POST", `/api/v1/conversations/${conv.body.id}/messages`, {
        token: ann.user_token,
        body: { text, client_msg_id: `m-${text}` },
      });
    // A call ended after 90 s of talk (as the calls module publishes it).
    const now = e.clock.now();
    const call = {
      status: "ended",
      end_reason: "hangup",
      answered_at: new Date(now - 90_000).toISOString(),
      ended_at: new Date(now).toISOString(),
    } as Partial<Call> as Call;
    // Published to an identity with no socket here (the fake call is not a complete wire Call).
    e.engine.services.realtime.events.toUsers(app.app_id, ["carol"], "call.ended", { call });

    const live = await e.admin<Live>("GET", "/admin/v1/live");
    expect(live.status).toBe(200);
    expect(live.body.sockets).toBeGreaterThanOrEqual(3);
    expect(live.body.users).toBe(2);
    expect(live.body.messages_per_s).toBeCloseTo(0.3, 5);
    expect(live.body.livekit_rooms).toBeNull();
    expect(live.body.apps.map((a) => a.app_id)).toContain(app.app_id);

    const r = await e.admin<Daily>("GET", `/admin/v1/apps/${app.app_id}/usage/daily?days=7`);
    expect(r.status).toBe(200);
    expect(r.body.days).toHaveLength(7);
    const today = r.body.days.at(-1);
    expect(today).toMatchObject({
      day: new Date(now).toISOString().slice(0, 10),
      active_users: 3,
      messages: 3,
      call_minutes: 1.5,
      peak_sockets: 3,
    });
    expect(r.body.days.slice(0, 6).every((d) => d.messages === 0 && d.active_users === 0)).toBe(true);

    // Flushing again adds nothing twice; another app saw nothing.
    await e.engine.services.usage.flush();
    const again = await e.admin<Daily>("GET", `/admin/v1/apps/${app.app_id}/usage/daily?days=1`);
    expect(again.body.days[0]).toMatchObject({ active_users: 3, messages: 3, peak_sockets: 3 });
    const none = await e.admin<Daily>("GET", `/admin/v1/apps/${other.app_id}/usage/daily?days=1`);
    expect(none.body.days[0]).toMatchObject({ active_users: 0, messages: 0, call_minutes: 0, peak_sockets: 0 });

    // The next day starts from zero and the previous one stays.
    e.clock.advance(86_400_000);
    const next = await e.admin<Daily>("GET", `/admin/v1/apps/${app.app_id}/usage/daily?days=2`);
    expect(next.body.days.map((d) => d.messages)).toEqual([3, 0]);
  });

  it("a user written as active today is not inserted again today, and is the next day", async () => {
    const app = await e.createApp({ name: "written-once" });
    const usage = e.engine.services.usage;
    const day = () => new Date(e.clock.now()).toISOString().slice(0, 10);
    const rows = () =>
      e.engine.store.db
        .selectFrom("usage_daily_users")
        .select(["identity", "day"])
        .where("app_id", "=", app.app_id)
        .orderBy("day")
        .execute();
    await e.session(app, "dee");
    await usage.flush();
    const first = day();
    expect(await rows()).toEqual([{ identity: "dee", day: first }]);
    // The row removed behind the engine's back: active again today, the engine remembers it wrote it and skips it.
    await e.engine.store.db.deleteFrom("usage_daily_users").where("app_id", "=", app.app_id).execute();
    usage.active(app.app_id, "dee");
    await usage.flush();
    expect(await rows()).toEqual([]);
    // Another identity of the same app the same day is still written (a session makes it active).
    await e.session(app, "eve");
    await usage.flush();
    expect(await rows()).toEqual([{ identity: "eve", day: first }]);
    // Tomorrow both are new again.
    e.clock.advance(86_400_000);
    usage.active(app.app_id, "dee");
    usage.active(app.app_id, "dee");
    await usage.flush();
    expect(await rows()).toEqual([
      { identity: "eve", day: first },
      { identity: "dee", day: day() },
    ]);
  });

  it("a user erased before the flush is not written back into the active users (GDPR)", async () => {
    const app = await e.createApp({ name: "erase-before-flush" });
    await e.session(app, "gone");
    await e.session(app, "stays");
    // The session made both active today (held in memory until the flush); "gone" is erased first.
    expect((await e.admin("DELETE", `/admin/v1/apps/${app.app_id}/users/gone`)).status).toBe(200);
    await e.engine.services.usage.flush();
    const rows = await e.engine.store.db.selectFrom("usage_daily_users").select("identity").where("app_id", "=", app.app_id).execute();
    expect(rows.map((r) => r.identity)).toEqual(["stays"]);
    const daily = await e.admin<Daily>("GET", `/admin/v1/apps/${app.app_id}/usage/daily?days=1`);
    expect(daily.body.days[0]?.active_users).toBe(1);
  });

  it("refuses a bad range and an unknown app with typed errors", async () => {
    const app = await e.createApp();
    const bad = await e.admin<{ error: { code: string } }>("GET", `/admin/v1/apps/${app.app_id}/usage/daily?days=0`);
    expect(bad.body.error.code).toBe("invalid_argument");
    const big = await e.admin<{ error: { code: string } }>("GET", `/admin/v1/apps/${app.app_id}/usage/daily?days=9999`);
    expect(big.body.error.code).toBe("invalid_argument");
    const missing = await e.admin<{ error: { code: string } }>("GET", "/admin/v1/apps/app_missing/usage/daily");
    expect(missing.body.error.code).toBe("not_found");
  });
});
