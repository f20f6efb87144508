import { FriendEventSchema } from "../friends.js";
import type { WsEventDefs } from "./define.js";

/** `friend.updated`. */
export const FRIEND_EVENT_DEFS = {
  "friend.updated": {
    data: FriendEventSchema,
    to: "both sides",
    doc: "A friend request was sent, accepted, declined or a friendship removed; `state` as the recipient sees it (null: none).",
  },
} satisfies WsEventDefs;
