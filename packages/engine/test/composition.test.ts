import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { route } from "../src/http/route.js";
import { createEngine, type Engine, loadConfig, MODULES, openStore } from "../src/index.js";
import { type AnyModule, defineModule } from "../src/modules/module.js";
import type { MigrationSet } from "../src/store/migrations.js";

/**
 * The composition root (src/index.ts): modules are built in list order from their descriptors, each
 * with the services it needs; a misordered list or a clash is refused before anything serves.
 */

interface NotesTable {
  id: string;
  app_id: string;
  text: string;
}

declare module "../src/store/schema.js" {
  interface Database {
    test_notes: NotesTable;
  }
}

/** A stand-in service: what a module offers the others. */
class NotesService {
  constructor(private readonly store: Engine["store"]) {}
  async count(appId: string): Promise<number> {
    const r = await this.store.db
      .selectFrom("test_notes")
      .select(sql<number>`count(*)`.as("n"))
      .where("app_id", "=", appId)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }
}

declare module "../src/modules/module.js" {
  interface ModuleServices {
    testNotes: NotesService;
    testLast: string;
  }
}

const notesMigrations: MigrationSet = () => ({
  "9000_test_notes": {
    async up(db) {
      await db.schema
        .createTable("test_notes")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("app_id", "text", (c) => c.notNull())
        .addColumn("text", "text", (c) => c.notNull())
        .execute();
    },
  },
});

const lifecycle: string[] = [];

/** The example of docs/design.md, with a route, a start and a stop. */
const notesModule = defineModule({
  name: "testNotes",
  needs: ["apps"],
  migrations: notesMigrations,
  create: ({ store, apps }) => {
    const notes = new NotesService(store);
    return {
      service: notes,
      routes: (http, deps) =>
        route(http, deps, {
          method: "GET",
          url: "/api/v1/test-notes/count",
          summary: "test",
          tags: ["test"],
          auth: "user",
          handler: async ({ auth }) => ({ app: (await apps.get(auth.app.id)).id, count: await notes.count(auth.app.id) }),
        }),
      start: () => void lifecycle.push("notes started"),
      stop: () => void lifecycle.push("notes stopped"),
    };
  },
});

/** Needs the notes module: built after it, stopped before it. */
const lastModule = defineModule({
  name: "testLast",
  needs: ["testNotes"],
  create: ({ testNotes }) => ({
    service: testNotes instanceof NotesService ? "got notes" : "no notes",
    start: () => void lifecycle.push("last started"),
    stop: () => void lifecycle.push("last stopped"),
  }),
});

const dirs: string[] = [];
function config() {
  const dir = mkdtempSync(join(tmpdir(), "utd-compose-"));
  dirs.push(dir);
  return loadConfig({ UTD_PORT: "0", UTD_HOST: "127.0.0.1", UTD_DATA_DIR: dir, UTD_ADMIN_TOKEN: "adm", UTD_LOG_LEVEL: "warn" });
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("createEngine builds the module list", () => {
  it("a module added to the list gets its migrations, its routes, the services it needs, start and stop in order", async () => {
    const engine = await createEngine(config(), {}, [...MODULES, notesModule, lastModule]);
    try {
      expect(engine.services.testLast).toBe("got notes");
      expect(lifecycle).toEqual(["notes started", "last started"]);
      const app = await engine.services.apps.create({ name: "Compose", auth_mode: "open", plan: "pro" });
      await engine.store.db.insertInto("test_notes").values({ id: "n1", app_id: app.app_id, text: "hi" }).execute();
      const session = await engine.http.inject({
        method: "POST",
        url: "/api/v1/auth/session",
        payload: { app_id: app.app_id, app_key: app.app_key, identity: "ann" },
      });
      const token = (session.json() as { user_token: string }).user_token;
      const res = await engine.http.inject({
        method: "GET",
        url: "/api/v1/test-notes/count",
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.json()).toEqual({ app: app.app_id, count: 1 });
      // The route got the engine's authenticate: no token is the typed 401 every route gives.
      const anon = await engine.http.inject({ method: "GET", url: "/api/v1/test-notes/count" });
      expect([anon.statusCode, (anon.json() as { error: { code: string } }).error.code]).toEqual([401, "unauthorized"]);
    } finally {
      await engine.close();
    }
    expect(lifecycle).toEqual(["notes started", "last started", "last stopped", "notes stopped"]);
  });

  it("refuses a module listed before a module it needs, naming both, and leaves the storage usable", async () => {
    const c = config();
    await expect(createEngine(c, {}, [...MODULES, lastModule, notesModule])).rejects.toThrow(
      'module "testLast" needs testNotes: list it after them',
    );
    // The failed build closed what it opened: the same data dir opens again.
    const engine = await createEngine(c);
    await engine.close();
  });

  it("refuses a module listed twice and a request for a later module that is not listed", async () => {
    await expect(createEngine(config(), {}, [...MODULES, notesModule, notesModule])).rejects.toThrow('module "testNotes" is listed twice');
    const withoutChat = MODULES.filter((m) => !["chat", "typing", "support"].includes(m.name));
    // uploads reaches chat lazily (a true cycle); without chat in the list that is a wiring error, found at build.
    await expect(createEngine(config(), {}, withoutChat)).rejects.toThrow('a module asks for "chat" later, but no such module is listed');
  });

  it("the store refuses two modules that define the same migration, and creates nothing", async () => {
    const clash = defineModule({ name: "testLast", needs: [], migrations: notesMigrations, create: () => ({ service: "x" }) });
    const dir = mkdtempSync(join(tmpdir(), "utd-compose-"));
    dirs.push(dir);
    await expect(openStore({ dataDir: dir }, [...MODULES, notesModule, clash as AnyModule])).rejects.toThrow(
      "two modules define the migration 9000_test_notes",
    );
    const store = await openStore({ dataDir: dir });
    try {
      const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(store.db);
      expect(tables.rows.map((r) => r.name)).not.toContain("test_notes");
    } finally {
      await store.close();
    }
  });
});
