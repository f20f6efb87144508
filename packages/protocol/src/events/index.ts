import { CALL_EVENT_DEFS } from "./calls.js";
import { CHAT_EVENT_DEFS } from "./chat.js";
import type { WsEventDefs } from "./define.js";
import { FRIEND_EVENT_DEFS } from "./friends.js";
import { PRESENCE_EVENT_DEFS } from "./presence.js";
import { ROOM_EVENT_DEFS } from "./rooms.js";
import { SUPPORT_EVENT_DEFS } from "./support.js";
import { TYPING_EVENT_DEFS } from "./typing.js";

export * from "./calls.js";
export * from "./chat.js";
export * from "./custom.js";
export * from "./define.js";
export * from "./friends.js";
export * from "./presence.js";
export * from "./rooms.js";
export * from "./signal-rooms.js";
export * from "./support.js";
export * from "./typing.js";

/**
 * Every server event the engine sends (besides the app's own `custom.*`), with its data schema, in the
 * order of the docs' table. `WsEventMap` is derived from it.
 */
export const WS_EVENTS = {
  ...PRESENCE_EVENT_DEFS,
  ...CALL_EVENT_DEFS,
  ...TYPING_EVENT_DEFS,
  ...CHAT_EVENT_DEFS,
  ...FRIEND_EVENT_DEFS,
  ...SUPPORT_EVENT_DEFS,
  ...ROOM_EVENT_DEFS,
} satisfies WsEventDefs;
