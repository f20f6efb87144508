import type { Attachment, Message, SupportConversation, SupportState, UploadKind } from "@utd-stream/protocol";

/** An attachment of a message (camelCase). */
export interface LiveChatAttachment {
  fileToken: string;
  kind: UploadKind;
  filename: string;
  contentType: string;
  size: number;
}

/** A message as the widget and the event bus hand it out (camelCase of the wire `Message`). */
export interface LiveChatMessage {
  id: string;
  conversationId: string;
  seq: number;
  type: "text" | "system";
  sender: string | null;
  text: string | null;
  custom: Record<string, unknown> | null;
  attachments: LiveChatAttachment[];
  replyTo: string | null;
  clientMsgId: string | null;
  createdAt: Date;
  deleted: boolean;
}

/** A support conversation: state and assignee as both sides see them. */
export interface LiveChatConversation {
  id: string;
  visitor: string;
  state: SupportState;
  assignee: string | null;
  custom: Record<string, unknown> | null;
  createdAt: Date;
  closedAt: Date | null;
  closedBy: string | null;
  lastSeq: number;
}

function attachmentFromWire(a: Attachment): LiveChatAttachment {
  return { fileToken: a.file_token, kind: a.kind, filename: a.filename, contentType: a.content_type, size: a.size };
}

/** The one place wire messages become camelCase. */
export function messageFromWire(m: Message): LiveChatMessage {
  return {
    id: m.id,
    conversationId: m.conversation_id,
    seq: m.seq,
    type: m.type,
    sender: m.sender,
    text: m.text,
    custom: m.custom as Record<string, unknown> | null,
    attachments: m.attachments.map(attachmentFromWire),
    replyTo: m.reply_to,
    clientMsgId: m.client_msg_id,
    createdAt: new Date(m.created_at),
    deleted: m.deleted,
  };
}

export function conversationFromWire(c: SupportConversation): LiveChatConversation {
  return {
    id: c.id,
    visitor: c.visitor,
    state: c.state,
    assignee: c.assignee,
    custom: c.custom as Record<string, unknown> | null,
    createdAt: new Date(c.created_at),
    closedAt: c.closed_at === null ? null : new Date(c.closed_at),
    closedBy: c.closed_by,
    lastSeq: c.last_seq,
  };
}

/** The `sub` claim of a JWT (the visitor's identity), without verifying it (the engine does that). */
export function jwtSubject(jwt: string): string | null {
  const part = jwt.split(".")[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(
      Array.from(
        atob(b64.padEnd(b64.length + ((4 - (b64.length % 4)) % 4), "=")),
        (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
      ).join(""),
    );
    const claims = JSON.parse(json) as { sub?: unknown };
    return typeof claims.sub === "string" && claims.sub.length > 0 ? claims.sub : null;
  } catch {
    return null;
  }
}
