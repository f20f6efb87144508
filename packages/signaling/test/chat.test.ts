import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import { freePort } from "../../../test/helpers/net.js";
import {
  ChatSessionRegistry,
  chatSessionFor,
  highlightParts,
  MemoryChatStorage,
  type ReadableStore,
  type UTDMessage,
  type UTDSearchHit,
  UTDSignaling,
  type UTDStreamException,
  type WebSocketConstructor,
} from "../src/index.js";

const ENV = {
  // A small resume buffer, so a client offline for a few messages must resync from history.
  UTD_WS_RESUME_MAX_EVENTS: "3",
  UTD_RATE_REQUESTS_USER: "100000/100000",
  UTD_RATE_REQUESTS_APP: "100000/100000",
  UTD_RATE_SESSION_IDENTITY: "100000/100000",
  UTD_RATE_SESSION_APP: "100000/100000",
  UTD_PRESENCE_GRACE_S: "0",
};
const WS = WebSocket as unknown as WebSocketConstructor;

/** Resolves once the store's value satisfies `pred` (checked now and on every change). */
function until<T>(store: ReadableStore<T>, pred: (v: T) => boolean, ms = 10_000): Promise<T> {
  if (pred(store.value)) return Promise.resolve(store.value);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`store never matched; last value ${JSON.stringify(store.value)}`));
    }, ms);
    const off = store.subscribe((v) => {
      if (!pred(v)) return;
      clearTimeout(timer);
      off();
      resolve(v);
    });
  });
}

describe("chat SDK against a real engine", () => {
  let engine: RunningEngine;
  let app: TestApp;
  const dataDir = mkdtempSync(join(tmpdir(), "utd-sdk-chat-"));
  const registry = new ChatSessionRegistry();
  const session = (userId: string, extra: Record<string, unknown> = {}) =>
    registry.getSession({ appId: app.app_id, appKey: app.app_key, userId, baseUrl: engine.url, WebSocket: WS, ...extra });

  beforeAll(async () => {
    engine = await startEngine({ env: { ...ENV, UTD_PORT: String(await freePort()) }, dataDir });
    app = await engine.createApp({ plan: "pro" });
  });
  afterAll(async () => {
    registry.disposeAll();
    await engine?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("getSession: same app + user gives the same session; a fresh one after dispose", async () => {
    const a1 = await session("reg-alice");
    const a2 = await session("reg-alice", { token: "ignored-when-a-session-exists" });
    expect(a2).toBe(a1);
    const b = await session("reg-bob");
    expect(b).not.toBe(a1);
    a1.dispose();
    const a3 = await session("reg-alice");
    expect(a3).not.toBe(a1);
    expect(a3.me.id).toBe("reg-alice");
  });

  it("getSession: a session that failed (user banned) is replaced by a fresh one", async () => {
    const s1 = await session("ban-me");
    const errors: UTDStreamException[] = [];
    s1.onError((e) => errors.push(e));
    expect((await engine.admin("POST", `/admin/v1/apps/${app.app_id}/bans`, { identity: "ban-me" })).status).toBeLessThan(300);
    const deadline = Date.now() + 10_000;
    while (!s1.failed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(s1.failed).toBe(true);
    expect(errors.some((e) => e.isBanned || e.isForbidden)).toBe(true);
    await expect(session("ban-me")).rejects.toMatchObject({ code: "banned" });
    await engine.admin("DELETE", `/admin/v1/apps/${app.app_id}/bans/ban-me`);
    const s2 = await session("ban-me");
    expect(s2).not.toBe(s1);
    expect(s2.failed).toBe(false);
  });

  it("optimistic send, live windows, unread stores across devices, conversation list", async () => {
    const alice = await session("live-alice");
    const bob = await session("live-bob");
    const ref = await alice.createConversation("group", { name: "crew", members: ["live-bob"] });
    const bobRef = bob.conversation(ref.id);
    expect(bob.conversation(ref.id)).toBe(bobRef);
    const aliceWin = ref.subscribeMessages(() => {});
    const bobWin = bobRef.subscribeMessages(() => {});
    const list = bob.subscribeConversations(() => {});
    await until(list.conversations, (l) => l.some((c) => c.id === ref.id));
    await until(aliceWin.messages, () => true);
    const sending = ref.send("hello bob");
    // The optimistic copy shows at once.
    expect(aliceWin.messages.value.at(-1)).toMatchObject({ text: "hello bob", pending: true, seq: null });
    const stored = await sending;
    expect(stored.seq).toBe(1);
    await until(aliceWin.messages, (m) => m.length === 1 && m[0]?.pending === undefined && m[0]?.id === stored.id);
    await until(bobWin.messages, (m) => m.some((x) => x.id === stored.id));
    await until(bob.unread, (u) => u.total === 1 && u.conversations[ref.id] === 1);
    await until(bobRef.unread, (n) => n === 1);
    await ref.send({ text: "second", custom: { mood: "good" } });
    await until(bobRef.unread, (n) => n === 2);
    const top = await until(list.conversations, (l) => l[0]?.lastMessage?.text === "second");
    expect(top[0]).toMatchObject({ id: ref.id, unreadCount: 2 });
    // Bob reads on another device (raw REST): this session's stores follow through receipt.read.
    const phone = (await engine.session(app, "live-bob", { device_id: "phone" })).user_token;
    const r = await engine.request("POST", `/api/v1/conversations/${ref.id}/read`, { token: phone, body: { seq: 2 } });
    expect(r.status).toBe(200);
    await until(bob.unread, (u) => u.total === 0);
    await until(bobRef.unread, (n) => n === 0);
    await until(list.conversations, (l) => l[0]?.unreadCount === 0);
    // Reactions, edits and deletes reach the windows.
    await bobRef.react(stored.id, "🔥");
    await until(aliceWin.messages, (m) => m.find((x) => x.id === stored.id)?.reactions["🔥"]?.[0] === "live-bob");
    await ref.edit(stored.id, { text: "hello, bob" });
    await until(bobWin.messages, (m) => m.find((x) => x.id === stored.id)?.text === "hello, bob");
    await ref.delete(stored.id);
    await until(bobWin.messages, (m) => m.find((x) => x.id === stored.id)?.deleted === true);
    // Conversation typing reaches the other member's reference.
    await ref.startTyping();
    await until(bobRef.typing, (t) => t.includes("live-alice"));
    await ref.stopTyping();
    await until(bobRef.typing, (t) => t.length === 0);
    // Paging back.
    for (let i = 0; i < 5; i++) await ref.send(`n${i}`);
    const small = bobRef.subscribeMessages(() => {}, { limit: 3 });
    await until(small.messages, (m) => m.length === 3);
    expect(await small.loadMore(10)).toBe(true);
    expect(small.messages.value.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(small.loadedAll).toBe(true);
    for (const s of [aliceWin, bobWin, small, list]) s.unsubscribe();
  });

  it("a send made while the engine is down is retried after reconnect and stored exactly once", async () => {
    const alice = await session("down-alice");
    const bob = await session("down-bob");
    const ref = await alice.createConversation("direct", { members: ["down-bob"] });
    const bobWin = bob.conversation(ref.id).subscribeMessages(() => {});
    await until(bobWin.messages, () => true);
    await engine.stop();
    const sending = ref.send({ text: "sent while offline", clientMsgId: "offline-1" });
    await new Promise((r) => setTimeout(r, 300));
    engine = await startEngine({ env: { ...ENV, UTD_PORT: new URL(engine.url).port }, dataDir });
    const stored = await sending;
    expect(stored).toMatchObject({ text: "sent while offline", clientMsgId: "offline-1", seq: 1 });
    await until(bobWin.messages, (m) => m.some((x) => x.clientMsgId === "offline-1"));
    // A second explicit retry with the same id returns the same message.
    const again = await ref.send({ text: "sent while offline", clientMsgId: "offline-1" });
    expect(again.id).toBe(stored.id);
    const h = await bob.chat.history(ref.id);
    expect(h.messages.filter((m: UTDMessage) => m.clientMsgId === "offline-1")).toHaveLength(1);
    bobWin.unsubscribe();
  }, 60_000);

  it("offline-first: a reload while offline shows the cache and pending sends at once; on reconnect they go out in order, exactly once", async () => {
    const storage = new MemoryChatStorage();
    const token = (await engine.session(app, "off-alice")).user_token;
    const offline = { storage, limits: { conversations: 10, messagesPerConversation: 20 } };
    const reg = new ChatSessionRegistry();
    const open = () => reg.getSession({ appId: app.app_id, userId: "off-alice", token, baseUrl: engine.url, WebSocket: WS, offline });
    const alice = await open();
    const bob = await session("off-bob");
    const ref = await alice.createConversation("direct", { members: ["off-bob"] });
    await ref.send("while online");
    const list = alice.subscribeConversations(() => {});
    await until(list.conversations, (l) => l.some((c) => c.id === ref.id));
    const win = ref.subscribeMessages(() => {});
    await until(win.messages, (m) => m.some((x) => x.text === "while online"));
    list.unsubscribe();
    win.unsubscribe();

    // Offline: three sends wait in the persisted outbox.
    await engine.stop();
    for (const n of [1, 2, 3]) void ref.send(`offline ${n}`).catch(() => {});
    await expect.poll(async () => (await alice.cache?.outbox())?.length, { timeout: 10_000 }).toBe(3);

    // "Reload" while still offline: a new session on the same storage shows the cache and the pending sends at once.
    reg.disposeAll();
    const again = await open();
    const list2 = again.subscribeConversations(() => {});
    await until(list2.conversations, (l) => l.some((c) => c.id === ref.id));
    const win2 = again.conversation(ref.id).subscribeMessages(() => {});
    const shown = await until(win2.messages, (m) => m.filter((x) => x.pending).length === 3);
    expect(shown.map((m) => [m.text, m.pending ?? false])).toEqual([
      ["while online", false],
      ["offline 1", true],
      ["offline 2", true],
      ["offline 3", true],
    ]);

    // Online again: delivered in order, exactly once, and the outbox empties.
    engine = await startEngine({ env: { ...ENV, UTD_PORT: new URL(engine.url).port }, dataDir });
    await until(win2.messages, (m) => m.filter((x) => x.text?.startsWith("offline ") && !x.pending).length === 3, 30_000);
    await expect.poll(async () => (await again.cache?.outbox())?.length, { timeout: 10_000 }).toBe(0);
    const seen = (await bob.chat.history(ref.id)).messages.map((m: UTDMessage) => m.text);
    expect(seen).toEqual(["while online", "offline 1", "offline 2", "offline 3"]);

    // Signing out clears the cache.
    await again.signOut();
    expect((await storage.keys()).filter((k) => k.includes("off-alice"))).toEqual([]);
    list2.unsubscribe();
    win2.unsubscribe();
  }, 90_000);

  it("uploads: the file token goes into a message and members can download the bytes", async () => {
    const alice = await session("up-alice");
    const bob = await session("up-bob");
    const ref = await alice.createConversation("group", { members: ["up-bob"] });
    const bytes = new Uint8Array(4096).map((_, i) => i % 251);
    const token = await alice.uploadImage(bytes, { filename: "dots.png", contentType: "image/png", width: 64, height: 64 });
    const voice = await alice.uploadVoice(new Uint8Array([1, 2, 3]), { filename: "v.ogg", contentType: "audio/ogg", duration: 0.5 });
    const m = await ref.send({ text: "files", files: [token, voice] });
    expect(m.attachments.map((a) => [a.kind, a.filename, a.metadata])).toEqual([
      ["image", "dots.png", { width: 64, height: 64 }],
      ["voice", "v.ogg", { duration: 0.5 }],
    ]);
    const f = await bob.chat.file(token);
    const dl = await fetch(f.downloadUrl as string);
    expect(new Uint8Array(await dl.arrayBuffer())).toEqual(bytes);
  });

  it("threads and mentions: replies stay out of the window, the parent shows the summary, unread per thread", async () => {
    const alice = await session("thr-alice");
    const bob = await session("thr-bob");
    const ref = await alice.createConversation("group", { name: "threads", members: ["thr-bob"] });
    const bobRef = bob.conversation(ref.id);
    const bobWin = bobRef.subscribeMessages(() => {});
    await until(bobWin.messages, () => true);
    const parent = await ref.send("plan for friday? @thr-bob");
    expect(parent.mentions).toEqual(["thr-bob"]);
    await until(bobWin.messages, (m) => m.some((x) => x.id === parent.id));
    const updates: number[] = [];
    const off = bob.onThreadUpdated((u) => updates.push(u.replyCount));
    const reply = await bobRef.reply(parent.id, "ship it");
    expect(reply.threadId).toBe(parent.id);
    await ref.send("main goes on");
    // The reply is not in the main window, the parent shows one reply, and nothing was refetched as a gap.
    const win = await until(bobWin.messages, (m) => m.some((x) => x.text === "main goes on") && m[0]?.thread?.replyCount === 1);
    expect(win.map((m) => m.text)).toEqual(["plan for friday? @thr-bob", "main goes on"]);
    expect(win[0]?.thread?.participants).toEqual(["thr-alice", "thr-bob"]);
    expect(updates).toContain(1);
    off();
    const replies = await ref.threadHistory(parent.id);
    expect(replies.messages.map((m) => m.text)).toEqual(["ship it"]);
    const mine = await alice.threads();
    expect(mine.threads.map((t) => [t.parent.id, t.unreadCount])).toEqual([[parent.id, 1]]);
    expect(await ref.markThreadRead(parent.id, replies.lastSeq)).toEqual({ lastReadSeq: replies.lastSeq, unreadCount: 0 });
    expect((await alice.threads()).totalUnread).toBe(0);
    // Bob's mention count, until he reads.
    expect((await bobRef.get()).mentionCount).toBe(1);
    await bobRef.markRead();
    expect((await bobRef.get()).mentionCount).toBe(0);
    bobWin.unsubscribe();
  });

  it("subscribeConversations: a conversation created while the first list read is on its way still shows", async () => {
    // The list read is held back until the conversation exists and its message was sent (a slow network or engine).
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const slowList: typeof fetch = async (input, init) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const res = await fetch(input, init);
      if (/\/api\/v1\/conversations\?/.test(url) && (init?.method ?? "GET") === "GET") await held;
      return res;
    };
    const viewer = await session("late-viewer", { fetch: slowList });
    const sender = await session("late-sender");
    const list = viewer.subscribeConversations(() => {});
    const ref = await sender.createConversation("direct", { members: ["late-viewer"] });
    await ref.send("are you there?");
    // The message's event reaches the viewer while its first read is still held: it must read again after it.
    await until(viewer.conversation(ref.id).unread, (n) => n === 1);
    release();
    const shown = await until(list.conversations, (l) => l.some((c) => c.id === ref.id));
    expect(shown.find((c) => c.id === ref.id)?.lastMessage?.text).toBe("are you there?");
    list.unsubscribe();
  });

  it("subscribeConversations: a message the list read already counted is not counted again when its event comes after", async () => {
    // The viewer's first list read is held back (a slow engine), and so, later, are its socket's frames (a slow link).
    let releaseRead: () => void = () => {};
    const readHeld = new Promise<void>((r) => {
      releaseRead = r;
    });
    let reads = 0;
    const slowFirstList: typeof fetch = async (input, init) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const res = await fetch(input, init);
      if (/\/api\/v1\/conversations\?/.test(url) && (init?.method ?? "GET") === "GET" && reads++ === 0) await readHeld;
      return res;
    };
    let holding = false;
    const heldFrames: (() => void)[] = [];
    type Handler = ((ev: { data: unknown }) => void) | null;
    const base = Object.getOwnPropertyDescriptor(WebSocket.prototype, "onmessage");
    class SlowLink extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        // ws keeps `onmessage` as an accessor on its prototype: this one wraps the handler the SDK sets.
        Object.defineProperty(this, "onmessage", {
          configurable: true,
          get: () => base?.get?.call(this) as Handler,
          set: (h: Handler) =>
            base?.set?.call(this, h ? (ev: { data: unknown }) => (holding ? heldFrames.push(() => h(ev)) : h(ev)) : null),
        });
      }
    }
    const viewer = await session("count-viewer", { fetch: slowFirstList, WebSocket: SlowLink as unknown as WebSocketConstructor });
    const sender = await session("count-sender");
    const list = viewer.subscribeConversations(() => {});
    const ref = await sender.createConversation("direct", { members: ["count-viewer"] });
    await ref.send("one");
    // "one" reaches the viewer while its first read is on its way: the list will read again after it.
    await until(viewer.conversation(ref.id).unread, (n) => n === 1);
    holding = true;
    await ref.send("two"); // stored and in the viewer's stream; its frame is held on the way
    for (let i = 0; i < 200 && heldFrames.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    releaseRead();
    // The second read counts "two".
    await until(list.conversations, (l) => l.find((c) => c.id === ref.id)?.unreadCount === 2);
    holding = false;
    expect(heldFrames.length).toBeGreaterThan(0);
    for (const f of heldFrames.splice(0)) f(); // then its frame arrives
    await new Promise((r) => setTimeout(r, 50));
    expect(list.conversations.value.find((c) => c.id === ref.id)?.unreadCount).toBe(2);
    list.unsubscribe();
  });

  it("subscribeConversations pages further back with loadMore", async () => {
    const me = await session("page-me");
    for (const peer of ["page-a", "page-b", "page-c"]) {
      await session(peer);
      await me.createConversation("direct", { members: [peer] });
    }
    const list = me.subscribeConversations(() => {}, { limit: 2 });
    await until(list.conversations, (l) => l.length === 2);
    expect(await list.loadMore(5)).toBe(true);
    expect(list.conversations.value).toHaveLength(3);
    expect(await list.loadMore(5)).toBe(false);
    list.unsubscribe();
  });

  it("searchMessages: ranked hits with highlight ranges, filters, paging, and typed errors", async () => {
    const me = await session("search-me");
    await session("search-peer");
    const c = await me.createConversation("group", { members: ["search-peer"] });
    await c.send("کل صبح میٹنگ ہے");
    await c.send("meeting notes: the meeting moved");
    const urdu = await me.searchMessages("میٹنگ");
    expect(urdu.hits.map((h) => h.message.text)).toEqual(["کل صبح میٹنگ ہے"]);
    expect(highlightParts(urdu.hits[0] as UTDSearchHit)).toEqual([
      { text: "کل صبح ", match: false },
      { text: "میٹنگ", match: true },
      { text: " ہے", match: false },
    ]);
    const page = await me.searchMessages("meet*", { conversationId: c.id, limit: 1, from: new Date(Date.now() - 60_000) });
    expect(page.hits[0]?.message.createdAt).toBeInstanceOf(Date);
    expect(page.nextCursor).toBeNull();
    expect((await me.searchMessages("meeting", { sender: "search-peer" })).hits).toEqual([]);
    await expect(me.searchMessages("   ")).rejects.toMatchObject({ code: "invalid_argument" });
    const outsider = await session("search-outsider");
    await expect(outsider.searchMessages("meeting", { conversationId: c.id })).rejects.toMatchObject({ code: "not_found" });
  });

  it("friends: request, accept and remove show up live on both sides", async () => {
    const a = await session("fr-a");
    const b = await session("fr-b");
    const fa = a.subscribeFriends(() => {});
    const fb = b.subscribeFriends(() => {});
    expect((await a.user("fr-b").befriend()).state).toBe("outgoing");
    await until(fb.friends, (l) => l[0]?.identity === "fr-a" && l[0]?.state === "incoming");
    await b.user("fr-a").acceptFriend();
    await until(fa.friends, (l) => l[0]?.state === "friends");
    await a.user("fr-b").unfriend();
    await until(fb.friends, (l) => l.length === 0);
    fa.unsubscribe();
    fb.unsubscribe();
  });

  it("onError reports refused operations and detaches", async () => {
    const alice = await session("err-alice");
    const errors: UTDStreamException[] = [];
    const off = alice.onError((e) => errors.push(e));
    await expect(alice.conversation("conv_not_mine").send("x")).rejects.toMatchObject({ code: "not_found", statusCode: 404 });
    await expect(alice.uploadImage(new Uint8Array(3), { filename: "x.txt", contentType: "text/plain" })).rejects.toMatchObject({
      code: "invalid_argument",
    });
    expect(errors.map((e) => e.code)).toEqual(["not_found", "invalid_argument"]);
    off();
    await expect(alice.conversation("conv_not_mine").send("y")).rejects.toBeTruthy();
    expect(errors).toHaveLength(2);
  });

  it("chat on the UTDSignaling facade shares its socket", async () => {
    const signaling = new UTDSignaling({ baseUrl: engine.url, appId: app.app_id, appKey: app.app_key, userId: "fac-alice", WebSocket: WS });
    await signaling.connect();
    const chat = chatSessionFor(signaling);
    const bob = await session("fac-bob");
    const ref = await bob.createConversation("direct", { members: ["fac-alice"] });
    await until(chat.unread, (u) => u.total === 0);
    await ref.send("to alice");
    await until(chat.unread, (u) => u.total === 1 && u.conversations[ref.id] === 1);
    const reply = await chat.conversation(ref.id).send("to bob");
    expect(reply.seq).toBe(2);
    await until(chat.unread, (u) => u.total === 0);
    chat.dispose();
    signaling.disconnect();
  });

  it("group management and a live conversation through its ref; bad input is refused and changes nothing", async () => {
    const owner = await session("g-owner");
    const bob = await session("g-bob");
    await session("g-carol"); // members must be users of the app
    const ref = await owner.createConversation("group", { name: "team", members: ["g-bob"] });
    const sub = ref.subscribe(() => {});
    await until(sub.conversation, (c) => c?.name === "team" && c.memberCount === 2);
    await ref.rename("core team");
    await until(sub.conversation, (c) => c?.name === "core team");
    expect((await ref.addMembers(["g-carol"])).map((m) => m.identity).sort()).toEqual(["g-bob", "g-carol", "g-owner"]);
    await until(sub.conversation, (c) => c?.memberCount === 3);
    const roles = await ref.setRole("g-bob", "admin");
    expect(roles.find((m) => m.identity === "g-bob")?.role).toBe("admin");
    await ref.removeMember("g-carol");
    await until(sub.conversation, (c) => c?.memberCount === 2);
    // A message from another member patches the live conversation (last message, unread) without a reload.
    await bob.conversation(ref.id).send("hello team");
    await until(sub.conversation, (c) => c?.lastMessage?.text === "hello team" && c.unreadCount === 1);
    await ref.close();
    await until(sub.conversation, (c) => c?.closed === true);
    // Bad input: a plain member may not reopen, an empty name is refused; nothing changes.
    await ref.setRole("g-bob", "member");
    await expect(bob.conversation(ref.id).reopen()).rejects.toMatchObject({ code: "forbidden" });
    await expect(owner.conversation(ref.id).update({ name: "" })).rejects.toMatchObject({ code: "invalid_argument" });
    expect(await ref.get()).toMatchObject({ name: "core team", closed: true });
    await ref.reopen();
    await until(sub.conversation, (c) => c?.closed === false);
    sub.unsubscribe();

    // Chatrooms: listed for everyone, joined by id.
    const room = await owner.createConversation("chatroom", { name: "sdk-lobby" });
    const page = await bob.chatrooms({ limit: 50 });
    expect(page.conversations.some((c) => c.id === room.id && c.name === "sdk-lobby")).toBe(true);
    await bob.conversation(room.id).join();
    expect((await room.members()).map((m) => m.identity).sort()).toEqual(["g-bob", "g-owner"]);
  });

  it("a user's profile through the ref: presence and friendship, live", async () => {
    const me = await session("p-me");
    const them = await session("p-them");
    await until(them.state, (s) => s === "connected");
    const sub = me.user("p-them").subscribe(() => {});
    await until(sub.profile, (p) => p?.presence.status === "online" && p.friend === null);
    await me.user("p-them").befriend();
    await until(sub.profile, (p) => p?.friend === "outgoing");
    await them.user("p-me").acceptFriend();
    await until(sub.profile, (p) => p?.friend === "friends");
    them.dispose();
    await until(sub.profile, (p) => p?.presence.status === "offline");
    expect(await me.user("p-them").get()).toMatchObject({ identity: "p-them", friend: "friends", presence: { status: "offline" } });
    sub.unsubscribe();
  });

  it("after missing more than the resume buffer, windows and unread catch up from history (resync)", async () => {
    let offline = false;
    const sockets: WebSocket[] = [];
    // Simulates a network outage: open sockets die and reconnects fail until `offline` is false again.
    class FlakyWS extends WebSocket {
      constructor(url: string) {
        super(offline ? "ws://127.0.0.1:1/" : url);
        sockets.push(this);
      }
    }
    const alice = await session("gap-alice");
    const bob = await registry.getSession({
      appId: app.app_id,
      appKey: app.app_key,
      userId: "gap-bob",
      baseUrl: engine.url,
      WebSocket: FlakyWS as unknown as WebSocketConstructor,
    });
    const ref = await alice.createConversation("group", { members: ["gap-bob"] });
    const win = bob.conversation(ref.id).subscribeMessages(() => {});
    await ref.send("before");
    await until(win.messages, (m) => m.length === 1);
    await until(bob.unread, (u) => u.total === 1);
    offline = true;
    for (const s of sockets) s.terminate();
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 6; i++) await ref.send(`missed ${i}`);
    offline = false;
    const all = await until(win.messages, (m) => m.length === 7, 20_000);
    expect(all.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    await until(bob.unread, (u) => u.total === 7);
    win.unsubscribe();
  }, 40_000);
});
