import type { UTDSignaling } from "../signaling.js";
import { ChatSession } from "./session.js";

/**
 * Chat on a connected {@link UTDSignaling} facade: a {@link ChatSession} sharing its REST client, its
 * WebSocket (one socket for calls, presence and chat) and its token refresh. Call once per connect and
 * keep the result; `dispose()` it when done (the facade's socket stays open).
 *
 * @example
 * const signaling = new UTDSignaling({ appId, appKey, userId: "alice" });
 * await signaling.connect();
 * const chat = chatSessionFor(signaling);
 * chat.unread.subscribe((u) => setBadge(u.total));
 */
export function chatSessionFor(signaling: UTDSignaling): ChatSession {
  const client = signaling.client;
  if (!client) throw new Error("chatSessionFor: call signaling.connect() first");
  return new ChatSession({ appId: signaling.appId, userId: signaling.userId, api: signaling.api, client });
}
