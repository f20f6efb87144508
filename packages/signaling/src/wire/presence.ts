import type { Presence, PresenceStatus, TypingEventData } from "@utd-stream/protocol";
import { dateOrNull } from "./dates.js";

/** One identity's presence. */
export interface UTDPresence {
  identity: string;
  status: PresenceStatus;
  lastSeenAt: Date | null;
  devices: string[];
}

/** A typing indicator change. */
export interface UTDTyping {
  identity: string;
  conversationId: string | null;
  expiresAt: Date | null;
}

/** Wire → SDK: presence. */
export function presenceFromWire(p: Presence): UTDPresence {
  return { identity: p.identity, status: p.status, lastSeenAt: dateOrNull(p.last_seen_at), devices: p.devices };
}

/** Wire → SDK: a typing event. */
export function typingFromWire(t: TypingEventData): UTDTyping {
  return { identity: t.identity, conversationId: t.conversation_id, expiresAt: dateOrNull(t.expires_at) };
}
