/** Chat data API (TalkJS-style): sessions, conversation and user references, live lists, unread stores, uploads. */
export {
  type BinaryFetch,
  ChatApi,
  highlightParts,
  type UploadData,
  type UTDHistoryPage,
  type UTDSearchHit,
  type UTDSearchOptions,
  type UTDSearchPage,
  type UTDUnread,
} from "./api.js";
export { ConversationRef, type MessageSubscription } from "./conversation.js";
export { chatSessionFor } from "./facade.js";
export { ChatSessionRegistry, defaultRegistry, type GetSessionParams, getSession } from "./registry.js";
export {
  ChatSession,
  type ChatSessionOptions,
  type ConversationListSubscription,
  type UserRef,
  type UTDUploadMetadata,
} from "./session.js";
export type {
  UTDAttachment,
  UTDChatSettings,
  UTDConversation,
  UTDCustom,
  UTDFileMetadata,
  UTDFriend,
  UTDMember,
  UTDMessage,
  UTDSendParams,
} from "./wire.js";
