import type { LiveChatConversation, LiveChatMessage } from "./wire.js";

/** Payloads of the app-wide events (the Livecaller event reference, camelCase). */
export interface UTDEventMap {
  /** A support conversation became active: once per conversation id per page lifetime. */
  conversationWasStarted: LiveChatConversation;
  /** A message from the other side (an operator); never the visitor's own, never twice. */
  conversationMessageReceived: LiveChatMessage;
  /** The conversation was closed, by either party. */
  conversationWasClosed: { id: string; closedBy: string | null };
  /** The stored token no longer works; the stored session was already dropped, so log in again (`userLogin`). */
  conversationAuthFailed: { conversationId: string | null; reason: string };
}

export type UTDEventType = keyof UTDEventMap;

/** What `on()` returns: call `cancel()` when the screen goes away. */
export interface UTDSubscription {
  cancel(): void;
}

/**
 * An event bus: `on(type, listener)` returns a subscription with `cancel()`. A listener that
 * throws does not stop the others (the error is reported asynchronously, as an uncaught error).
 */
export class UTDEventBus {
  private readonly listeners = new Map<UTDEventType, Set<(data: never) => void>>();

  on<K extends UTDEventType>(type: K, listener: (data: UTDEventMap[K]) => void): UTDSubscription {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
    }
    // Wrap so the same function subscribed twice gets two independent subscriptions.
    const entry = (data: never) => listener(data);
    set.add(entry);
    let active = true;
    return {
      cancel: () => {
        if (!active) return;
        active = false;
        set?.delete(entry);
      },
    };
  }

  /** Delivers an event to every current listener of its type. */
  emit<K extends UTDEventType>(type: K, data: UTDEventMap[K]): void {
    const set = this.listeners.get(type);
    if (!set) return;
    for (const l of [...set]) {
      try {
        (l as (d: UTDEventMap[K]) => void)(data);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  /** How many listeners a type has (for tests and diagnostics). */
  listenerCount(type: UTDEventType): number {
    return this.listeners.get(type)?.size ?? 0;
  }
}
