import { UTDEventBus } from "./events.js";
import { type LiveChatConfig, LiveChatRuntime } from "./runtime.js";
import { type KeyValueStorage, SESSION_KEY } from "./session-store.js";

// One runtime and one bus per page: that is the product (Livecaller's `LivecallerEvents.instance`). They
// live on globalThis under a registered symbol so two copies of this package on a page still share them.
const RUNTIME = Symbol.for("utd-stream.livechat.runtime");
const BUS = Symbol.for("utd-stream.livechat.events");
type Slots = { [RUNTIME]?: LiveChatRuntime; [BUS]?: UTDEventBus };
const slots = globalThis as unknown as Slots;

/** The app-wide event bus: `UTDEvents.on("conversationMessageReceived", (m) => …)` returns a subscription with `cancel()`. */
export const UTDEvents: UTDEventBus = slots[BUS] ?? new UTDEventBus();
slots[BUS] = UTDEvents;

function browserStorage(): KeyValueStorage | undefined {
  try {
    return (globalThis as { localStorage?: KeyValueStorage }).localStorage;
  } catch {
    return undefined; // storage blocked (privacy settings): the session lives for this page only
  }
}

/** The page's live-chat runtime (shared by every widget and the background listener). */
export function liveChat(): LiveChatRuntime {
  let rt = slots[RUNTIME];
  if (!rt) {
    const storage = browserStorage();
    const created = new LiveChatRuntime(storage ? { bus: UTDEvents, storage } : { bus: UTDEvents });
    slots[RUNTIME] = created;
    rt = created;
    const on = (globalThis as { addEventListener?: (t: string, f: (e: { key?: string | null }) => void) => void }).addEventListener;
    // A logout in another tab of the same origin signs this one out too.
    on?.("storage", (e) => {
      if (e.key === SESSION_KEY || e.key === null) created.storageChanged();
    });
    // Back online: reconnect now and send what failed while offline.
    on?.("online", () => created.networkOnline());
  }
  return rt;
}

/** Where the engine is and which app (optional when a `<utd-chat-widget>` is on the page or a session is stored). */
export function configure(config: LiveChatConfig): void {
  liveChat().configure(config);
}

/**
 * Keeps the events flowing on every screen while the widget is closed. Resumes from the persisted
 * session (token, conversation, connection settings) with no arguments; safe to call before the
 * visitor ever logged in (it waits for `userLogin`). Resolves to whether a session was found.
 */
export async function startBackgroundEvents(): Promise<boolean> {
  return liveChat().startBackground();
}

/** Stops the background listener (a mounted widget keeps its own connection until it is removed). */
export async function stopBackgroundEvents(): Promise<void> {
  liveChat().stopBackground();
}

/** Signs the visitor in with a JWT your backend signed with the app secret (`sub` = identity, short `exp`). */
export async function userLogin(jwt: string, config?: LiveChatConfig): Promise<void> {
  await liveChat().login(jwt, config);
}

/** Clears the chat session and the persisted background session. */
export async function userLogout(): Promise<void> {
  await liveChat().logout();
}
