import { describe, expect, it } from "vitest";
import { BACKENDS, engineFor, world as makeWorld } from "./chat-world.js";
import { WsClient } from "./ws-helpers.js";

type Json = Record<string, unknown>;
interface Msg {
  id: string;
  seq: number;
  text: string | null;
  deleted: boolean;
}
interface Report {
  id: string;
  kind: string;
  identity: string;
  state: string;
  message_text: string | null;
}
interface Err {
  error: { code: string; reason?: string };
}

describe.each(BACKENDS)("reports and filters on %s", (_name, setup) => {
  const suite = engineFor(setup);
  const req = <T = Json>(method: string, path: string, token: string, body?: unknown) =>
    suite.engine.request<T>(method, path, { token, body });
  let k = 0;
  const send = (token: string, conv: string, text: string) =>
    req<Msg & Err>("POST", `/api/v1/conversations/${conv}/messages`, token, { client_msg_id: `mod${++k}`, text });
  const history = async (token: string, conv: string) =>
    (await req<{ messages: Msg[]; last_seq: number }>("GET", `/api/v1/conversations/${conv}/messages`, token)).body;

  it("reports go to the app's queue; admins dismiss, delete the message or ban the user; bad input changes nothing", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { app, t, ids } = await makeWorld(suite.engine, 4);
    const [a, b, c, d] = ids as [string, string, string, string];
    const g = (await req<{ id: string }>("POST", "/api/v1/conversations", t[a] as string, { kind: "group", members: [b, c] })).body.id;
    const bad = (await send(t[b] as string, g, "buy cheap stuff")).body;
    const r1 = await req<Report>("POST", "/api/v1/reports", t[a] as string, {
      kind: "message",
      conversation_id: g,
      message_id: bad.id,
      reason: "spam",
    });
    expect(r1.status).toBe(201);
    expect(r1.body).toMatchObject({ kind: "message", identity: b, state: "open", message_text: "buy cheap stuff" });
    const again = await req<Report>("POST", "/api/v1/reports", t[a] as string, {
      kind: "message",
      conversation_id: g,
      message_id: bad.id,
      reason: "spam!",
    });
    expect([again.status, again.body.id]).toEqual([200, r1.body.id]);
    const byC = await req<Report>("POST", "/api/v1/reports", t[c] as string, {
      kind: "message",
      conversation_id: g,
      message_id: bad.id,
      reason: "ads",
    });
    expect(byC.status).toBe(201);
    const userReport = await req<Report>("POST", "/api/v1/reports", t[a] as string, { kind: "user", identity: c, reason: "rude" });
    expect(userReport.status).toBe(201);
    // Refused, and nothing filed: not a member, own message, yourself, unknown user, bad shapes.
    for (const [who, body, code] of [
      [d, { kind: "message", conversation_id: g, message_id: bad.id, reason: "x" }, "not_found"],
      [b, { kind: "message", conversation_id: g, message_id: bad.id, reason: "x" }, "invalid_argument"],
      [a, { kind: "user", identity: a, reason: "x" }, "invalid_argument"],
      [a, { kind: "user", identity: "nobody_here", reason: "x" }, "not_found"],
      [a, { kind: "user", identity: c, reason: "" }, "invalid_argument"],
      [a, { kind: "thing", identity: c, reason: "x" }, "invalid_argument"],
      [a, { kind: "message", conversation_id: g, reason: "x" }, "invalid_argument"],
    ] as const) {
      const r = await req<Err>("POST", "/api/v1/reports", t[who] as string, body);
      expect(r.body.error?.code, JSON.stringify(body)).toBe(code);
    }
    const queue = await suite.engine.admin<{ reports: Report[] }>("GET", `/admin/v1/apps/${app.app_id}/reports?state=open`);
    expect(queue.body.reports.map((r) => r.id).sort()).toEqual([r1.body.id, byC.body.id, userReport.body.id].sort());

    // Delete the message: a tombstone for everyone, live; every open report of that message is settled.
    const wc = await WsClient.connect(suite.engine.wsUrl, t[c] as string);
    const del = await suite.engine.admin<Report>("POST", `/admin/v1/apps/${app.app_id}/reports/${r1.body.id}/resolve`, {
      action: "delete_message",
    });
    expect(del.body.state).toBe("message_deleted");
    await wc.event<Msg>("message.deleted", (m) => m.id === bad.id);
    wc.close();
    expect((await history(t[a] as string, g)).messages.find((m) => m.id === bad.id)?.deleted).toBe(true);
    const open = await suite.engine.admin<{ reports: Report[] }>("GET", `/admin/v1/apps/${app.app_id}/reports?state=open`);
    expect(open.body.reports.map((r) => r.id)).toEqual([userReport.body.id]);
    const twice = await suite.engine.admin<Err>("POST", `/admin/v1/apps/${app.app_id}/reports/${r1.body.id}/resolve`, {
      action: "dismiss",
    });
    expect([twice.status, twice.body.error.code]).toEqual([409, "conflict"]);
    const wrong = await suite.engine.admin<Err>("POST", `/admin/v1/apps/${app.app_id}/reports/${userReport.body.id}/resolve`, {
      action: "delete_message",
    });
    expect(wrong.body.error.code).toBe("invalid_argument");
    expect(
      (await suite.engine.admin<Err>("POST", `/admin/v1/apps/${app.app_id}/reports/${userReport.body.id}/resolve`, { action: "nuke" }))
        .status,
    ).toBe(400);
    // Ban the user: banned app-wide.
    const ban = await suite.engine.admin<Report>("POST", `/admin/v1/apps/${app.app_id}/reports/${userReport.body.id}/resolve`, {
      action: "ban_user",
    });
    expect(ban.body.state).toBe("user_banned");
    const banned = await send(t[c] as string, g, "still here?");
    expect(banned.body.error.code).toBe("banned");
    // Dismiss.
    const r3 = await req<Report>("POST", "/api/v1/reports", t[b] as string, { kind: "user", identity: a, reason: "meh" });
    const dis = await suite.engine.admin<Report>("POST", `/admin/v1/apps/${app.app_id}/reports/${r3.body.id}/resolve`, {
      action: "dismiss",
    });
    expect(dis.body.state).toBe("dismissed");
    // Another app's admin path does not reach this report.
    const other = await suite.engine.createApp({ plan: "free" });
    const cross = await suite.engine.admin<Err>("POST", `/admin/v1/apps/${other.app_id}/reports/${r3.body.id}/resolve`, {
      action: "dismiss",
    });
    expect(cross.body.error.code).toBe("not_found");
  });

  it("word filter (mask, reject) and link policy (strip, reject) apply before storage on REST and WebSocket sends and edits", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { app, t, ids } = await makeWorld(suite.engine, 2);
    const [a, b] = ids as [string, string];
    const g = (await req<{ id: string }>("POST", "/api/v1/conversations", t[a] as string, { kind: "group", members: [b] })).body.id;
    const filters = `/admin/v1/apps/${app.app_id}/chat/filters`;
    expect((await suite.engine.admin("GET", filters)).body).toEqual({ words: [], link_policy: "allow" });
    for (const body of [
      { words: [{ term: "x", action: "zap" }], link_policy: "allow" },
      {
        words: [
          { term: "dup", action: "mask" },
          { term: "DUP", action: "reject" },
        ],
        link_policy: "allow",
      },
      { words: [], link_policy: "sometimes" },
      { words: [{ term: "  ", action: "mask" }], link_policy: "allow" },
    ]) {
      const r = await suite.engine.admin<Err>("PUT", filters, body);
      expect([r.status, r.body.error.code], JSON.stringify(body)).toEqual([400, "invalid_argument"]);
    }
    expect((await suite.engine.admin("GET", filters)).body).toEqual({ words: [], link_policy: "allow" });
    const set = await suite.engine.admin("PUT", filters, {
      words: [
        { term: "darn", action: "mask" },
        { term: "forbidden", action: "reject" },
      ],
      link_policy: "strip",
    });
    expect(set.status).toBe(200);
    const before = (await history(t[a] as string, g)).last_seq;
    // Masked (whole words, any case), links stripped.
    const m = await send(t[a] as string, g, "Darn it, see https://spam.example/x now; darning is fine");
    expect(m.body.text).toBe("**** it, see now; darning is fine");
    // Rejected: a reject term, over REST and WebSocket; a text that was only a link.
    const r1 = await send(t[a] as string, g, "this is FORBIDDEN talk");
    expect([r1.status, r1.body.error.code, r1.body.error.reason]).toEqual([403, "content_rejected", "word"]);
    const wa = await WsClient.connect(suite.engine.wsUrl, t[a] as string);
    expect(await wa.request("message.send", { conversation_id: g, client_msg_id: "wsf", text: "forbidden" })).toMatchObject({
      ok: false,
      error: { code: "content_rejected" },
    });
    const wsOk = await wa.request("message.send", { conversation_id: g, client_msg_id: "wsm", text: "darn www.x.example" });
    expect(wsOk).toMatchObject({ ok: true, data: { text: "****" } });
    const onlyLink = await send(t[a] as string, g, "https://only.example");
    expect(onlyLink.body.error.code).toBe("content_rejected");
    // Edits go through the filter too.
    const edit = await req<Msg & Err>("PATCH", `/api/v1/conversations/${g}/messages/${m.body.id}`, t[a] as string, {
      text: "forbidden now",
    });
    expect(edit.body.error.code).toBe("content_rejected");
    const edit2 = await req<Msg>("PATCH", `/api/v1/conversations/${g}/messages/${m.body.id}`, t[a] as string, { text: "darn" });
    expect(edit2.body.text).toBe("****");
    // Link policy reject.
    await suite.engine.admin("PUT", filters, { words: [], link_policy: "reject" });
    const r2 = await send(t[b] as string, g, "look http://evil.example");
    expect([r2.body.error.code, r2.body.error.reason]).toEqual(["content_rejected", "link"]);
    expect((await send(t[b] as string, g, "no links here")).status).toBe(201);
    // Sent at once (a batch reads the filters once for all its messages): each is refused or stored on its own.
    const together = await Promise.all([
      send(t[a] as string, g, "plain one"),
      send(t[b] as string, g, "bad http://evil.example/1"),
      send(t[a] as string, g, "plain two"),
      send(t[b] as string, g, "@nobody is fine"),
      send(t[a] as string, g, "www.evil.example"),
    ]);
    expect(together.map((r) => r.status)).toEqual([201, 403, 201, 201, 403]);
    expect(together.map((r) => r.body.error?.reason)).toEqual([undefined, "link", undefined, undefined, "link"]);
    // Only the accepted messages were stored: seq moved by exactly six.
    expect((await history(t[a] as string, g)).last_seq).toBe(before + 6);
    wa.close();
  });
});
