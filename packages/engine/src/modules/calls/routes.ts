import {
  CallActionParamsSchema,
  CallActionRequestSchema,
  CallIdParamsSchema,
  CallListSchema,
  CallSchema,
  CreateCallRequestSchema,
  ListCallsQuerySchema,
} from "@utd-stream/protocol/schemas";
import type { FastifyInstance } from "fastify";
import { type RouteDeps, route } from "../../http/route.js";
import type { CallsService } from "./service.js";

/** `/api/v1/calls`: invitations, their lifecycle actions, and the call history. */
export function registerCallRoutes(app: FastifyInstance, deps: RouteDeps, calls: CallsService): void {
  route(app, deps, {
    method: "POST",
    url: "/api/v1/calls",
    summary: "Invite a user to a 1:1 call: every device of the callee gets call.incoming",
    tags: ["calls"],
    auth: "user",
    body: CreateCallRequestSchema,
    response: CallSchema,
    status: 201,
    handler: async ({ auth, body }) => calls.create(auth, body),
  });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/calls",
    summary: "The caller's call history (made and received), newest first",
    tags: ["calls"],
    auth: "user",
    query: ListCallsQuerySchema,
    response: CallListSchema,
    handler: async ({ auth, query }) => calls.list(auth, query.limit, query.before, query.status),
  });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/calls/:id",
    summary: "One call (participants only)",
    tags: ["calls"],
    auth: "user",
    params: CallIdParamsSchema,
    response: CallSchema,
    handler: async ({ auth, params }) => calls.get(auth, params.id),
  });
  route(app, deps, {
    method: "POST",
    url: "/api/v1/calls/:id/:action",
    summary: "ringing | accept | reject | busy | end. Illegal transitions answer 409 with the current status; a repeated end is fine",
    tags: ["calls"],
    auth: "user",
    params: CallActionParamsSchema,
    body: CallActionRequestSchema,
    response: CallSchema,
    handler: async ({ auth, params, body }) => calls.act(auth, params.id, params.action, body?.device_id ?? auth.deviceId),
  });
}
