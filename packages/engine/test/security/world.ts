import { createHash } from "node:crypto";
import { sql } from "kysely";
import type { TestApp } from "../../../../test/helpers/engine.js";
import type { InProcessEngine } from "../../../../test/helpers/inproc.js";
import type { FakeMedia } from "../../src/media/fake.js";

/** Everyone the authorization matrix calls as, and what they can reach. */
export interface World {
  /** The app under attack (pro plan, open mode) and another tenant. */
  a: TestApp;
  b: TestApp;
  /** User tokens of app A by role, plus `bob` of app B. */
  tok: {
    /** Owner/host/caller of everything below. */
    own: string;
    /** A member of the group, audience of the rooms, callee of the call — but not an owner or host. */
    mem: string;
    /** A user of app A with no relation to any resource. */
    out: string;
    /** A support operator of app A, and a visitor with a support conversation. */
    opr: string;
    vis: string;
    /** Banned, revoked and expired tokens of app A. */
    ban: string;
    rev: string;
    exp: string;
    /** A user of app B. */
    bob: string;
  };
  ids: {
    group: string;
    chatroom: string;
    message: string;
    call: string;
    file: string;
    support: string;
    pushToken: string;
    speakRequest: number;
    /** A signed download URL of `file` (path + query). */
    fileGet: string;
    /** A signed upload URL of a reservation (path + query). */
    filePut: string;
  };
  /** Room names: a live stream and an audio room (hosted by `own`, joined by `mem`), a signalling room. */
  rooms: { live: string; audio: string; sig: string };
}

/**
 * Builds the world on an in-process engine whose media port is `media` (a FakeMedia that delivers its
 * webhooks to the engine). Every resource belongs to app A.
 */
export async function buildWorld(e: InProcessEngine, media: FakeMedia): Promise<World> {
  const a = await e.createApp({ name: "victim", plan: "pro" });
  const b = await e.createApp({ name: "other", plan: "pro" });
  const tok = async (app: TestApp, identity: string) => (await e.session(app, identity)).user_token;
  const own = await tok(a, "own");
  const mem = await tok(a, "mem");
  const out = await tok(a, "out");
  const opr = await tok(a, "opr");
  const vis = await tok(a, "vis");
  const bob = await tok(b, "bob");
  await tok(a, "trd");
  const ok = async <T>(p: Promise<{ status: number; body: T }>, what: string): Promise<T> => {
    const r = await p;
    if (r.status >= 300) throw new Error(`world: ${what} answered ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const post = <T>(token: string, path: string, body?: unknown) =>
    e.request<T>("POST", path, { token, ...(body !== undefined ? { body } : {}) });

  // Chat: a group (own owner, mem member) with a message carrying a file; a chatroom; friends.
  const group = (
    await ok(post<{ id: string }>(own, "/api/v1/conversations", { kind: "group", members: ["mem", "trd"], name: "g" }), "group")
  ).id;
  const chatroom = (await ok(post<{ id: string }>(own, "/api/v1/conversations", { kind: "chatroom", name: "lobby" }), "chatroom")).id;
  const up = await ok(
    post<{ file_token: string; upload_url: string }>(own, "/api/v1/uploads", {
      kind: "file",
      filename: "f.txt",
      content_type: "text/plain",
      size: 3,
    }),
    "upload",
  );
  const putUrl = new URL(up.upload_url);
  await ok(e.request("PUT", `${putUrl.pathname}${putUrl.search}`, { raw: "abc", headers: { "content-type": "text/plain" } }), "PUT");
  const message = (
    await ok(
      post<{ id: string }>(own, `/api/v1/conversations/${group}/messages`, {
        client_msg_id: "w1",
        text: "hi",
        attachments: [{ file_token: up.file_token }],
      }),
      "message",
    )
  ).id;
  const info = await ok(e.request<{ download_url: string }>("GET", `/api/v1/uploads/${up.file_token}`, { token: own }), "file info");
  const getUrl = new URL(info.download_url);
  const pending = await ok(
    post<{ upload_url: string }>(own, "/api/v1/uploads", { kind: "file", filename: "p.txt", content_type: "text/plain", size: 3 }),
    "reservation",
  );
  const pendingUrl = new URL(pending.upload_url);
  await ok(post(own, "/api/v1/friends/requests", { identity: "mem" }), "friend request");
  await ok(post(mem, "/api/v1/friends/own/accept"), "friend accept");
  await ok(post(out, "/api/v1/friends/requests", { identity: "own" }), "pending friend request");

  // A ringing call own → mem.
  const call = (await ok(post<{ id: string }>(own, "/api/v1/calls", { callee_identity: "mem", type: "audio_call" }), "call")).id;

  // Support: opr is an operator; vis has an open conversation in the queue.
  await ok(e.admin("POST", `/admin/v1/apps/${a.app_id}/operators`, { identity: "opr" }), "operator");
  const support = (await ok(post<{ id: string }>(vis, "/api/v1/support/conversations", {}), "support")).id;

  // Push.
  const pushToken = (await ok(post<{ id: string }>(own, "/api/v1/push/tokens", { platform: "fcm", token: "fcm-token-own" }), "push token"))
    .id;

  // Media rooms on the fake SFU: own hosts both, mem is in the audience and asked to speak.
  const join = async (token: string, room: string, type: string, role: "host" | "audience") => {
    const t = await ok(post<{ token: string }>(token, "/api/v1/token", { room_name: room, type, role }), `token ${room}`);
    const grant = media.grantOf(t.token);
    if (!grant) throw new Error("world: the fake media port did not see the token");
    await media.join(grant.room, t.token);
  };
  await join(own, "live", "live_stream", "host");
  await join(mem, "live", "live_stream", "audience");
  await join(own, "audio", "audio_room", "host");
  await join(mem, "audio", "audio_room", "audience");
  await ok(post(own, "/api/v1/rooms/audio/seats", { seat_count: 4, seat_mode: "request" }), "seats");
  const speakRequest = (await ok(post<{ request_id: number }>(mem, "/api/v1/rooms/audio/seats/requests"), "speak request")).request_id;

  // Tokens that must not work: banned, revoked, expired (minted two hours ago by the engine's clock).
  const ban = await tok(a, "ban");
  await ok(e.admin("POST", `/admin/v1/apps/${a.app_id}/bans`, { identity: "ban" }), "ban");
  const rev = await tok(a, "rev");
  await ok(post(rev, "/api/v1/auth/revoke"), "revoke");
  const now = e.clock.now();
  e.clock.set(now - 2 * 3_600_000);
  const exp = await tok(a, "exp");
  e.clock.set(now);

  return {
    a,
    b,
    tok: { own, mem, out, opr, vis, ban, rev, exp, bob },
    ids: {
      group,
      chatroom,
      message,
      call,
      file: up.file_token,
      support,
      pushToken,
      speakRequest,
      fileGet: `${getUrl.pathname}${getUrl.search}`,
      filePut: `${pendingUrl.pathname}${pendingUrl.search}`,
    },
    rooms: { live: "live", audio: "audio", sig: "sig" },
  };
}

/** Tables written by connecting a socket and by timers (presence leases), not by requests: left out of the digest. */
// The usage rollup (usage_daily*) is written by a periodic flush of what sockets and events were counted.
const VOLATILE = new Set([
  "utd_migrations",
  "utd_migrations_lock",
  "presence_connections",
  "presence_status",
  "usage_daily",
  "usage_daily_users",
]);

/**
 * A digest of everything the engine stored (every table's rows, in a stable order): equal before and
 * after a refused request proves the request changed nothing.
 */
export async function stateDigest(e: InProcessEngine): Promise<string> {
  const db = e.engine.store.db;
  const tables = (await db.introspection.getTables()).map((t) => t.name).filter((n) => !VOLATILE.has(n) && !n.startsWith("sqlite_"));
  tables.sort();
  const h = createHash("sha256");
  for (const t of tables) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(t)}`.execute(db);
    const lines = rows.rows.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).sort(([x], [y]) => (x < y ? -1 : 1)))));
    lines.sort();
    h.update(`${t}\n${lines.join("\n")}\n`);
  }
  return h.digest("hex");
}
