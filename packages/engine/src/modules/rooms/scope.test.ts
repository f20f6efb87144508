import { DummyDriver, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from "kysely";
import { describe, expect, it } from "vitest";
import type { Database } from "../../store/schema.js";
import { inRoom, isRoom, roomColumns } from "./scope.js";

// Compiles queries without a database: the helper's whole job is the WHERE clause it adds.
const db = new Kysely<Database>({
  dialect: {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (k) => new SqliteIntrospector(k),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  },
});
const room = { app_id: "app_1", name: "lobby" };

describe("room scope", () => {
  it("inRoom restricts a room table to the app and the room name, and composes with further conditions", () => {
    const q = db.selectFrom("media_seats").select("identity").where(inRoom(room)).where("seat_index", ">=", 3).compile();
    expect(q.sql).toBe('select "identity" from "media_seats" where ("app_id" = ? and "room_name" = ?) and "seat_index" >= ?');
    expect(q.parameters).toEqual(["app_1", "lobby", 3]);
    const d = db.deleteFrom("media_speak_requests").where(inRoom(room)).where("identity", "=", "u").compile();
    expect(d.parameters).toEqual(["app_1", "lobby", "u"]);
  });

  it("isRoom names the room's own row by app and name", () => {
    const q = db.updateTable("media_rooms").set({ updated_at: 1 }).where(isRoom(room)).compile();
    expect(q.sql).toBe('update "media_rooms" set "updated_at" = ? where ("app_id" = ? and "name" = ?)');
    expect(q.parameters).toEqual([1, "app_1", "lobby"]);
  });

  it("roomColumns gives a new row the room key", () => {
    expect(roomColumns(room)).toEqual({ app_id: "app_1", room_name: "lobby" });
  });
});
