import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends, describeBackends, freshPostgres, freshStore } from "../../../test/helpers/backends.js";
import type { Clock } from "../src/core/clock.js";
import { Hooks } from "../src/core/hooks.js";
import { migrationsOf, openStore, type Store } from "../src/index.js";
import { AppsService } from "../src/modules/apps/index.js";
import { UsersService } from "../src/modules/users/index.js";

/** The same storage contract, run against every store implementation (test/helpers/backends.ts decides which run here). */
describeBackends(await backends("store"), "storage contract", (impl) => {
  {
    let store: Store | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    let now = Date.UTC(2026, 10, 23, 12, 0, 0);
    const clock: Clock = { now: () => now };
    const hooks = new Hooks();
    const key = Buffer.alloc(32, 7);
    let apps: AppsService;
    let users: UsersService;

    beforeAll(async () => {
      const fresh = await freshStore(impl);
      if (!fresh) return;
      store = await openStore(fresh.storeOptions);
      cleanup = fresh.drop;
      apps = new AppsService(store, key, clock, hooks);
      users = new UsersService(store, clock, hooks);
    });
    afterAll(async () => {
      await store?.close();
      await cleanup?.();
    });

    it("migrations are idempotent (opening twice changes nothing)", async (ctx) => {
      if (!store) return ctx.skip();
      const { migrate } = await import("../src/store/migrations.js");
      await migrate(store.db as never, store.dialect, migrationsOf());
      await store.ping();
    });

    it("creates, reads, lists and updates apps; the secret round-trips sealed, never stored in the clear", async (ctx) => {
      if (!store) return ctx.skip();
      const created = await apps.create({ name: "Contract", auth_mode: "signed", plan: "signaling" });
      expect(created.app_secret).toMatch(/^sk_/);
      const found = await apps.get(created.app_id);
      expect(found.secret()).toBe(created.app_secret);
      expect(found.signalingEnabled).toBe(true);
      expect(found.messagingEnabled).toBe(false);
      const raw = await store.db.selectFrom("apps").selectAll().where("id", "=", created.app_id).executeTakeFirstOrThrow();
      expect(raw.secret_sealed).not.toContain(created.app_secret);
      expect(JSON.stringify(raw)).not.toContain(created.app_secret);

      now += 1000;
      const updated = await apps.update(created.app_id, { messaging_enabled: true, limit_overrides: { max_friends: 7 } });
      expect(updated.messagingEnabled).toBe(true);
      expect(updated.limits.max_friends).toBe(7);
      expect(updated.limits.history_days).toBe(7);
      expect(updated.updatedAt).toBe(now);
      const reset = await apps.update(created.app_id, { messaging_enabled: null, plan: "pro" });
      expect(reset.messagingEnabled).toBe(true);
      expect(reset.limits.max_friends).toBe(7);
      expect(reset.limits.max_group_members).toBe(100);
      expect((await apps.list()).map((a) => a.id)).toContain(created.app_id);
    });

    it("rotating the key or secret replaces only that credential", async (ctx) => {
      if (!store) return ctx.skip();
      const a = await apps.create({ name: "Rotate" });
      const r1 = await apps.rotate(a.app_id, "key");
      expect(r1.app_key).not.toBe(a.app_key);
      expect((await apps.get(a.app_id)).secret()).toBe(a.app_secret);
      const r2 = await apps.rotate(a.app_id, "secret");
      expect("app_secret" in r2 && r2.app_secret).not.toBe(a.app_secret);
      expect((await apps.get(a.app_id)).key).toBe(r1.app_key);
    });

    it("app keys are unique", async (ctx) => {
      if (!store) return ctx.skip();
      const a = await apps.create({ name: "A" });
      const b = await apps.create({ name: "B" });
      await expect(store.db.updateTable("apps").set({ app_key: a.app_key }).where("id", "=", b.app_id).execute()).rejects.toThrow();
    });

    it("users upsert, keep their name unless given, ban/unban and revoke", async (ctx) => {
      if (!store) return ctx.skip();
      const a = await apps.create({ name: "Users" });
      const u1 = await users.touch(a.app_id, "alice", "Alice");
      expect(u1.name).toBe("Alice");
      now += 10;
      const u2 = await users.touch(a.app_id, "alice", undefined);
      expect(u2.name).toBe("Alice");
      expect(u2.last_seen_at).toBe(now);
      const banned = await users.ban(a.app_id, "alice", "spam");
      expect(banned.banned).toBe(true);
      const row = await users.find(a.app_id, "alice");
      expect(row?.banned_at).toBe(now);
      expect(row?.ban_reason).toBe("spam");
      // The cut-off is one past the ban's instant: a token minted in that same millisecond is void too.
      expect(row?.tokens_valid_after).toBe(now + 1);
      await users.unban(a.app_id, "alice");
      expect((await users.find(a.app_id, "alice"))?.banned_at).toBeNull();
      now += 10;
      expect(await users.revoke(a.app_id, "alice")).toBe(now + 1);
      expect((await users.find(a.app_id, "alice"))?.tokens_valid_after).toBe(now + 1);
      // Banning someone never seen creates the user banned.
      await users.ban(a.app_id, "ghost", undefined);
      expect((await users.find(a.app_id, "ghost"))?.banned_at).not.toBeNull();
    });

    it("user reads asked together are answered together: each its own row, unknown ones none, any identity text", async (ctx) => {
      if (!store) return ctx.skip();
      const a = await apps.create({ name: "Batch", auth_mode: "open", plan: "free" });
      const b = await apps.create({ name: "Other", auth_mode: "open", plan: "free" });
      // Identities a list literal or a JSON array could mangle: quotes, commas, brackets, unicode, LIKE wildcards.
      const odd = ['quo"te', "com,ma", "[br]", "ünï😀", "50%_off", "a\\b", "x".repeat(200)];
      for (const id of odd) await users.touch(a.app_id, id, `n-${id}`);
      await users.touch(b.app_id, "only-in-b", undefined);
      await users.ban(a.app_id, "com,ma", "spam");
      const asked = [...odd, "nobody", "only-in-b", "COM,MA", 'quo"te'];
      const found = await Promise.all([...asked.map((id) => users.find(a.app_id, id)), users.find(b.app_id, "only-in-b")]);
      expect(found.map((r) => r?.identity ?? null)).toEqual([...odd, null, null, null, 'quo"te', "only-in-b"]);
      expect(found.map((r) => r?.name ?? null).slice(0, odd.length)).toEqual(odd.map((id) => `n-${id}`));
      expect(found[1]?.banned_at).not.toBeNull();
      expect(found.at(-1)?.app_id).toBe(b.app_id);
      // More than one statement's worth at once (500 a statement).
      const many = await Promise.all(
        Array.from({ length: 1200 }, (_, i) => users.find(a.app_id, i % 2 ? (odd[i % odd.length] as string) : `none-${i}`)),
      );
      expect(many.filter(Boolean)).toHaveLength(600);
    });

    it("MAU counts distinct identities per calendar month, idempotently", async (ctx) => {
      if (!store) return ctx.skip();
      const a = await apps.create({ name: "MAU" });
      now = Date.UTC(2026, 9, 31, 23, 59, 0);
      await users.recordActive(a.app_id, "x");
      await users.recordActive(a.app_id, "x");
      await users.recordActive(a.app_id, "y");
      now = Date.UTC(2026, 10, 1, 0, 1, 0);
      await users.recordActive(a.app_id, "x");
      const usage = await apps.usage(a.app_id);
      expect(usage.months).toEqual([
        { month: "2026-11", mau: 1 },
        { month: "2026-10", mau: 2 },
      ]);
      expect((await apps.usage(a.app_id, "2026-10")).months).toEqual([{ month: "2026-10", mau: 2 }]);
      now = Date.UTC(2026, 10, 23, 12, 0, 0);
    });

    it("deleting an app removes its users and MAU rows (cascade)", async (ctx) => {
      if (!store) return ctx.skip();
      const a = await apps.create({ name: "Cascade" });
      await users.touch(a.app_id, "z", undefined);
      await users.recordActive(a.app_id, "z");
      await store.db.deleteFrom("apps").where("id", "=", a.app_id).execute();
      expect(await users.find(a.app_id, "z")).toBeUndefined();
      const mau = await store.db.selectFrom("mau").selectAll().where("app_id", "=", a.app_id).execute();
      expect(mau).toEqual([]);
    });
  }
});

describe("PostgreSQL store survives the server dropping its connections", () => {
  it("idle connections terminated by the server do not crash the process; the next query reconnects", async (ctx) => {
    const pg = await freshPostgres();
    if (!pg) return ctx.skip();
    const store = await openStore({ dataDir: "/nonexistent", databaseUrl: pg.url });
    try {
      await store.ping();
      const { default: pgLib } = await import("pg");
      const admin = new pgLib.Client({ connectionString: pg.url.replace(/\/[^/]+$/, "/postgres") });
      await admin.connect();
      const dbName = new URL(pg.url).pathname.slice(1);
      const killed = await admin.query(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
        [dbName],
      );
      await admin.end();
      expect(killed.rowCount).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 200));
      await store.ping();
    } finally {
      await store.close();
      await pg.drop();
    }
  });
});

/** A table as both dialects can describe it: columns (name, nullability, a coarse type) and unique keys. */
interface TableShape {
  columns: string[];
  unique: string[];
}

/** Coarse type classes: the dialects name types differently (integer/bigint, text/varchar…). */
function typeClass(dataType: string): string {
  const t = dataType.toLowerCase();
  if (/int|serial/.test(t)) return "integer";
  if (/char|text|clob|uuid/.test(t)) return "text";
  if (/real|double|float|numeric|decimal/.test(t)) return "real";
  if (/blob|bytea/.test(t)) return "blob";
  if (/bool/.test(t)) return "boolean";
  return t;
}

/** Every table of the store (migration bookkeeping aside), with its columns and unique column sets. */
async function shapeOf(store: Store): Promise<Record<string, TableShape>> {
  const out: Record<string, TableShape> = {};
  const tables = await store.db.introspection.getTables();
  for (const t of tables) {
    if (t.name.startsWith("utd_migrations")) continue;
    // The message search index: an FTS5 table (and its shadow tables) on SQLite, a GIN index on PostgreSQL.
    if (t.name === "messages_fts" || t.name.startsWith("messages_fts_")) continue;
    // SQLite lets a non-integer PRIMARY KEY column hold NULL (a legacy quirk); the engine never writes one,
    // and PostgreSQL forbids it, so key columns count as NOT NULL on both.
    const pk =
      store.dialect === "sqlite"
        ? (await sql<{ name: string }>`select name from pragma_table_info(${t.name}) where pk > 0 order by pk`.execute(store.db)).rows.map(
            (r) => r.name,
          )
        : [];
    const keys = new Set(pk);
    const columns = t.columns.map((c) => `${c.name} ${typeClass(c.dataType)}${c.isNullable && !keys.has(c.name) ? " null" : ""}`).sort();
    let unique: string[];
    if (store.dialect === "sqlite") {
      const list = await sql<{ name: string; unique: number }>`select name, "unique" from pragma_index_list(${t.name})`.execute(store.db);
      unique = [];
      for (const ix of list.rows.filter((r) => r.unique === 1)) {
        const cols = await sql<{ name: string }>`select name from pragma_index_info(${ix.name}) order by seqno`.execute(store.db);
        unique.push(cols.rows.map((c) => c.name).join(","));
      }
      // An INTEGER PRIMARY KEY is the rowid itself: unique, but with no index to list.
      if (pk.length > 0 && !unique.includes(pk.join(","))) unique.push(pk.join(","));
    } else {
      const r = await sql<{ cols: string }>`
        select string_agg(a.attname, ',' order by k.ord) as cols
        from pg_index i
        join pg_class c on c.oid = i.indrelid
        join lateral unnest(i.indkey) with ordinality as k(attnum, ord) on true
        join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum
        where c.relname = ${t.name} and i.indisunique
        group by i.indexrelid`.execute(store.db);
      unique = r.rows.map((x) => x.cols);
    }
    out[t.name] = { columns, unique: unique.sort() };
  }
  return out;
}

// Every module's migrations, applied on each store, give the same tables, columns and unique keys: a column
// or unique index one dialect's migration forgets (the races of calls, seats and support rely on unique
// keys) fails here, for every module, including ones added later.
const stores = await backends("store");
describe.skipIf(stores.some((s) => !s.available))("every module's schema is the same on every store", () => {
  it("tables, columns (name, coarse type, nullability) and unique keys match", async () => {
    const shapes: Record<string, Record<string, TableShape>> = {};
    for (const b of stores) {
      const fresh = await freshStore(b.name);
      if (!fresh) return;
      const store = await openStore(fresh.storeOptions);
      try {
        shapes[b.name] = await shapeOf(store);
      } finally {
        await store.close();
        await fresh.drop();
      }
    }
    const [sqlite, postgres] = [shapes.sqlite ?? {}, shapes.postgres ?? {}];
    expect(Object.keys(sqlite).length).toBeGreaterThan(20);
    expect(Object.keys(postgres).sort()).toEqual(Object.keys(sqlite).sort());
    for (const table of Object.keys(sqlite)) expect(postgres[table], table).toEqual(sqlite[table]);
  });
});
