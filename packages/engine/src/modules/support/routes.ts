import {
  AddOperatorRequestSchema,
  HistoryQuerySchema,
  HistoryResponseSchema,
  Id,
  Identity,
  MessageSchema,
  OperatorListSchema,
  OperatorSchema,
  SendMessageRequestSchema,
  StartSupportRequestSchema,
  SupportConversationListSchema,
  SupportConversationSchema,
  SupportListQuerySchema,
  SupportMeSchema,
  TransferSupportRequestSchema,
} from "@utd-stream/protocol/schemas";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { AuthContext, Caller } from "../../core/caller.js";
import { type RouteDeps, route } from "../../http/route.js";
import type { AppsService } from "../apps/index.js";
import type { SupportService } from "./service.js";

const ConvParams = z.strictObject({ id: Id });
const AppParams = z.strictObject({ app_id: z.string().min(1).max(64) });
const OperatorParams = AppParams.extend({ identity: Identity });
const tags = ["support"];

function caller(ctx: AuthContext): Caller {
  return { app: ctx.app, identity: ctx.identity };
}

/** Support REST routes (`/api/v1/support/…`) and the operator admin routes (`/admin/v1/apps/{id}/operators`). */
export function registerSupportRoutes(app: FastifyInstance, deps: RouteDeps, support: SupportService, apps: AppsService): void {
  route(app, deps, {
    method: "POST",
    url: "/api/v1/support/conversations",
    summary: "Start the caller's support conversation (201), or return the one still open (200)",
    tags,
    auth: "user",
    body: StartSupportRequestSchema,
    response: SupportConversationSchema,
    status: 201,
    handler: async ({ auth, body, reply }) => {
      const { conversation, created } = await support.start(caller(auth), body ?? {});
      return reply.code(created ? 201 : 200).send(conversation);
    },
  });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/support/conversations",
    summary: "The caller's own support conversations (as the visitor)",
    tags,
    auth: "user",
    query: SupportListQuerySchema,
    response: SupportConversationListSchema,
    handler: async ({ auth, query }) => ({ conversations: await support.listMine(caller(auth), query) }),
  });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/support/queue",
    summary: "The operator team's support conversations (operators only)",
    tags,
    auth: "user",
    query: SupportListQuerySchema,
    response: SupportConversationListSchema,
    handler: async ({ auth, query }) => ({ conversations: await support.queue(caller(auth), query) }),
  });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/support/me",
    summary: "Whether the caller is an operator of its app",
    tags,
    auth: "user",
    response: SupportMeSchema,
    handler: async ({ auth }) => support.me(caller(auth)),
  });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/support/conversations/:id",
    summary: "A support conversation: state and assignee (its visitor or an operator)",
    tags,
    auth: "user",
    params: ConvParams,
    response: SupportConversationSchema,
    handler: async ({ auth, params }) => support.get(caller(auth), params.id),
  });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/support/conversations/:id/messages",
    summary: "History of a support conversation (its visitor or an operator, also before claiming)",
    tags,
    auth: "user",
    params: ConvParams,
    query: HistoryQuerySchema,
    response: HistoryResponseSchema,
    handler: async ({ auth, params, query }) => support.history(caller(auth), params.id, query),
  });
  route(app, deps, {
    method: "POST",
    url: "/api/v1/support/conversations/:id/messages",
    summary: "Send (as chat's send; while queued, the operator team gets message.new too)",
    tags,
    auth: "user",
    params: ConvParams,
    body: SendMessageRequestSchema,
    response: MessageSchema,
    status: 201,
    handler: async ({ auth, params, body, reply }) => {
      const { message, created } = await support.send(caller(auth), params.id, body);
      return reply.code(created ? 201 : 200).send(message);
    },
  });
  for (const verb of ["claim", "close"] as const) {
    route(app, deps, {
      method: "POST",
      url: `/api/v1/support/conversations/:id/${verb}`,
      summary: verb === "claim" ? "Claim a queued conversation (operators)" : "Close (the visitor or the assignee)",
      tags,
      auth: "user",
      params: ConvParams,
      response: SupportConversationSchema,
      handler: async ({ auth, params }) => support[verb](caller(auth), params.id),
    });
  }
  route(app, deps, {
    method: "POST",
    url: "/api/v1/support/conversations/:id/transfer",
    summary: "Hand the conversation to another operator (the assignee)",
    tags,
    auth: "user",
    params: ConvParams,
    body: TransferSupportRequestSchema,
    response: SupportConversationSchema,
    handler: async ({ auth, params, body }) => support.transfer(caller(auth), params.id, body.to),
  });

  // ---------- admin: the operator role ----------
  const admin = ["admin"];
  route(app, deps, {
    method: "GET",
    url: "/admin/v1/apps/:app_id/operators",
    summary: "The app's support operators",
    tags: admin,
    auth: "admin",
    params: AppParams,
    response: OperatorListSchema,
    handler: async ({ params }) => {
      await apps.get(params.app_id);
      return { operators: await support.operatorRole.list(params.app_id) };
    },
  });
  route(app, deps, {
    method: "POST",
    url: "/admin/v1/apps/:app_id/operators",
    summary: "Give an identity the operator role (idempotent)",
    tags: admin,
    auth: "admin",
    params: AppParams,
    body: AddOperatorRequestSchema,
    response: OperatorSchema,
    handler: async ({ params, body }) => {
      await apps.get(params.app_id);
      return support.operatorRole.add(params.app_id, body.identity);
    },
  });
  route(app, deps, {
    method: "DELETE",
    url: "/admin/v1/apps/:app_id/operators/:identity",
    summary: "Take the operator role away (their conversations go back to the queue)",
    tags: admin,
    auth: "admin",
    params: OperatorParams,
    status: 204,
    handler: async ({ params }) => {
      await support.removeOperator(await apps.get(params.app_id), params.identity);
    },
  });
}
