// A chat session made from a user token alone (your backend minted it): what happens when that token expires.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import { ChatSessionRegistry, type UTDStreamException, type WebSocketConstructor } from "../src/index.js";

const WS = WebSocket as unknown as WebSocketConstructor;
const TTL_S = 10; // the engine's shortest user token lifetime
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("token-only chat sessions when the token expires", () => {
  let engine: RunningEngine;
  let app: TestApp;
  const registry = new ChatSessionRegistry();
  beforeAll(async () => {
    engine = await startEngine({ env: { UTD_USER_TOKEN_TTL_S: String(TTL_S) } });
    app = await engine.createApp({ plan: "pro" });
  });
  afterAll(async () => {
    registry.disposeAll();
    await engine?.stop();
  });

  const mint = async (identity: string) => (await engine.session(app, identity)).user_token;

  it("without tokenFetcher the session is marked failed and getSession builds a new one; with one it asks it and keeps working", async () => {
    const base = { appId: app.app_id, baseUrl: engine.url, WebSocket: WS };
    // Alone: the token your backend handed out, nothing to renew it with.
    const alone = await registry.getSession({ ...base, userId: "tok-alone", token: await mint("tok-alone") });
    const errors: UTDStreamException[] = [];
    alone.onError((e) => errors.push(e));
    // Renewable: the same, plus a fetcher that asks "your backend" again.
    let fetched = 0;
    const renewable = await registry.getSession({
      ...base,
      userId: "tok-renew",
      token: await mint("tok-renew"),
      tokenFetcher: async () => {
        fetched++;
        return mint("tok-renew");
      },
    });
    expect(alone.failed).toBe(false);

    // Past the expiry: the engine closes both sockets with 4401.
    const deadline = Date.now() + (TTL_S + 8) * 1000;
    while (!alone.failed && Date.now() < deadline) await sleep(200);
    expect(alone.failed).toBe(true);
    expect(errors.some((e) => e.code === "unauthorized")).toBe(true);
    const fresh = await registry.getSession({ ...base, userId: "tok-alone", token: await mint("tok-alone") });
    expect(fresh).not.toBe(alone);
    expect(fresh.failed).toBe(false);

    expect(fetched).toBeGreaterThanOrEqual(1);
    expect(renewable.failed).toBe(false);
    expect(await registry.getSession({ ...base, userId: "tok-renew" })).toBe(renewable);
    // Its REST calls and its socket work with the renewed token.
    const dm = await renewable.user("tok-alone").directConversation();
    const got = new Promise<void>((ok) => {
      fresh.conversation(dm.id).subscribeMessages((ms) => {
        if (ms.some((m) => m.text === "after the expiry")) ok();
      });
    });
    await dm.send("after the expiry");
    await got;
  }, 60_000);
});
