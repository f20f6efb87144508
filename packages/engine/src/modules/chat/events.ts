import type { Conversation, ConversationEvent, WsEventMap, WsEventType } from "@utd-stream/protocol";
import type { EventSink } from "../../core/events.js";
import type { ConversationRow } from "./queries.js";

/** Publishes an event to some users of an app; nobody to tell publishes nothing (no bus traffic). `once`: see EventSink.toUsers. */
export function notify<K extends WsEventType>(
  events: EventSink,
  appId: string,
  to: readonly string[],
  type: K,
  data: WsEventMap[K],
  once?: string,
): void | Promise<void> {
  if (to.length > 0) return events.toUsers(appId, to, type, data, once);
}

/** `conversation.updated` data from a stored conversation. */
export function conversationEvent(conv: ConversationRow, change: ConversationEvent["change"], by: string): ConversationEvent {
  return {
    conversation_id: conv.id,
    change,
    by,
    name: conv.name,
    custom: conv.custom === null ? null : (JSON.parse(conv.custom) as ConversationEvent["custom"]),
    closed: conv.closed_at !== null,
    kind: conv.kind as ConversationEvent["kind"],
  };
}

/** `conversation.updated` (`created`) data from a conversation's wire view. */
export function createdEvent(c: Conversation, by: string): ConversationEvent {
  return { conversation_id: c.id, change: "created", by, name: c.name, custom: c.custom, closed: c.closed, kind: c.kind };
}
