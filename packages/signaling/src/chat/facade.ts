import type { UTDSignaling } from "../signaling.js";
import { type ReadableStore, Store } from "../store.js";
import { ChatSession, type OfflineOptions } from "./session.js";

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
export function chatSessionFor(signaling: UTDSignaling, opts: { offline?: OfflineOptions } = {}): ChatSession {
  const client = signaling.client;
  if (!client) throw new Error("chatSessionFor: call signaling.connect() first");
  return new ChatSession({
    appId: signaling.appId,
    userId: signaling.userId,
    api: signaling.api,
    client,
    ...(opts.offline ? { offline: opts.offline } : {}),
  });
}

/** The chat session store of each facade (see {@link chatSessionStore}). */
const stores = new WeakMap<UTDSignaling, ReadableStore<ChatSession | null>>();

/**
 * The chat session on a facade's socket, as a store that follows the connection: null while not
 * connected, a {@link ChatSession} from the moment the facade connects (a fresh one after each
 * `connect()`), disposed when the socket closes. The same store for the same facade; opens nothing by
 * itself (what React bindings read).
 *
 * @example
 * chatSessionStore(signaling).subscribe((chat) => chat?.unread.subscribe((u) => setBadge(u.total)));
 */
export function chatSessionStore(signaling: UTDSignaling): ReadableStore<ChatSession | null> {
  const known = stores.get(signaling);
  if (known) return known;
  const store = new Store<ChatSession | null>(null);
  stores.set(signaling, store);
  let client: UTDSignaling["client"];
  signaling.state.subscribe((state) => {
    const live = state !== "idle" && state !== "closed" ? signaling.client : undefined;
    if (live === client) return;
    store.value?.dispose();
    client = live;
    store.set(live ? new ChatSession({ appId: signaling.appId, userId: signaling.userId, api: signaling.api, client: live }) : null);
  });
  return store;
}
