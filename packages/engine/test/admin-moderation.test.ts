import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InProcessEngine, startInProcess } from "../../../test/helpers/inproc.js";
import { WsClient } from "./ws-helpers.js";

// Admin routes the console drives (issue 17): a user's devices and sockets, signing a user out
// everywhere, and deleting any message as the app's moderator. Bad input changes nothing.

describe("admin: user devices, revocation, message moderation", () => {
  let e: InProcessEngine;
  let wsUrl: string;

  beforeAll(async () => {
    e = await startInProcess();
    wsUrl = (await e.listen()).wsUrl;
  });
  afterAll(() => e?.close());

  it("shows a user's sockets and push devices (token tail only) and revokes every token", async () => {
    const app = await e.createApp();
    const ann = await e.session(app, "ann");
    const reg = await e.request("POST", "/api/v1/push/tokens", {
      token: ann.user_token,
      body: { platform: "fcm", token: "fcm-token-abcdef123456", device_id: "phone" },
    });
    expect(reg.status).toBeLessThan(300);
    const ws = await WsClient.connect(wsUrl, ann.user_token);
    const d = await e.admin<{ sockets: number; push_tokens: { token_tail: string; device_id: string }[] }>(
      "GET",
      `/admin/v1/apps/${app.app_id}/users/ann/devices`,
    );
    expect(d.status).toBe(200);
    expect(d.body.sockets).toBe(1);
    expect(d.body.push_tokens).toEqual([expect.objectContaining({ token_tail: "123456", device_id: "phone" })]);
    expect(JSON.stringify(d.body)).not.toContain("fcm-token-abcdef");

    const closed = ws.closed;
    const r = await e.admin<{ revoked_at: string }>("POST", `/admin/v1/apps/${app.app_id}/users/ann/revoke`);
    expect(r.status).toBe(200);
    expect((await closed).code).toBe(4401);
    const after = await e.request("GET", "/api/v1/unread", { token: ann.user_token });
    expect(after.status).toBe(401);

    const missing = await e.admin<{ error: { code: string } }>("POST", `/admin/v1/apps/${app.app_id}/users/nobody/revoke`);
    expect(missing.body.error.code).toBe("not_found");
    const otherApp = await e.admin<{ error: { code: string } }>("GET", "/admin/v1/apps/app_missing/users/ann/devices");
    expect(otherApp.body.error.code).toBe("not_found");
  });

  it("deletes any message of the app as moderator (tombstone), and nothing of another app", async () => {
    const app = await e.createApp();
    const other = await e.createApp();
    const ann = await e.session(app, "ann");
    await e.session(app, "bob");
    const conv = await e.request<{ id: string }>("POST", "/api/v1/conversations", {
      token: ann.user_token,
      body: { kind: "group", members: ["bob"] },
    });
    const msg = await e.request<{ id: string }>("POST", `/api/v1/conversations/${conv.body.id}/messages`, {
      token: ann.user_token,
      body: { text: "rude", client_msg_id: "m1" },
    });
    // Through another app's path the conversation does not exist, and the message stays.
    const wrong = await e.admin<{ error: { code: string } }>(
      "DELETE",
      `/admin/v1/apps/${other.app_id}/conversations/${conv.body.id}/messages/${msg.body.id}`,
    );
    expect(wrong.body.error.code).toBe("not_found");
    const hist = await e.request<{ messages: { id: string; text: string | null }[] }>(
      "GET",
      `/api/v1/conversations/${conv.body.id}/messages`,
      {
        token: ann.user_token,
      },
    );
    expect(hist.body.messages.find((m) => m.id === msg.body.id)?.text).toBe("rude");

    const del = await e.admin<{ id: string; deleted_at: string | null; text: string | null }>(
      "DELETE",
      `/admin/v1/apps/${app.app_id}/conversations/${conv.body.id}/messages/${msg.body.id}`,
    );
    expect(del.status).toBe(200);
    expect(del.body.deleted_at).not.toBeNull();
    expect(del.body.text).toBeNull();
    const again = await e.admin<{ error: { code: string } }>(
      "DELETE",
      `/admin/v1/apps/${app.app_id}/conversations/${conv.body.id}/messages/${msg.body.id}`,
    );
    expect(again.body.error.code).toBe("conflict");
  });
});
