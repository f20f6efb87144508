/**
 * @utd-stream/react — React bindings for UTD Stream: providers and hooks over the headless SDK stores.
 * The package holds no state of its own: every hook reads a store of `@utd-stream/signaling` or
 * `@utd-stream/media` with `useSyncExternalStore`. React 18 and 19; server rendering renders the
 * initial values and opens nothing.
 *
 * @example
 * <UTDProvider options={{ baseUrl, appId, appKey, userId }} media={(s) => new UTDStreamClient({ signaling: s })}>
 *   <Inbox />
 * </UTDProvider>
 *
 * @module @utd-stream/react
 */
export { type UseCall, useCall, useIncomingCalls, useOutgoingCall } from "./calls.js";
export {
  type UseMessages,
  type UTDCapabilities,
  useCapabilities,
  useConnectionState,
  useConversation,
  useConversationRef,
  useConversations,
  useMessages,
  usePresence,
  useReceipts,
  useSendMessage,
  useTyping,
  useUnread,
  useUpload,
} from "./chat.js";
export {
  CallProvider,
  ConversationProvider,
  type UTDContextValue,
  type UTDEventSource,
  UTDProvider,
  type UTDProviderProps,
  useChatSession,
  useConversationId,
  useSession,
  useSignaling,
  useUTD,
} from "./context.js";
export { useUTDEvent } from "./events.js";
export { AudioTrack, useLocalParticipant, useParticipants, useRoom, useSeats, useStage, useTracks, VideoTrack } from "./media.js";
export { type Live, useLive, useStore } from "./store.js";
