import { ConversationEventSchema, MemberEventSchema, MessageSchema, ReactionEventSchema, ReceiptEventSchema } from "../chat.js";
import { ThreadEventSchema } from "../chat-threads.js";
import type { WsEventDefs } from "./define.js";

const members = "every member of the conversation";

/** Chat: messages, reactions, receipts, conversations and members (see docs/chat.md). */
export const CHAT_EVENT_DEFS = {
  "message.new": { data: MessageSchema, to: members, doc: "A message was sent (also system messages: member added, left, …)." },
  "message.updated": { data: MessageSchema, to: members, doc: "A message was edited (the whole message, as edited)." },
  "message.deleted": { data: MessageSchema, to: members, doc: "A message was deleted (the tombstone: `deleted: true`, no content)." },
  "reaction.added": {
    data: ReactionEventSchema,
    to: members,
    doc: "Someone reacted to a message; `reactions` is the message's whole reaction map afterwards.",
  },
  "reaction.removed": { data: ReactionEventSchema, to: members, doc: "Someone took a reaction back; `reactions` as afterwards." },
  "receipt.read": {
    data: ReceiptEventSchema,
    to: "the reader's own devices (with `unread_count`, `total_unread`); the other members only when the reader shares read receipts",
    doc: "A member's read position moved forward.",
  },
  "conversation.updated": {
    data: ConversationEventSchema,
    to: members,
    doc: "A conversation was created, renamed or changed (`updated`), closed or reopened (`change`).",
  },
  "thread.updated": {
    data: ThreadEventSchema,
    to: members,
    doc: "A thread's summary changed: a reply was sent (the reply itself comes as `message.new` with `thread_id`) or deleted.",
  },
  "member.added": { data: MemberEventSchema, to: "the members, including the one added", doc: "A member was added or joined a chatroom." },
  "member.removed": {
    data: MemberEventSchema,
    to: "the members, including the one removed",
    doc: "A member left or was removed (`role`: the role they had).",
  },
  "member.updated": {
    data: MemberEventSchema,
    to: members,
    doc: "A member's role changed (made admin or member; `owner` when ownership passed on after the owner left).",
  },
} satisfies WsEventDefs;
