/**
 * @utd-stream/widget — the Livecaller experience on UTD Stream for the web: a drop-in live-chat web
 * component, an app-wide event bus, and a background listener that survives the widget closing and a
 * reload. Built on @utd-stream/signaling only.
 *
 * @example
 * import { UTDEvents, defineChatWidget, startBackgroundEvents, userLogin } from "@utd-stream/widget";
 * defineChatWidget();                        // <utd-chat-widget app-id=… app-key=… widget-id=… language="ur">
 * await startBackgroundEvents();             // resumes from the persisted session, if any
 * await userLogin(jwtFromYourBackend, { appId, appKey });
 * const sub = UTDEvents.on("conversationMessageReceived", (m) => toast(m.text));
 * sub.cancel();
 *
 * @module @utd-stream/widget
 */
export { configure, liveChat, startBackgroundEvents, stopBackgroundEvents, UTDEvents, userLogin, userLogout } from "./background.js";
export { MessageDeduper, OnceSet } from "./dedup.js";
export { defineChatWidget, UTDChatWidget } from "./element.js";
export { UTDEventBus, type UTDEventMap, type UTDEventType, type UTDSubscription } from "./events.js";
export { type LiveChatStrings, registerLocale, relativeTime, stringsFor } from "./locales/index.js";
export {
  type LiveChatConfig,
  type LiveChatConnection,
  LiveChatRuntime,
  type LiveChatRuntimeOptions,
  type PendingMessage,
} from "./runtime.js";
export { type KeyValueStorage, type PersistedSession, parseSession, SESSION_KEY, SessionStore } from "./session-store.js";
export type { LiveChatAttachment, LiveChatConversation, LiveChatMessage } from "./wire.js";
