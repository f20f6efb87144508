import type {
  ChatSession,
  ConnectionState,
  ConversationListSubscription,
  ConversationRef,
  ConversationSubscription,
  MessageSubscription,
  UploadData,
  UTDAuthSession,
  UTDConversation,
  UTDMessage,
  UTDPlanLimits,
  UTDPresence,
  UTDSendParams,
  UTDUnread,
  UTDUploadMetadata,
  UTDUploadProgress,
  UTDUploadTask,
} from "@utd-stream/signaling";
import { presenceStore } from "@utd-stream/signaling";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useChatSession, useConversationId, useSignaling } from "./context.js";
import { type Live, useLive, useStore } from "./store.js";

const NO_CONVERSATIONS: readonly UTDConversation[] = [];
const NO_MESSAGES: readonly UTDMessage[] = [];
const NO_ONE: readonly string[] = [];
const NO_RECEIPTS: Readonly<Record<string, number>> = {};
const NO_PRESENCE: Readonly<Record<string, UTDPresence>> = {};
const NO_UNREAD: UTDUnread = { total: 0, conversations: {} };

/** The socket's connection state (`idle` on the server and before mount). */
export function useConnectionState(): ConnectionState {
  return useStore(useSignaling().state);
}

/** Capability flags and plan limits, for upsell UIs (null until the session is minted). */
export interface UTDCapabilities {
  signaling: boolean | null;
  chat: boolean | null;
  planLimits: UTDPlanLimits | null;
  /** The whole minted session (token expiry, WebSocket URL …), null until minted. */
  session: UTDAuthSession | null;
}

/** Whether signalling and chat are on for the app's plan, and its limits. */
export function useCapabilities(): UTDCapabilities {
  const session = useStore(useSignaling().session);
  return useMemo(
    () => ({
      signaling: session?.signalingEnabled ?? null,
      chat: session?.chatEnabled ?? null,
      planLimits: session?.planLimits ?? null,
      session,
    }),
    [session],
  );
}

/** Live presence of `identities` (identity → presence; an identity is missing until its presence is known). */
export function usePresence(identities: readonly string[]): Readonly<Record<string, UTDPresence>> {
  const signaling = useSignaling();
  const key = [...identities].sort().join("\n");
  return useLive(
    identities.length > 0 ? signaling : null,
    `presence:${key}`,
    () => {
      const s = presenceStore(signaling, key.split("\n"));
      return { store: s.presence, close: s.unsubscribe };
    },
    NO_PRESENCE,
  ).value;
}

/** The user's conversations, most recently active first (live), and `loadMore` to page on. */
export function useConversations(opts: { limit?: number } = {}): {
  conversations: readonly UTDConversation[];
  loadMore(count?: number): Promise<boolean>;
} {
  const chat = useChatSession();
  const limit = opts.limit ?? 30;
  const { value, live } = useLive<readonly UTDConversation[], Live<readonly UTDConversation[]> & { sub: ConversationListSubscription }>(
    chat,
    `conversations:${limit}`,
    () => {
      const sub = (chat as ChatSession).subscribeConversations(() => {}, { limit });
      return { sub, store: sub.conversations, close: () => sub.unsubscribe() };
    },
    NO_CONVERSATIONS,
  );
  const loadMore = useCallback((count?: number) => live?.sub.loadMore(count) ?? Promise.resolve(false), [live]);
  return { conversations: value, loadMore };
}

/** The conversation's reference (send, edit, react, mark read …), null until the chat session exists. */
export function useConversationRef(id?: string | null): ConversationRef | null {
  const chat = useChatSession();
  const cid = useConversationId(id);
  return chat && cid ? chat.conversation(cid) : null;
}

/** One conversation, live (null until loaded). Defaults to the `<ConversationProvider>`'s. */
export function useConversation(id?: string | null): UTDConversation | null {
  const ref = useConversationRef(id);
  return useLive<UTDConversation | null, Live<UTDConversation | null>>(
    ref,
    "conversation",
    () => {
      const sub: ConversationSubscription = (ref as ConversationRef).subscribe(() => {});
      return { store: sub.conversation, close: () => sub.unsubscribe() };
    },
    null,
  ).value;
}

/** What {@link useMessages} returns. */
export interface UseMessages {
  /** The newest messages, oldest first; sends in flight last (`pending`), failed ones marked `failed`. */
  messages: readonly UTDMessage[];
  /** Sends still on their way. */
  pending: readonly UTDMessage[];
  /** Sends the engine refused (or that gave up): show a retry button. */
  failed: readonly UTDMessage[];
  /** Whether the window reaches the conversation's first message. */
  loadedAll: boolean;
  /** Pages back by up to `count` older messages; resolves false when there were none. */
  loadOlder(count?: number): Promise<boolean>;
  /** Sends a failed message again (same client id: stored once however often it is retried). */
  retry(message: UTDMessage): Promise<UTDMessage>;
}

/** A live window on a conversation's newest messages (`limit`, default 30). Defaults to the `<ConversationProvider>`'s. */
export function useMessages(id?: string | null, opts: { limit?: number } = {}): UseMessages {
  const ref = useConversationRef(id);
  const limit = opts.limit ?? 30;
  const { value, live } = useLive<readonly UTDMessage[], Live<readonly UTDMessage[]> & { sub: MessageSubscription }>(
    ref,
    `messages:${limit}`,
    () => {
      const sub = (ref as ConversationRef).subscribeMessages(() => {}, { limit });
      return { sub, store: sub.messages, close: () => sub.unsubscribe() };
    },
    NO_MESSAGES,
  );
  const loadOlder = useCallback((count?: number) => live?.sub.loadMore(count) ?? Promise.resolve(false), [live]);
  const retry = useCallback(
    (m: UTDMessage) => {
      if (!ref) return Promise.reject(new Error("useMessages: not connected"));
      const p: UTDSendParams = { clientMsgId: m.clientMsgId ?? undefined, text: m.text ?? undefined };
      if (m.custom) p.custom = m.custom;
      if (m.replyTo) p.replyTo = m.replyTo;
      return ref.send(p);
    },
    [ref],
  );
  const pending = useMemo(() => value.filter((m) => m.pending), [value]);
  const failed = useMemo(() => value.filter((m) => m.failed), [value]);
  return { messages: value, pending, failed, loadedAll: live?.sub.loadedAll ?? false, loadOlder, retry };
}

/** How often `keystroke()` renews the typing indicator while the user keeps typing. */
const TYPING_RENEW_MS = 3000;

/** Who else is typing in the conversation, and the calls to show that you are. */
export function useTyping(id?: string | null): {
  typing: readonly string[];
  /** Call on every keystroke: tells the others (at most every few seconds). */
  keystroke(): void;
  /** Call when the message was sent or the input cleared. */
  stop(): void;
} {
  const ref = useConversationRef(id);
  const typing = useStore(ref?.typing, NO_ONE);
  const last = useRef(0);
  const keystroke = useCallback(() => {
    const now = Date.now();
    if (!ref || now - last.current < TYPING_RENEW_MS) return;
    last.current = now;
    ref.startTyping().catch(() => {});
  }, [ref]);
  const stop = useCallback(() => {
    if (!ref || last.current === 0) return;
    last.current = 0;
    ref.stopTyping().catch(() => {});
  }, [ref]);
  return { typing, keystroke, stop };
}

/** Unread counts (total and per conversation), or one conversation's count when `id` is given. */
export function useUnread(): UTDUnread;
export function useUnread(id: string): number;
export function useUnread(id?: string): UTDUnread | number {
  const chat = useChatSession();
  const all = useStore(chat?.unread, NO_UNREAD);
  return id === undefined ? all : (all.conversations[id] ?? 0);
}

/**
 * The other members' read positions (identity → last read seq) — "seen by" marks — live, and
 * `markRead()` to move yours. Defaults to the `<ConversationProvider>`'s conversation.
 */
export function useReceipts(id?: string | null): {
  receipts: Readonly<Record<string, number>>;
  /** Who has read the message with this seq. */
  readBy(seq: number | null): string[];
  markRead(seq?: number): Promise<void>;
} {
  const ref = useConversationRef(id);
  const receipts = useStore(ref?.receipts, NO_RECEIPTS);
  useEffect(() => {
    ref?.loadReceipts().catch(() => {});
  }, [ref]);
  const readBy = useCallback(
    (seq: number | null) => (seq === null ? [] : Object.keys(receipts).filter((k) => (receipts[k] ?? 0) >= seq)),
    [receipts],
  );
  const markRead = useCallback(
    async (seq?: number) => {
      await ref?.markRead(seq);
    },
    [ref],
  );
  return { receipts, readBy, markRead };
}

function newId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return c?.randomUUID ? c.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

/**
 * `send(text | params)` for a conversation. Idempotent: the same content sent again in the same tick
 * (React StrictMode runs effects twice) reuses the first send's client id, so the engine stores it once
 * and the window shows it once; pass `clientMsgId` yourself to make any resend idempotent.
 */
export function useSendMessage(id?: string | null): (content: string | UTDSendParams) => Promise<UTDMessage> {
  const ref = useConversationRef(id);
  const recent = useRef(new Map<string, Promise<UTDMessage>>());
  return useCallback(
    (content: string | UTDSendParams) => {
      if (!ref) return Promise.reject(new Error("useSendMessage: not connected (no chat session or conversation)"));
      const p: UTDSendParams = typeof content === "string" ? { text: content } : { ...content };
      const key = `${ref.id}\n${JSON.stringify(p)}`;
      const again = recent.current.get(key);
      if (again) return again;
      p.clientMsgId ??= newId();
      const sent = ref.send(p);
      recent.current.set(key, sent);
      // Forgotten at the end of the tick: a user sending the same text twice sends it twice.
      setTimeout(() => recent.current.delete(key), 0);
      return sent;
    },
    [ref],
  );
}

/** Uploads with progress: `upload()` resolves to the file token; `progress` follows the latest upload. */
export function useUpload(): {
  upload(data: UploadData, metadata: UTDUploadMetadata, kind?: "file" | "image" | "video" | "audio" | "voice"): Promise<string>;
  /** The latest upload: bytes `sent` of `total`, `state` and, when done, `token`. */
  progress: UTDUploadProgress | null;
} {
  const chat = useChatSession();
  // The handle of the latest upload (the SDK's task); its progress is read from the task's store.
  const [task, setTask] = useState<UTDUploadTask | null>(null);
  const progress = useStore(task?.progress, null);
  const upload = useCallback(
    (data: UploadData, metadata: UTDUploadMetadata, kind: "file" | "image" | "video" | "audio" | "voice" = "file") => {
      if (!chat) return Promise.reject(new Error("useUpload: not connected"));
      const t = chat.startUpload(kind, data, metadata);
      setTask(t);
      return t.result;
    },
    [chat],
  );
  return { upload, progress };
}
