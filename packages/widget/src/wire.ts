import { jwtClaims, type UTDAttachment, type UTDMessage, type UTDSupportConversation } from "@utd-stream/signaling";

/** An attachment of a message (the SDK's `UTDAttachment`). */
export type LiveChatAttachment = UTDAttachment;

/** A message as the widget and the event bus hand it out: the SDK's `UTDMessage`, stored by the engine (so it has a `seq`). */
export type LiveChatMessage = UTDMessage & { seq: number };

/** A support conversation: state and assignee as both sides see them (the SDK's `UTDSupportConversation`). */
export type LiveChatConversation = UTDSupportConversation;

/** A message the engine stored (every message off the wire is one; only the SDK's optimistic copies lack a seq). */
export function stored(m: UTDMessage): LiveChatMessage {
  return { ...m, seq: m.seq ?? 0 };
}

/** The `sub` claim of a JWT (the visitor's identity), without verifying it (the engine does that). */
export function jwtSubject(jwt: string): string | null {
  const sub = jwtClaims(jwt)?.sub;
  return typeof sub === "string" && sub.length > 0 ? sub : null;
}
