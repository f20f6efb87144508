import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { type Kysely, sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connectStore, type Store } from "../src/store/db.js";

// SQLite group commit (store/sqlite-group-commit.ts): concurrent transactions share one COMMIT, and each
// still resolves only once it is committed (`synchronous=FULL`); nothing uncommitted is readable.
describe("SQLite group commit", () => {
  let dir: string;
  let store: Store;
  let db: Kysely<{ t: { id: number; v: string } }>;
  /** What another process would read from the file right now (committed data only). */
  const onDisk = () => {
    const c = new SqliteDatabase(join(dir, "utd.sqlite"), { readonly: true });
    try {
      return (c.prepare("select id from t order by id").all() as { id: number }[]).map((r) => r.id);
    } finally {
      c.close();
    }
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "utd-gc-"));
    store = await connectStore({ dataDir: dir, sqliteGroupCommit: true }, []);
    db = store.db as never;
    await sql`create table t (id integer primary key, v text not null)`.execute(db);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("concurrent transactions all resolve, and each is on disk when it resolves", async () => {
    const ids = Array.from({ length: 20 }, (_, i) => i + 1);
    await Promise.all(
      ids.map(async (id) => {
        await db.transaction().execute(async (trx) => {
          await trx
            .insertInto("t")
            .values({ id, v: `row ${id}` })
            .execute();
          await trx
            .updateTable("t")
            .set({ v: `row ${id}!` })
            .where("id", "=", id)
            .execute();
        });
        expect(onDisk()).toContain(id);
      }),
    );
    expect(onDisk()).toEqual(ids);
  });

  it("a failing transaction in a group rolls back alone, with its error; the others are stored", async () => {
    await db.insertInto("t").values({ id: 5, v: "taken" }).execute();
    const results = await Promise.allSettled(
      [1, 2, 5, 3].map((id) =>
        db.transaction().execute(async (trx) => {
          await trx
            .insertInto("t")
            .values({ id: id + 100, v: "side" })
            .execute();
          await trx.insertInto("t").values({ id, v: "x" }).execute(); // 5 violates the primary key
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(/UNIQUE constraint failed/);
    expect(onDisk()).toEqual([1, 2, 3, 5, 101, 102, 103]);
  });

  it("a thrown error inside the callback rolls back that transaction only", async () => {
    const bad = db.transaction().execute(async (trx) => {
      await trx.insertInto("t").values({ id: 9, v: "nope" }).execute();
      throw new Error("changed my mind");
    });
    const good = db.transaction().execute((trx) => trx.insertInto("t").values({ id: 8, v: "yes" }).execute());
    await expect(bad).rejects.toThrow("changed my mind");
    await good;
    expect(onDisk()).toEqual([8]);
  });

  it("reads outside a transaction never see writes that are not committed yet", async () => {
    let seenInside: number[] = [];
    let seenOutside: number[] = [];
    await db.transaction().execute(async (trx) => {
      await trx.insertInto("t").values({ id: 1, v: "pending" }).execute();
      seenInside = (await trx.selectFrom("t").select("id").execute()).map((r) => r.id);
      seenOutside = (await db.selectFrom("t").select("id").execute()).map((r) => r.id);
    });
    expect(seenInside).toEqual([1]);
    expect(seenOutside).toEqual([]);
    expect((await db.selectFrom("t").select("id").execute()).map((r) => r.id)).toEqual([1]);
  });

  it("a write outside a transaction resolves once committed; durability stays synchronous=FULL", async () => {
    await db.insertInto("t").values({ id: 7, v: "single" }).execute();
    expect(onDisk()).toEqual([7]);
    const r = await sql<{ synchronous: number }>`pragma synchronous`.execute(db);
    expect(r.rows[0]?.synchronous).toBe(2); // FULL
  });

  it("a write that fails on a concurrent one's key reports only once the winner is readable outside a transaction", async () => {
    // "Insert, catch the unique violation, read the winner" must find the winner: 10 identical inserts at
    // once, as a single statement and as a transaction; every loser then reads the winning row.
    const attempt = async (id: number, inTx: boolean) => {
      try {
        if (inTx) await db.transaction().execute((trx) => trx.insertInto("t").values({ id, v: "tx" }).execute());
        else await db.insertInto("t").values({ id, v: "single" }).execute();
        return "won";
      } catch (err) {
        expect(String(err)).toMatch(/UNIQUE constraint failed/);
        const winner = await db.selectFrom("t").select("id").where("id", "=", id).executeTakeFirst();
        return winner ? "lost, saw the winner" : "lost, saw nothing";
      }
    };
    for (const inTx of [false, true]) {
      const id = inTx ? 2 : 1;
      const results = await Promise.all(Array.from({ length: 10 }, () => attempt(id, inTx)));
      expect(results.filter((r) => r === "won")).toHaveLength(1);
      expect(results.filter((r) => r === "lost, saw the winner")).toHaveLength(9);
    }
    expect(onDisk()).toEqual([1, 2]);
  });
});
