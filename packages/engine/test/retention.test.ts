import { existsSync } from "node:fs";
import { join } from "node:path";
import SqliteDatabase from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEngine } from "../../../test/helpers/engine.js";
import { BACKENDS, CHAT_TEST_ENV, startEngine, world } from "./chat-world.js";

const DAY = 86_400_000;

describe.each(BACKENDS)("chat retention on %s", (name, setup) => {
  let engine: RunningEngine;
  let drop: (() => Promise<void>) | undefined;
  let skip = false;
  let pgUrl: string | undefined;
  beforeAll(async () => {
    const s = await setup();
    if (!s) {
      skip = true;
      return;
    }
    drop = s.drop;
    pgUrl = s.storeOptions.databaseUrl;
    engine = await startEngine({ env: { ...CHAT_TEST_ENV, UTD_CHAT_RETENTION_SWEEP_S: "1", ...s.env } });
  });
  afterAll(async () => {
    await engine?.stop();
    await drop?.();
  });

  /** Runs SQL against the engine's real database (to age messages as if days had passed). */
  async function sql(text: string, params: unknown[]): Promise<number> {
    if (name === "sqlite") {
      const db = new SqliteDatabase(join(engine.dataDir, "utd.sqlite"));
      db.pragma("busy_timeout = 5000");
      try {
        // PostgreSQL-style $n placeholders, expanded in order of appearance for SQLite.
        const ordered: unknown[] = [];
        const st = db.prepare(
          text.replace(/\$(\d+)/g, (_, n: string) => {
            ordered.push(params[Number(n) - 1]);
            return "?";
          }),
        );
        if (st.reader) return Number((st.get(...ordered) as { n: number }).n);
        return st.run(...ordered).changes;
      } finally {
        db.close();
      }
    }
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    try {
      const r = await c.query(text, params);
      return r.rows[0] ? Number((r.rows[0] as { n: string }).n) : (r.rowCount ?? 0);
    } finally {
      await c.end();
    }
  }

  it("messages older than history_days are not served and are purged by the background job", async (ctx) => {
    if (skip) return ctx.skip();
    const { app, t, ids } = await world(engine, 2); // free plan: history_days = 7
    const [a, b] = ids as [string, string];
    const req = <T>(method: string, path: string, token: string, body?: unknown) => engine.request<T>(method, path, { token, body });
    const g = (await req<{ id: string }>("POST", "/api/v1/conversations", t[a] as string, { kind: "group", members: [b] })).body;
    // A file sent in a message that will expire, and a reservation that was never uploaded.
    const bytes = new Uint8Array(64).fill(7);
    const up = (
      await req<{ file_token: string; upload_url: string; headers: Record<string, string> }>("POST", "/api/v1/uploads", t[a] as string, {
        kind: "file",
        filename: "old.bin",
        content_type: "application/octet-stream",
        size: 64,
      })
    ).body;
    expect((await fetch(up.upload_url, { method: "PUT", headers: up.headers, body: bytes })).status).toBe(200);
    const stale = (
      await req<{ file_token: string }>("POST", "/api/v1/uploads", t[a] as string, {
        kind: "file",
        filename: "never.bin",
        content_type: "application/octet-stream",
        size: 8,
      })
    ).body;
    const onDisk = join(engine.dataDir, "files", app.app_id, up.file_token);
    expect(existsSync(onDisk)).toBe(true);
    await req("POST", `/api/v1/conversations/${g.id}/messages`, t[a] as string, {
      client_msg_id: "r0",
      text: "m0",
      attachments: [{ file_token: up.file_token }],
    });
    for (let i = 1; i < 5; i++)
      await req("POST", `/api/v1/conversations/${g.id}/messages`, t[a] as string, { client_msg_id: `r${i}`, text: `m${i}` });
    // Age the first three: 8 days old (past the plan's 7), the rest stay fresh.
    const agedFiles = await sql(
      "UPDATE uploads SET created_at = created_at - $1, upload_expires_at = upload_expires_at - $1 WHERE id IN ($2, $3)",
      [8 * DAY, up.file_token, stale.file_token],
    );
    expect(agedFiles).toBe(2);
    const aged = await sql("UPDATE messages SET created_at = created_at - $1 WHERE conversation_id = $2 AND seq <= 3", [8 * DAY, g.id]);
    expect(aged).toBe(3);
    const h = await req<{ messages: { seq: number }[] }>("GET", `/api/v1/conversations/${g.id}/messages?after=0`, t[b] as string);
    expect(h.body.messages.map((m) => m.seq)).toEqual([4, 5]);
    expect((await req<{ total: number }>("GET", "/api/v1/unread", t[b] as string)).body.total).toBe(2);
    // The sweeper runs every second here; wait (bounded) until it has deleted the aged rows.
    const count = () => sql("SELECT COUNT(*) AS n FROM messages WHERE conversation_id = $1", [g.id]);
    const deadline = Date.now() + 15_000;
    while ((await count()) > 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await count()).toBe(2);
    // The file of the purged message and the abandoned reservation go too (row and bytes).
    const files = () => sql("SELECT COUNT(*) AS n FROM uploads WHERE id IN ($1, $2)", [up.file_token, stale.file_token]);
    while ((await files()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await files()).toBe(0);
    expect(existsSync(onDisk)).toBe(false);
    expect((await req("GET", `/api/v1/uploads/${up.file_token}`, t[a] as string)).status).toBe(404);
    // New messages keep counting from the same seq.
    const next = await req<{ seq: number }>("POST", `/api/v1/conversations/${g.id}/messages`, t[a] as string, {
      client_msg_id: "r9",
      text: "new",
    });
    expect(next.body.seq).toBe(6);
  });
});
