import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { backends, describeBackends, type FreshStore, freshStore } from "../../../test/helpers/backends.js";
import { connectStore, type Store } from "../src/store/db.js";
import { Prepared } from "../src/store/prepared.js";

type Db = { t: { a: string; b: string; n: number } };

// store/prepared.ts: a query built once and rerun with new arguments answers what building it anew would.
describeBackends(await backends("store"), "prepared queries", (name) => {
  let fresh: FreshStore | undefined;
  let store: Store;
  let db: Kysely<Db>;
  beforeAll(async () => {
    fresh = await freshStore(name);
    if (!fresh) return;
    store = await connectStore(fresh.storeOptions, []);
    db = store.db as never;
    await sql`create table t (a text not null, b text not null, n integer not null)`.execute(db);
    await db
      .insertInto("t")
      .values([
        { a: "x", b: "1", n: 1 },
        { a: "x", b: "2", n: 2 },
        { a: "y", b: "1", n: 3 },
      ])
      .execute();
  });
  afterAll(async () => {
    await store?.close();
    await fresh?.drop();
  });

  it("binds each argument where the builder put it, constants stay, every call alike", async (ctx) => {
    if (!fresh) return ctx.skip();
    // Arguments used out of their declaration order, next to a constant.
    const q = new Prepared((d: Kysely<Db>, b: string, a: string) =>
      d.selectFrom("t").select("n").where("a", "=", a).where("n", ">", 0).where("b", "=", b).orderBy("n"),
    );
    for (const [b, a, want] of [
      ["1", "x", [1]],
      ["2", "x", [2]],
      ["1", "y", [3]],
      ["2", "y", []],
    ] as const) {
      expect((await q.execute(db, b, a)).map((r) => r.n)).toEqual(want);
      const built = await db.selectFrom("t").select("n").where("a", "=", a).where("n", ">", 0).where("b", "=", b).orderBy("n").execute();
      expect((await q.execute(db, b, a)).map((r) => r.n)).toEqual(built.map((r) => r.n));
    }
    expect(await q.first(db, "9", "x")).toBeUndefined();
    // Inside a transaction too.
    await db.transaction().execute(async (trx) => {
      await trx.insertInto("t").values({ a: "z", b: "1", n: 4 }).execute();
      expect((await q.first(trx, "1", "z"))?.n).toBe(4);
    });
  });

  it("binds numbers and nulls too: a multi-row insert with returning, an update with an `in` list", async (ctx) => {
    if (!fresh) return ctx.skip();
    await sql`create table u (k text not null, n bigint, m bigint)`.execute(db);
    const udb = db as unknown as Kysely<{ u: { k: string; n: number | null; m: number | null } }>;
    const insert = new Prepared((d: typeof udb, ...v: (string | number | null)[]) =>
      d
        .insertInto("u")
        .values([
          { k: v[0] as string, n: v[1] as number | null, m: 7 },
          { k: v[2] as string, n: v[3] as number | null, m: null },
        ])
        .returning(["k", "n", "m"]),
    );
    expect(await insert.execute(udb, "a", 1, "b", null)).toEqual([
      { k: "a", n: 1, m: 7 },
      { k: "b", n: null, m: null },
    ]);
    expect(await insert.execute(udb, "c", 3_000_000_000_000, "d", 4)).toEqual([
      { k: "c", n: 3_000_000_000_000, m: 7 },
      { k: "d", n: 4, m: null },
    ]);
    const update = new Prepared((d: typeof udb, ...v: (string | number)[]) =>
      d
        .updateTable("u")
        .set({ m: v[0] as number })
        .where("k", "in", v.slice(1) as string[]),
    );
    await update.execute(udb, 9, "a", "d");
    await update.execute(udb, 8, "b", "zz");
    const rows = await udb.selectFrom("u").select(["k", "m"]).orderBy("k").execute();
    expect(rows).toEqual([
      { k: "a", m: 9 },
      { k: "b", m: 8 },
      { k: "c", m: 7 },
      { k: "d", m: 9 },
    ]);
  });

  it("a build whose SQL depends on the values (an argument inlined) is rebuilt every call, still right", async (ctx) => {
    if (!fresh) return ctx.skip();
    const q = new Prepared((d: Kysely<Db>, a: string) =>
      d
        .selectFrom("t")
        .select("n")
        .where(sql<boolean>`a = ${sql.lit(a)}`)
        .orderBy("n"),
    );
    expect((await q.execute(db, "x")).map((r) => r.n)).toEqual([1, 2]);
    expect((await q.execute(db, "y")).map((r) => r.n)).toEqual([3]);
  });
});
