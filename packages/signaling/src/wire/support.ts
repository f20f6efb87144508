import type { SupportConversation, SupportState } from "@utd-stream/protocol";
import { messageFromWire, type UTDMessage } from "./chat.js";
import { date, dateOrNull } from "./dates.js";

/** A support conversation (a visitor and the app's operator team): its state and assignee as both sides see them. */
export interface UTDSupportConversation {
  /** The chat conversation id (kind `support`): read receipts and typing go through it like any conversation. */
  id: string;
  visitor: string;
  state: SupportState;
  /** The operator handling it; null while queued. Stays set when closed. */
  assignee: string | null;
  custom: Record<string, unknown> | null;
  createdAt: Date;
  updatedAt: Date;
  closedAt: Date | null;
  closedBy: string | null;
  lastSeq: number;
  lastMessage: UTDMessage | null;
}

/** Wire → SDK: a support conversation. */
export function supportConversationFromWire(c: SupportConversation): UTDSupportConversation {
  return {
    id: c.id,
    visitor: c.visitor,
    state: c.state,
    assignee: c.assignee,
    custom: c.custom as Record<string, unknown> | null,
    createdAt: date(c.created_at),
    updatedAt: date(c.updated_at),
    closedAt: dateOrNull(c.closed_at),
    closedBy: c.closed_by,
    lastSeq: c.last_seq,
    lastMessage: c.last_message ? messageFromWire(c.last_message) : null,
  };
}
