/**
 * LiveKit room names. Apps see un-prefixed names; inside LiveKit every room is scoped by its app
 * (`<app_id>:room:<name>`, `<app_id>:call:<call_id>`), so two apps' "lobby" never meet and no
 * room token can reach a call's room. App room names cannot contain ':' (see `RoomName`).
 */
export type ScopedRoom = { kind: "room"; appId: string; name: string } | { kind: "call"; appId: string; callId: string };

export function roomKey(appId: string, name: string): string {
  return `${appId}:room:${name}`;
}

export function callRoomKey(appId: string, callId: string): string {
  return `${appId}:call:${callId}`;
}

/** Inverse of `roomKey`/`callRoomKey`; undefined for a room the engine did not name. */
export function parseRoomKey(key: string): ScopedRoom | undefined {
  const m = /^([^:]+):(room|call):([^:]+)$/.exec(key);
  if (!m) return undefined;
  const [, appId, kind, rest] = m as unknown as [string, string, string, string];
  return kind === "room" ? { kind: "room", appId, name: rest } : { kind: "call", appId, callId: rest };
}
