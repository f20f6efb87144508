import type { Message } from "@utd-stream/protocol";
import { verifyWebhook } from "@utd-stream/signaling/webhooks";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { utd } from "../../../test/helpers/cli.js";
import type { TestApp } from "../../../test/helpers/engine.js";
import { type InProcessEngine, startInProcess } from "../../../test/helpers/inproc.js";
import { type Receiver, startReceiver } from "../../../test/helpers/receiver.js";
import { type Frame, WsClient } from "./ws-helpers.js";

type Err = { error: { code: string; message: string; reason?: string } };

describe("before-send hook: allow, reject, replace, timeout with both policies, over REST and the socket", () => {
  let e: InProcessEngine;
  let hook: Receiver;
  let app: TestApp;
  let secret: string;
  let conv: string;
  let alice: string;
  let ws: WsClient;
  let wsUrl: string;
  let url: string;
  let n = 0;

  beforeAll(async () => {
    hook = await startReceiver();
    e = await startInProcess({ env: { UTD_WEBHOOK_ALLOW_NETWORKS: "loopback" } });
    ({ url, wsUrl } = await e.listen());
    app = await e.createApp({ plan: "pro" });
    const set = await e.admin<{ secret: string; policy: string; timeout_ms: number }>(
      "PUT",
      `/admin/v1/apps/${app.app_id}/hooks/before-send`,
      { url: hook.url },
    );
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ policy: "fail_open", timeout_ms: 2000 });
    secret = set.body.secret;
    alice = (await e.session(app, "bs-alice")).user_token;
    await e.session(app, "bs-bob");
    conv = (
      await e.request<{ id: string }>("POST", "/api/v1/conversations", { token: alice, body: { kind: "direct", members: ["bs-bob"] } })
    ).body.id;
    ws = await WsClient.connect(wsUrl, alice);
  });
  afterAll(async () => {
    ws?.ws.close();
    await e?.close();
    await hook?.close();
  });

  const rest = (text: string, id = `c${++n}`) =>
    e.request<Message & Err>("POST", `/api/v1/conversations/${conv}/messages`, { token: alice, body: { client_msg_id: id, text } });
  const sock = async (text: string): Promise<Frame> => {
    const id = `w${++n}`;
    ws.send({ type: "message.send", id, conversation_id: conv, client_msg_id: id, text });
    return ws.next((f) => f.type === "reply" && f.id === id, { past: false, timeoutMs: 10_000 });
  };
  const stored = async () =>
    (
      await e.request<{ messages: Message[] }>("GET", `/api/v1/conversations/${conv}/messages?limit=100`, { token: alice })
    ).body.messages.map((m) => m.text);

  test("allow: stored as sent; the hook's request is signed and verifies with the SDK helper", async () => {
    hook.respond = () => ({ status: 200, body: { action: "allow" } });
    const r = await rest("hi there");
    expect([r.status, r.body.text]).toEqual([201, "hi there"]);
    const req = hook.received.at(-1);
    if (!req) throw new Error("hook not called");
    const body = await verifyWebhook(secret, req.body, req.headers as Record<string, string>, { now: () => e.clock.now() });
    expect(body).toMatchObject({
      type: "message.before_send",
      data: { conversation_id: conv, sender: "bs-alice", text: "hi there", client_msg_id: `c${n}` },
    });
    const w = await sock("hello socket");
    expect(w).toMatchObject({ ok: true, data: { text: "hello socket" } });
  });

  test("reject: 403 rejected_by_app with the reason, and nothing is stored (REST and socket)", async () => {
    hook.respond = () => ({ status: 200, body: { action: "reject", reason: "no shouting" } });
    const before = await stored();
    const r = await rest("LOUD");
    expect([r.status, r.body.error.code, r.body.error.reason]).toEqual([403, "rejected_by_app", "no shouting"]);
    const w = await sock("LOUDER");
    expect(w).toMatchObject({ ok: false, error: { code: "rejected_by_app", reason: "no shouting" } });
    expect(await stored()).toEqual(before);
  });

  test("replace: stored as the hook returned it (REST and socket)", async () => {
    hook.respond = () => ({ status: 200, body: { action: "replace", text: "[filtered]", custom: { moderated: true } } });
    const r = await rest("something rude");
    expect([r.status, r.body.text, r.body.custom]).toEqual([201, "[filtered]", { moderated: true }]);
    const w = await sock("rude again");
    expect(w).toMatchObject({ ok: true, data: { text: "[filtered]" } });
    expect((await stored()).slice(-2)).toEqual(["[filtered]", "[filtered]"]);
  });

  test("an idempotent resend of a client_msg_id does not call the hook again", async () => {
    hook.respond = () => ({ status: 200, body: { action: "allow" } });
    const calls = hook.received.length;
    const first = await rest("once", "same-id");
    const again = await rest("once", "same-id");
    expect(first.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(hook.received.length).toBe(calls + 1);
  });

  test("timeout: fail_open stores the message; fail_closed refuses it (503) and stores nothing — REST and socket", async () => {
    await e.admin("PUT", `/admin/v1/apps/${app.app_id}/hooks/before-send`, { url: hook.url, timeout_ms: 200, policy: "fail_open" });
    e.clock.advance(3000); // past the hook cache
    hook.respond = () => ({ status: 200, body: { action: "reject", reason: "too late" }, delayMs: 1500 });
    const started = Date.now();
    const open = await rest("slow hook, open");
    expect([open.status, open.body.text]).toEqual([201, "slow hook, open"]);
    expect(Date.now() - started).toBeLessThan(1400);
    expect(await sock("slow socket, open")).toMatchObject({ ok: true });

    await e.admin("PUT", `/admin/v1/apps/${app.app_id}/hooks/before-send`, { url: hook.url, timeout_ms: 200, policy: "fail_closed" });
    e.clock.advance(3000);
    const before = await stored();
    const closed = await rest("slow hook, closed");
    expect([closed.status, closed.body.error.code]).toEqual([503, "unavailable"]);
    expect(await sock("slow socket, closed")).toMatchObject({ ok: false, error: { code: "unavailable" } });
    // A hook that answers nonsense is a failure too.
    hook.respond = () => ({ status: 200, body: { action: "maybe" } });
    expect((await rest("nonsense answer")).status).toBe(503);
    expect(await stored()).toEqual(before);
  });

  test("latency is exported as a Prometheus histogram; the CLI shows the hook without its secret", async () => {
    const text = await e.engine.metrics.getSingleMetricAsString("utd_before_send_hook_seconds");
    for (const outcome of ["allow", "reject", "replace", "error"])
      expect(text).toMatch(new RegExp(`utd_before_send_hook_seconds_count\\{outcome="${outcome}"\\} [1-9]`));
    const env = { UTD_PORT: new URL(url).port, UTD_HOST: "127.0.0.1", UTD_ADMIN_TOKEN: e.adminToken, UTD_DATA_DIR: e.dataDir };
    const shown = await utd(["hook", "show", "--app", app.app_id, "--json"], env);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ url: hook.url, policy: "fail_closed", timeout_ms: 200 });
    expect(shown.stdout).not.toContain(secret);
    // `utd webhook add` prints the endpoint's secret once; `list` never does.
    const added = await utd(
      ["webhook", "add", "--app", app.app_id, "--target-url", hook.url, "--events", "message.new,call.ended", "--json"],
      env,
    );
    expect(added.code).toBe(0);
    const ep = JSON.parse(added.stdout) as { id: string; secret: string; events: string[] };
    expect(ep.secret).toMatch(/^whsec_/);
    expect(ep.events).toEqual(["message.new", "call.ended"]);
    const listed = await utd(["webhook", "list", "--app", app.app_id, "--json"], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(ep.id);
    expect(listed.stdout).not.toContain(ep.secret);
    const bad = await utd(["webhook", "add", "--app", app.app_id, "--target-url", "ftp://x", "--events", "message.new"], env);
    expect(bad.code).toBe(1);
  }, 90_000);
});
