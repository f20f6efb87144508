import { readdirSync } from "node:fs";
import { join } from "node:path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends, describeBackends, type FreshStore, freshStore } from "../../../test/helpers/backends.js";
import { utd } from "../../../test/helpers/cli.js";
import { type InProcessEngine, startInProcess } from "../../../test/helpers/inproc.js";
import { startS3, type TestS3 } from "../../../test/helpers/s3.js";

// The data lifecycle (user erase and export, app delete) on SQLite and PostgreSQL, local files and S3:
// afterwards the tests read every table of the schema and the bucket (or the files directory) to prove
// nothing of the user or the app is left.
const stores = await backends("store");
type AnyDb = Kysely<Record<string, Record<string, unknown>>>;

interface Fixture {
  e: InProcessEngine;
  app: { app_id: string; app_key: string; app_secret: string };
  other: { app_id: string; app_key: string; app_secret: string };
  tokens: Record<string, string>;
  conv: string;
  files: Record<string, string>;
}

for (const fileBackend of ["local", "s3"] as const) {
  describeBackends(stores, `data lifecycle with ${fileBackend} files`, (storeName) => {
    let store: FreshStore | undefined;
    let s3: TestS3 | undefined;
    let e: InProcessEngine;
    let s3client: S3Client | undefined;
    const prefix = `lc${Date.now().toString(36)}/`;

    beforeAll(async () => {
      store = await freshStore(storeName);
      if (fileBackend === "s3") s3 = await startS3();
      e = await startInProcess({ env: { ...store?.env, ...(s3 ? s3.env(prefix) : {}) } });
      if (s3)
        s3client = new S3Client({
          endpoint: s3.endpoint,
          region: s3.region,
          forcePathStyle: true,
          credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
        });
    });
    afterAll(async () => {
      await e?.close();
      await s3?.stop();
      await store?.drop();
    });

    const db = () => e.engine.store.db as unknown as AnyDb;

    /** Every stored object: keys in the bucket, or paths under the local files directory. */
    async function objects(): Promise<string[]> {
      if (s3client && s3) {
        const r = await s3client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
        return (r.Contents ?? []).map((o) => o.Key ?? "");
      }
      const root = join(e.dataDir, "files");
      try {
        return readdirSync(root, { recursive: true, withFileTypes: true })
          .filter((d) => d.isFile())
          .map((d) => join(d.parentPath, d.name));
      } catch {
        return [];
      }
    }

    /** Rows of every table (text columns) holding `value`, optionally in one app: "table.column" per hit. */
    async function everywhere(value: string, appId?: string): Promise<string[]> {
      const hits: string[] = [];
      for (const t of await e.engine.store.db.introspection.getTables()) {
        if (t.name.startsWith("kysely_") || t.name === "schema_migrations") continue;
        const hasApp = t.columns.some((c) => c.name === "app_id");
        const hasConv = t.columns.some((c) => c.name === "conversation_id");
        for (const c of t.columns) {
          if (!/text|char|string/i.test(c.dataType)) continue;
          let q = db().selectFrom(t.name).select(sql<number>`count(*)`.as("n")).where(sql.ref(c.name), "=", value);
          if (appId && hasApp) q = q.where("app_id", "=", appId);
          // Tables without an app column (reactions) belong to the app through their conversation.
          else if (appId && hasConv)
            q = q.where("conversation_id", "in", db().selectFrom("conversations").select("id").where("app_id", "=", appId));
          const n = Number((await q.executeTakeFirst())?.n ?? 0);
          if (n > 0) hits.push(`${t.name}.${c.name}`);
        }
      }
      return hits;
    }

    async function upload(token: string, text: string): Promise<string> {
      const bytes = Buffer.from(text);
      const p = await e.request<{ file_token: string; upload_url: string; method: string; headers: Record<string, string> }>(
        "POST",
        "/api/v1/uploads",
        { token, body: { kind: "file", filename: "f.txt", content_type: "text/plain", size: bytes.length } },
      );
      expect(p.status).toBe(201);
      if (s3) {
        const put = await fetch(p.body.upload_url, { method: "PUT", headers: p.body.headers, body: new Uint8Array(bytes) });
        expect(put.status).toBe(200);
      } else {
        const u = new URL(p.body.upload_url);
        const put = await e.request("PUT", u.pathname + u.search, { raw: text, headers: p.body.headers });
        expect(put.status).toBeLessThan(300);
      }
      return p.body.file_token;
    }

    /** Two users who chat, share files, react, befriend and register devices, plus a bystander app. */
    async function fixture(): Promise<Fixture> {
      const app = await e.createApp({ name: "Main", plan: "pro" });
      const other = await e.createApp({ name: "Other", plan: "pro" });
      const tokens: Record<string, string> = {};
      for (const id of ["alice", "bob"]) tokens[id] = (await e.session(app, id, { device_id: `${id}-phone` })).user_token;
      tokens.carol = (await e.session(other, "alice", { device_id: "x" })).user_token;
      const t = (id: string) => tokens[id] as string;
      const conv = (
        await e.request<{ id: string }>("POST", "/api/v1/conversations", { token: t("alice"), body: { kind: "group", members: ["bob"] } })
      ).body.id;
      const files: Record<string, string> = { alice: await upload(t("alice"), "alice's file"), bob: await upload(t("bob"), "bob's file") };
      const send = (who: string, text: string, file?: string) =>
        e.request<{ id: string }>("POST", `/api/v1/conversations/${conv}/messages`, {
          token: t(who),
          body: { text, client_msg_id: `${who}-${text.length}`, ...(file ? { attachments: [{ file_token: file }] } : {}) },
        });
      const a1 = await send("alice", "secret from alice", files.alice);
      expect(a1.status).toBe(201);
      const b1 = await send("bob", "hello alice", files.bob);
      expect(b1.status).toBe(201);
      for (const [who, msg] of [
        ["alice", b1.body.id],
        ["bob", a1.body.id],
      ] as const)
        expect(
          (await e.request("POST", `/api/v1/conversations/${conv}/messages/${msg}/reactions`, { token: t(who), body: { reaction: "👍" } }))
            .status,
        ).toBe(200);
      expect((await e.request("POST", "/api/v1/friends/requests", { token: t("alice"), body: { identity: "bob" } })).status).toBeLessThan(
        300,
      );
      for (const who of ["alice", "bob"])
        expect(
          (await e.request("POST", "/api/v1/push/tokens", { token: t(who), body: { platform: "fcm", token: `fcm-${who}` } })).status,
        ).toBeLessThan(300);
      // Presence rows as a connected socket writes them (no socket in an in-process test).
      const now = Date.now();
      for (const who of ["alice", "bob"]) {
        await db()
          .insertInto("presence_connections")
          .values({
            conn_id: `c-${who}-${app.app_id}`,
            node_id: "n1",
            app_id: app.app_id,
            identity: who,
            device_id: `${who}-phone`,
            connected_at: now,
            closed_at: null,
            expires_at: now + 60_000,
          })
          .execute();
        await db().insertInto("presence_status").values({ app_id: app.app_id, identity: who, online: 1, last_seen_at: now }).execute();
      }
      // A raised hand on a live stream's stage (as the stage module stores it), naming alice.
      await db()
        .insertInto("media_rooms")
        .values({
          app_id: app.app_id,
          name: "live-1",
          type: "live_stream",
          seat_count: 0,
          seat_mode: "free",
          created_at: now,
          updated_at: now,
        })
        .execute();
      await db()
        .insertInto("media_stage_requests")
        .values({ app_id: app.app_id, room_name: "live-1", identity: "alice", name: "Alice", requested_at: now })
        .execute();
      return { e, app, other, tokens, conv, files };
    }

    it("user erase: nothing of the user is left in any table or the bucket; others' data stays; a second run removes nothing", async () => {
      const f = await fixture();
      const before = await objects();
      expect(before.length).toBeGreaterThanOrEqual(2);
      expect(await everywhere("alice", f.app.app_id)).not.toEqual([]);

      const exported = await e.admin<{ messages: { text: string }[]; files: unknown[]; devices: unknown[]; user: { identity: string } }>(
        "GET",
        `/admin/v1/apps/${f.app.app_id}/users/alice/export`,
      );
      expect(exported.status).toBe(200);
      expect(exported.body.user.identity).toBe("alice");
      expect(exported.body.messages.map((m) => m.text)).toEqual(["secret from alice"]);
      expect(exported.body.files).toHaveLength(1);
      expect(exported.body.devices).toHaveLength(1);

      const r = await e.admin<{ removed: Record<string, number>; already_erased: boolean; messages: string }>(
        "DELETE",
        `/admin/v1/apps/${f.app.app_id}/users/alice`,
      );
      expect(r.status).toBe(200);
      expect(r.body.messages).toBe("tombstone");
      expect(r.body.already_erased).toBe(false);
      expect(r.body.removed).toMatchObject({
        files: 1,
        messages: 1,
        reactions: 1,
        push_tokens: 1,
        devices: 1,
        presence: 1,
        friendships: 1,
        user: 1,
      });

      // Not one text column of the app's rows still says "alice", nor holds her message.
      expect(await everywhere("alice", f.app.app_id)).toEqual([]);
      expect(await everywhere("secret from alice")).toEqual([]);
      // The tombstone keeps the thread's order; bob's message and file are untouched.
      const msgs = await db()
        .selectFrom("messages")
        .select(["sender", "text", "deleted_at"])
        .where("conversation_id", "=", f.conv)
        .orderBy("seq")
        .execute();
      expect(msgs).toEqual([
        { sender: null, text: null, deleted_at: expect.anything() },
        { sender: "bob", text: "hello alice", deleted_at: null },
      ]);
      const after = await objects();
      expect(after).toHaveLength(before.length - 1);
      // The same identity in another app is another person's account: untouched.
      expect(await everywhere("alice", f.other.app_id)).not.toEqual([]);
      // MAU keeps its count under a pseudonym.
      const usage = await e.admin<{ months: { mau: number }[] }>("GET", `/admin/v1/apps/${f.app.app_id}/usage`);
      expect(usage.body.months[0]?.mau).toBe(2);

      const again = await e.admin<{ removed: Record<string, number>; already_erased: boolean }>(
        "DELETE",
        `/admin/v1/apps/${f.app.app_id}/users/alice`,
      );
      expect(again.status).toBe(200);
      expect(again.body.removed).toEqual(Object.fromEntries(Object.keys(again.body.removed).map((k) => [k, 0])));
      expect(again.body.already_erased).toBe(true);
      expect(Object.values(again.body.removed).every((n) => n === 0)).toBe(true);
      expect(await objects()).toEqual(after);
      expect((await e.admin("GET", `/admin/v1/apps/${f.app.app_id}/users/alice/export`)).status).toBe(404);
    });

    it("user erase with erase_messages=delete removes the rows; the CLI on storage reports the same", async () => {
      const f = await fixture();
      expect((await e.admin("PATCH", `/admin/v1/apps/${f.app.app_id}`, { settings: { erase_messages: "delete" } })).status).toBe(200);
      const cli = await utd(
        [
          "user",
          "erase",
          "--app",
          f.app.app_id,
          "--identity",
          "bob",
          "--yes",
          "--json",
          "--data-dir",
          e.dataDir,
          ...(store?.env.DATABASE_URL ? ["--database-url", store.env.DATABASE_URL] : []),
        ],
        { UTD_PORT: "0", ...(s3 ? s3.env(prefix) : {}) },
      );
      expect(cli.stderr).toBe("");
      expect(cli.code).toBe(0);
      expect(JSON.parse(cli.stdout)).toMatchObject({ messages: "delete", removed: { messages: 1, files: 1 } });
      const left = await db().selectFrom("messages").select(["sender", "text"]).where("conversation_id", "=", f.conv).execute();
      expect(left).toEqual([{ sender: "alice", text: "secret from alice" }]);
      expect(await everywhere("bob", f.app.app_id)).toEqual([]);
      const noConfirm = await utd(["user", "erase", "--app", f.app.app_id, "--identity", "alice", "--data-dir", e.dataDir], {
        UTD_PORT: "0",
      });
      expect(noConfirm.code).toBe(2);
      expect(noConfirm.stderr).toContain("--yes");
      expect(await everywhere("alice", f.app.app_id)).not.toEqual([]);
    });

    it("app delete: every row of the app and every file object are gone; the other app is intact", async () => {
      const f = await fixture();
      const otherFile = await upload(f.tokens.carol as string, "carol's file");
      expect(otherFile).toBeTruthy();
      const r = await e.admin<{ deleted: boolean; removed: Record<string, number> }>("DELETE", `/admin/v1/apps/${f.app.app_id}`);
      expect(r.status).toBe(200);
      expect(r.body.deleted).toBe(true);
      expect(r.body.removed).toMatchObject({ files: 2, messages: 2, message_reactions: 2, users: 2 });
      expect(await everywhere(f.app.app_id)).toEqual([]);
      const reactions = await db()
        .selectFrom("message_reactions")
        .select(sql<number>`count(*)`.as("n"))
        .where("conversation_id", "=", f.conv)
        .executeTakeFirst();
      expect(Number(reactions?.n)).toBe(0);
      expect((await e.admin("GET", `/admin/v1/apps/${f.app.app_id}`)).status).toBe(404);
      expect((await e.admin("DELETE", `/admin/v1/apps/${f.app.app_id}`)).status).toBe(404);
      // Its user tokens stop working; the other app's do not.
      expect((await e.request("GET", "/api/v1/unread", { token: f.tokens.bob as string })).status).toBe(401);
      expect((await e.request("GET", "/api/v1/unread", { token: f.tokens.carol as string })).status).toBe(200);
      expect(await everywhere(f.other.app_id)).not.toEqual([]);
      const rows = await db().selectFrom("uploads").select("app_id").execute();
      expect(rows.every((u) => u.app_id !== f.app.app_id)).toBe(true);
    });
  });
}

describe("user erase/export and app delete refuse bad input and change nothing", () => {
  let e: InProcessEngine;
  beforeAll(async () => {
    e = await startInProcess();
  });
  afterAll(() => e?.close());

  it.each([
    ["DELETE", "/admin/v1/apps/app_nope", 404, "not_found"],
    ["DELETE", "/admin/v1/apps/app_nope/users/x", 404, "not_found"],
    ["DELETE", "/admin/v1/apps/APP/users/has%20space", 400, "invalid_argument"],
    ["GET", "/admin/v1/apps/APP/users/nobody/export", 404, "not_found"],
    ["PATCH", "/admin/v1/apps/APP", 400, "invalid_argument"],
  ])("%s %s → %i %s", async (method, path, status, code) => {
    const app = await e.createApp();
    await e.session(app, "someone");
    const before = await e.admin("GET", `/admin/v1/apps/${app.app_id}/users`);
    const r = await e.admin<{ error: { code: string } }>(
      method,
      path.replace("APP", app.app_id),
      method === "PATCH" ? { settings: { erase_messages: "shred" } } : undefined,
    );
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect((await e.admin("GET", `/admin/v1/apps/${app.app_id}/users`)).body).toEqual(before.body);
  });

  it("refuses admin calls without the admin token", async () => {
    const app = await e.createApp();
    const s = await e.session(app, "u");
    for (const [m, p] of [
      ["DELETE", `/admin/v1/apps/${app.app_id}`],
      ["DELETE", `/admin/v1/apps/${app.app_id}/users/u`],
      ["GET", `/admin/v1/apps/${app.app_id}/users/u/export`],
    ] as const) {
      expect((await e.request(m, p)).status).toBe(401);
      expect((await e.request(m, p, { token: s.user_token })).status).toBe(401);
    }
    expect((await e.admin("GET", `/admin/v1/apps/${app.app_id}/users/u`)).status).toBe(200);
  });
});
