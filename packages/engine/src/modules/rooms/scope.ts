import type { ExpressionBuilder } from "kysely";
import type { Database } from "../../store/schema.js";

/** A room as its rows name it: names are per app, so (app, name) is the key. */
export interface RoomRef {
  app_id: string;
  name: string;
}

/** The tables whose rows belong to one room, keyed by (`app_id`, `room_name`, …): stage roles, seats, speak requests. */
export type RoomTable = "media_room_members" | "media_seats" | "media_speak_requests" | "media_stage_requests";

/**
 * Scopes a query on a room's table to that room: `db.selectFrom("media_seats").where(inRoom(room))`.
 * Only the room tables type-check, and a room of another app can never match.
 */
export function inRoom(room: RoomRef) {
  return (eb: ExpressionBuilder<Database, RoomTable>) => eb.and([eb("app_id", "=", room.app_id), eb("room_name", "=", room.name)]);
}

/** The room's own row in `media_rooms`: `db.updateTable("media_rooms").where(isRoom(room))`. */
export function isRoom(room: RoomRef) {
  return (eb: ExpressionBuilder<Database, "media_rooms">) => eb.and([eb("app_id", "=", room.app_id), eb("name", "=", room.name)]);
}

/** The room key of a new row in a room table: `values({ ...roomColumns(room), identity, … })`. */
export function roomColumns(room: RoomRef): { app_id: string; room_name: string } {
  return { app_id: room.app_id, room_name: room.name };
}
