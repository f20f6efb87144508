/** Chat data API (TalkJS-style): sessions, conversation and user references, live lists, unread stores, uploads. */
export {
  ChatApi,
  highlightParts,
  type UTDConversationPage,
  type UTDSearchHit,
  type UTDSearchOptions,
  type UTDSearchPage,
  type UTDThreadPage,
  type UTDUnread,
} from "./api.js";
export { ConversationRef, type ConversationSubscription, type MessageSubscription } from "./conversation.js";
export { chatSessionFor, chatSessionStore } from "./facade.js";
export { activeMention, insertMention, type MentionCandidate, type MentionQuery, suggestMentions } from "./mentions.js";
export {
  type ChatStorage,
  IndexedDbChatStorage,
  keyValueChatStorage,
  MemoryChatStorage,
  OfflineCache,
  type OfflineLimits,
  type OutboxEntry,
} from "./offline.js";
export { ChatSessionRegistry, defaultRegistry, type GetSessionParams, getSession } from "./registry.js";
export {
  ChatSession,
  type ChatSessionOptions,
  type ConversationListSubscription,
  type OfflineOptions,
  type UTDUploadMetadata,
  type UTDUploadProgress,
  type UTDUploadTask,
} from "./session.js";
export type { UserProfileSubscription, UserRef, UTDUserProfile } from "./user.js";
