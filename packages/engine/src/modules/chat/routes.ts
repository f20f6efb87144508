import {
  AddMembersRequestSchema,
  ChatFiltersSchema,
  ChatSettingsSchema,
  ConversationListSchema,
  ConversationSchema,
  CreateConversationRequestSchema,
  CreateReportRequestSchema,
  EditMessageRequestSchema,
  HistoryQuerySchema,
  HistoryResponseSchema,
  Id,
  Identity,
  ListConversationsQuerySchema,
  MarkReadRequestSchema,
  MarkReadResponseSchema,
  MarkThreadReadResponseSchema,
  MemberPageSchema,
  MemberSchema,
  MembersQuerySchema,
  MessageSchema,
  ReactionRequestSchema,
  ReportListQuerySchema,
  ReportListSchema,
  ReportSchema,
  ResolveReportRequestSchema,
  SearchMessagesQuerySchema,
  SearchMessagesResponseSchema,
  SendMessageRequestSchema,
  ThreadListQuerySchema,
  ThreadListSchema,
  UnreadResponseSchema,
  UpdateChatSettingsRequestSchema,
  UpdateConversationRequestSchema,
  UpdateMemberRequestSchema,
} from "@utd-stream/protocol/schemas";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { AuthContext, Caller } from "../../core/caller.js";
import { type RouteDeps, route } from "../../http/route.js";
import type { AppsService } from "../apps/index.js";
import type { ChatService } from "./service.js";

const ConvParams = z.strictObject({ id: Id });
const MessageParams = ConvParams.extend({ message_id: Id });
const MemberParams = ConvParams.extend({ identity: Identity });
const ReactionParams = MessageParams.extend({ reaction: ReactionRequestSchema.shape.reaction });
const Members = z.object({ members: z.array(MemberSchema) });
const tags = ["chat"];

function caller(ctx: AuthContext): Caller {
  return { app: ctx.app, identity: ctx.identity };
}

/** Chat REST routes (`/api/v1/conversations…`, `/api/v1/threads`, `/api/v1/chatrooms`, `/api/v1/unread`, `/api/v1/chat/settings`, `/api/v1/search/messages`). */
export function registerChatRoutes(app: FastifyInstance, deps: RouteDeps, chat: ChatService): void {
  route(app, deps, {
    method: "POST",
    url: "/api/v1/conversations",
    summary: "Create a conversation (direct: returns the existing one for the pair with 200)",
    tags,
    auth: "user",
    body: CreateConversationRequestSchema,
    response: ConversationSchema,
    status: 201,
    handler: async ({ auth, body, reply }) => {
      const { conversation, created } = await chat.conversations.create(caller(auth), body);
      return reply.code(created ? 201 : 200).send(conversation);
    },
  });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/conversations",
    summary: "The caller's conversations, most recently active first, with last message and unread count",
    tags,
    auth: "user",
    query: ListConversationsQuerySchema,
    response: ConversationListSchema,
    handler: async ({ auth, query }) => chat.conversations.list(caller(auth), query),
  });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/chatrooms",
    summary: "Open chatrooms of the app (join with POST /api/v1/conversations/{id}/join)",
    tags,
    auth: "user",
    query: ListConversationsQuerySchema.pick({ limit: true, before: true }),
    response: ConversationListSchema,
    handler: async ({ auth, query }) => chat.conversations.listChatrooms(caller(auth), query),
  });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/conversations/:id",
    summary: "A conversation (members only)",
    tags,
    auth: "user",
    params: ConvParams,
    response: ConversationSchema,
    handler: async ({ auth, params }) => chat.conversations.get(caller(auth), params.id),
  });
  route(app, deps, {
    method: "PATCH",
    url: "/api/v1/conversations/:id",
    summary: "Rename or change custom data (owner or admin)",
    tags,
    auth: "user",
    params: ConvParams,
    body: UpdateConversationRequestSchema,
    response: ConversationSchema,
    handler: async ({ auth, params, body }) => chat.conversations.update(caller(auth), params.id, body),
  });
  for (const [verb, closed] of [
    ["close", true],
    ["reopen", false],
  ] as const) {
    route(app, deps, {
      method: "POST",
      url: `/api/v1/conversations/:id/${verb}`,
      summary: closed ? "Close a conversation: no more messages, history stays" : "Reopen a closed conversation",
      tags,
      auth: "user",
      params: ConvParams,
      response: ConversationSchema,
      handler: async ({ auth, params }) => chat.conversations.setClosed(caller(auth), params.id, closed),
    });
  }
  route(app, deps, {
    method: "POST",
    url: "/api/v1/conversations/:id/join",
    summary: "Join an open chatroom",
    tags,
    auth: "user",
    params: ConvParams,
    response: ConversationSchema,
    handler: async ({ auth, params }) => chat.conversations.join(caller(auth), params.id),
  });
  route(app, deps, {
    method: "POST",
    url: "/api/v1/conversations/:id/leave",
    summary: "Leave a group or chatroom",
    tags,
    auth: "user",
    params: ConvParams,
    status: 204,
    handler: async ({ auth, params }) => chat.members.leave(caller(auth), params.id),
  });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/conversations/:id/members",
    summary: "Members with roles and (when shared) read positions, in join order, a page at a time (limit ≤ 500, default 100)",
    tags,
    auth: "user",
    params: ConvParams,
    query: MembersQuerySchema,
    response: MemberPageSchema,
    handler: async ({ auth, params, query }) => chat.members.page(caller(auth), params.id, query),
  });
  route(app, deps, {
    method: "POST",
    url: "/api/v1/conversations/:id/members",
    summary: "Add members to a group (owner or admin; max_group_members)",
    tags,
    auth: "user",
    params: ConvParams,
    body: AddMembersRequestSchema,
    response: Members,
    handler: async ({ auth, params, body }) => ({ members: await chat.members.add(caller(auth), params.id, body.identities) }),
  });
  route(app, deps, {
    method: "PATCH",
    url: "/api/v1/conversations/:id/members/:identity",
    summary: "Change a member's role (owner only)",
    tags,
    auth: "user",
    params: MemberParams,
    body: UpdateMemberRequestSchema,
    response: Members,
    handler: async ({ auth, params, body }) => ({
      members: await chat.members.setRole(caller(auth), params.id, params.identity, body.role),
    }),
  });
  route(app, deps, {
    method: "DELETE",
    url: "/api/v1/conversations/:id/members/:identity",
    summary: "Remove a member (owner: anyone; admin: members) or leave (yourself)",
    tags,
    auth: "user",
    params: MemberParams,
    status: 204,
    handler: async ({ auth, params }) => chat.members.remove(caller(auth), params.id, params.identity),
  });
  route(app, deps, {
    method: "POST",
    url: "/api/v1/conversations/:id/messages",
    summary: "Send a message (idempotent by client_msg_id: a retry returns the stored message with 200)",
    tags,
    auth: "user",
    params: ConvParams,
    body: SendMessageRequestSchema,
    response: MessageSchema,
    status: 201,
    handler: async ({ auth, params, body, reply }) => {
      const { message, created } = await chat.messages.send(caller(auth), params.id, body);
      return reply.code(created ? 201 : 200).send(message);
    },
  });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/conversations/:id/messages",
    summary: "History by seq (before/after/limit), oldest first, within the plan's history_days",
    tags,
    auth: "user",
    params: ConvParams,
    query: HistoryQuerySchema,
    response: HistoryResponseSchema,
    handler: async ({ auth, params, query }) => chat.messages.history(caller(auth), params.id, query),
  });
  route(app, deps, {
    method: "PATCH",
    url: "/api/v1/conversations/:id/messages/:message_id",
    summary: "Edit your message",
    tags,
    auth: "user",
    params: MessageParams,
    body: EditMessageRequestSchema,
    response: MessageSchema,
    handler: async ({ auth, params, body }) => chat.messages.edit(caller(auth), params.id, params.message_id, body),
  });
  route(app, deps, {
    method: "DELETE",
    url: "/api/v1/conversations/:id/messages/:message_id",
    summary: "Delete a message (leaves a tombstone)",
    tags,
    auth: "user",
    params: MessageParams,
    response: MessageSchema,
    handler: async ({ auth, params }) => chat.messages.delete(caller(auth), params.id, params.message_id),
  });
  route(app, deps, {
    method: "POST",
    url: "/api/v1/conversations/:id/messages/:message_id/reactions",
    summary: "React to a message (idempotent)",
    tags,
    auth: "user",
    params: MessageParams,
    body: ReactionRequestSchema,
    response: MessageSchema,
    handler: async ({ auth, params, body }) => chat.messages.react(caller(auth), params.id, params.message_id, body.reaction, true),
  });
  route(app, deps, {
    method: "DELETE",
    url: "/api/v1/conversations/:id/messages/:message_id/reactions/:reaction",
    summary: "Remove your reaction (idempotent)",
    tags,
    auth: "user",
    params: ReactionParams,
    response: MessageSchema,
    handler: async ({ auth, params }) => chat.messages.react(caller(auth), params.id, params.message_id, params.reaction, false),
  });
  route(app, deps, {
    method: "POST",
    url: "/api/v1/conversations/:id/read",
    summary: "Mark read up to a seq; returns the new unread counts",
    tags,
    auth: "user",
    params: ConvParams,
    body: MarkReadRequestSchema,
    response: MarkReadResponseSchema,
    handler: async ({ auth, params, body }) => chat.receipts.markRead(caller(auth), params.id, body.seq),
  });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/threads",
    summary: "The threads the caller takes part in (started or replied), most recent reply first, with unread counts",
    tags,
    auth: "user",
    query: ThreadListQuerySchema,
    response: ThreadListSchema,
    handler: async ({ auth, query }) => chat.threads.list(caller(auth), query),
  });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/conversations/:id/threads/:message_id/messages",
    summary: "A thread's replies by seq (before/after/limit), oldest first",
    tags,
    auth: "user",
    params: MessageParams,
    query: HistoryQuerySchema,
    response: HistoryResponseSchema,
    handler: async ({ auth, params, query }) => chat.threads.replies(caller(auth), params.id, params.message_id, query),
  });
  route(app, deps, {
    method: "POST",
    url: "/api/v1/conversations/:id/threads/:message_id/read",
    summary: "Mark a thread read up to a seq; returns the thread's new unread count",
    tags,
    auth: "user",
    params: MessageParams,
    body: MarkReadRequestSchema,
    response: MarkThreadReadResponseSchema,
    handler: async ({ auth, params, body }) => chat.threads.markRead(caller(auth), params.id, params.message_id, body.seq),
  });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/search/messages",
    summary: "Full-text search over the messages the caller may read (one conversation or all of theirs), ranked, paged, highlighted",
    tags,
    auth: "user",
    query: SearchMessagesQuerySchema,
    response: SearchMessagesResponseSchema,
    handler: async ({ auth, query }) => chat.search.messages(caller(auth), query),
  });
  route(app, deps, {
    method: "POST",
    url: "/api/v1/reports",
    summary: "Report a message (of a conversation you are in) or a user to the app's moderators (again while open: the same report, 200)",
    tags,
    auth: "user",
    body: CreateReportRequestSchema,
    response: ReportSchema,
    status: 201,
    handler: async ({ auth, body, reply }) => {
      const { report, created } = await chat.moderation.report(caller(auth), body);
      return reply.code(created ? 201 : 200).send(report);
    },
  });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/unread",
    summary: "Unread counts per conversation and in total",
    tags,
    auth: "user",
    response: UnreadResponseSchema,
    handler: async ({ auth }) => chat.receipts.unread(caller(auth)),
  });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/chat/settings",
    summary: "The caller's chat privacy settings",
    tags,
    auth: "user",
    response: ChatSettingsSchema,
    handler: async ({ auth }) => chat.receipts.settings(caller(auth)),
  });
  route(app, deps, {
    method: "PATCH",
    url: "/api/v1/chat/settings",
    summary: "Turn sharing read receipts on or off",
    tags,
    auth: "user",
    body: UpdateChatSettingsRequestSchema,
    response: ChatSettingsSchema,
    handler: async ({ auth, body }) => chat.receipts.updateSettings(caller(auth), body),
  });
}

/** Who a moderation action is attributed to in `conversation.updated` (never a user: identities have no spaces). */
export const MODERATOR = "app admin";

/**
 * Admin moderation of an app's chat: closing an abandoned chatroom to free its slot, the report queue
 * (list, resolve), the word filter and link policy.
 */
export function registerChatAdminRoutes(app: FastifyInstance, deps: RouteDeps, chat: ChatService, apps: AppsService): void {
  const AppParams = z.strictObject({ app_id: z.string().min(1).max(64) });
  route(app, deps, {
    method: "GET",
    url: "/admin/v1/apps/:app_id/reports",
    summary: "Moderation: the app's report queue, newest first (state filter, paged by next_before)",
    tags: ["admin", "chat"],
    auth: "admin",
    params: AppParams,
    query: ReportListQuerySchema,
    response: ReportListSchema,
    handler: async ({ params, query }) => chat.moderation.list(await apps.get(params.app_id), query),
  });
  route(app, deps, {
    method: "POST",
    url: "/admin/v1/apps/:app_id/reports/:id/resolve",
    summary: "Moderation: resolve an open report — dismiss, delete the message, or ban the user",
    tags: ["admin", "chat"],
    auth: "admin",
    params: AppParams.extend({ id: Id }),
    body: ResolveReportRequestSchema,
    response: ReportSchema,
    handler: async ({ params, body }) => chat.moderation.resolve(await apps.get(params.app_id), params.id, body.action, body.note),
  });
  route(app, deps, {
    method: "GET",
    url: "/admin/v1/apps/:app_id/chat/filters",
    summary: "The app's word filter and link policy",
    tags: ["admin", "chat"],
    auth: "admin",
    params: AppParams,
    response: ChatFiltersSchema,
    handler: async ({ params }) => chat.moderation.filters((await apps.get(params.app_id)).id),
  });
  route(app, deps, {
    method: "PUT",
    url: "/admin/v1/apps/:app_id/chat/filters",
    summary: "Replace the app's word filter (terms, each mask or reject) and link policy (allow, strip, reject); applied before storage",
    tags: ["admin", "chat"],
    auth: "admin",
    params: AppParams,
    body: ChatFiltersSchema,
    response: ChatFiltersSchema,
    handler: async ({ params, body }) => chat.moderation.setFilters((await apps.get(params.app_id)).id, body),
  });
  for (const [verb, closed] of [
    ["close", true],
    ["reopen", false],
  ] as const) {
    route(app, deps, {
      method: "POST",
      url: `/admin/v1/apps/:app_id/conversations/:id/${verb}`,
      summary: closed
        ? "Moderation: close any conversation of the app (a closed chatroom no longer counts toward max_chatrooms)"
        : "Moderation: reopen a closed conversation (within max_chatrooms)",
      tags: ["admin", "chat"],
      auth: "admin",
      params: z.strictObject({ app_id: z.string().min(1).max(64), id: Id }),
      response: ConversationSchema,
      handler: async ({ params }) =>
        chat.conversations.setClosed({ app: await apps.get(params.app_id), identity: MODERATOR }, params.id, closed, { moderator: true }),
    });
  }
  route(app, deps, {
    method: "DELETE",
    url: "/admin/v1/apps/:app_id/conversations/:id/messages/:message_id",
    summary: "Moderation: delete any message of the app's conversations (a tombstone stays, as when its sender deletes it)",
    tags: ["admin", "chat"],
    auth: "admin",
    params: z.strictObject({ app_id: z.string().min(1).max(64), id: Id, message_id: Id }),
    response: MessageSchema,
    handler: async ({ params }) =>
      chat.messages.delete({ app: await apps.get(params.app_id), identity: MODERATOR }, params.id, params.message_id, { moderator: true }),
  });
}
