import type { TypingEventData } from "@utd-stream/protocol";
import { afterAll, beforeAll, expect, test } from "vitest";
import { backends, describeBackends, type FreshStore, freshStore } from "../../../test/helpers/backends.js";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import { sleep, WsClient } from "./ws-helpers.js";

describeBackends(await backends("store"), "typing", (store) => {
  let e: RunningEngine;
  let app: TestApp;
  let db: FreshStore | undefined;
  beforeAll(async () => {
    db = await freshStore(store);
    e = await startEngine({ env: { UTD_TYPING_TTL_S: "1", ...db?.env } });
    app = await e.createApp();
  });
  afterAll(async () => {
    await e?.stop();
    await db?.drop();
  });

  test("start reaches only the other participant; stop and expiry send typing.stopped", async () => {
    const a = await WsClient.connect(e.wsUrl, (await e.session(app, "t-alice")).user_token);
    const b = await WsClient.connect(e.wsUrl, (await e.session(app, "t-bob")).user_token);
    const c = await WsClient.connect(e.wsUrl, (await e.session(app, "t-carol")).user_token);
    const r = await a.request("typing.start", { to: "t-bob" });
    expect(r).toMatchObject({ ok: true });
    const started = await b.event<TypingEventData>("typing.started");
    expect(started.data).toMatchObject({ identity: "t-alice", conversation_id: null });
    expect(typeof started.data.expires_at).toBe("string");
    await a.request("typing.stop", { to: "t-bob" });
    await b.event<TypingEventData>("typing.stopped");

    await a.request("typing.start", { to: "t-bob" });
    await b.next((f) => f.type === "typing.stopped" && b.events().filter((x) => x.type === "typing.stopped").length === 2);
    await sleep(100);
    expect(a.events()).toEqual([]);
    expect(c.events()).toEqual([]);
    // A stop with nothing started sends nothing.
    await a.request("typing.stop", { to: "t-bob" });
    await sleep(100);
    expect(b.events().length).toBe(4);
    for (const x of [a, b, c]) x.close();
  });

  test("conversation typing reaches the other members only, not outsiders", async () => {
    const sa = await e.session(app, "tc-alice");
    const a = await WsClient.connect(e.wsUrl, sa.user_token);
    const b = await WsClient.connect(e.wsUrl, (await e.session(app, "tc-bob")).user_token);
    const out = await WsClient.connect(e.wsUrl, (await e.session(app, "tc-out")).user_token);
    const conv = await e.request<{ id: string }>("POST", "/api/v1/conversations", {
      token: sa.user_token,
      body: { kind: "group", name: "typing", members: ["tc-bob"] },
    });
    expect(conv.status).toBe(201);
    expect(await a.request("typing.start", { conversation_id: conv.body.id })).toMatchObject({ ok: true });
    const ev = await b.event<TypingEventData>("typing.started");
    expect(ev.data).toMatchObject({ identity: "tc-alice", conversation_id: conv.body.id });
    // An outsider may not type into it, and hears nothing.
    const refused = await out.request("typing.start", { conversation_id: conv.body.id });
    expect(refused).toMatchObject({ ok: false });
    await sleep(100);
    expect(out.events().filter((f) => f.type.startsWith("typing."))).toEqual([]);
    expect(a.events().filter((f) => f.type.startsWith("typing."))).toEqual([]);
    for (const x of [a, b, out]) x.close();
  });

  test("bad targets are refused and send nothing", async () => {
    const a = await WsClient.connect(e.wsUrl, (await e.session(app, "tb-alice")).user_token);
    const b = await WsClient.connect(e.wsUrl, (await e.session(app, "tb-bob")).user_token);
    expect(await a.request("typing.start", { to: "tb-alice" })).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    expect(await a.request("typing.start", { to: "tb-bob", conversation_id: "c1" })).toMatchObject({
      ok: false,
      error: { code: "invalid_argument" },
    });
    expect(await a.request("typing.start", { to: 7 })).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    expect(await a.request("typing.start", { to: "x".repeat(200) })).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    const conv = await a.request("typing.start", { conversation_id: "conv_unknown" });
    expect(conv).toMatchObject({ ok: false });
    expect(["not_found", "forbidden"]).toContain((conv.error as { code: string }).code);
    await sleep(100);
    expect(b.events()).toEqual([]);
    a.close();
    b.close();
  });
});
