import { createHash, timingSafeEqual } from "node:crypto";
import {
  RoomBroadcastRequestSchema,
  RoomBroadcastResponseSchema,
  RoomMembersResponseSchema,
  RoomPolicyRequestSchema,
  RoomPolicySchema,
  SignalRoomMemberParamsSchema,
  SignalRoomParamsSchema,
} from "@utd-stream/protocol/schemas";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AppRecord } from "../../core/caller.js";
import { requireCapability } from "../../core/caller.js";
import { ApiError } from "../../core/errors.js";
import { bearer, type RouteDeps, route } from "../../http/route.js";
import type { AppsService } from "../apps/index.js";
import type { RoomPolicies } from "./policies.js";
import type { SignalRooms } from "./service.js";

/** The header naming the app when the operator's admin token authenticates a room call. */
export const APP_ID_HEADER = "x-utd-app-id";

const same = (a: string, b: string) => timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());

/**
 * Authenticates the app's backend: `Authorization: Basic base64(app_id:app_secret)`, or the operator's
 * `Authorization: Bearer <UTD_ADMIN_TOKEN>` with `X-UTD-App-Id: <app_id>`. Resolves to the app, or
 * undefined when the header is a bearer that is not the admin token (a user token, for the caller to try).
 */
async function backendApp(req: FastifyRequest, apps: AppsService, adminToken: string | undefined): Promise<AppRecord | undefined> {
  const h = req.headers.authorization ?? "";
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(h);
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], "base64").toString("utf8");
    const i = decoded.indexOf(":");
    const app = i > 0 ? await apps.find(decoded.slice(0, i)) : undefined;
    if (!app || !same(app.secret(), decoded.slice(i + 1))) throw ApiError.unauthorized("unknown app_id or wrong app secret");
    return app;
  }
  const token = bearer(req);
  if (!token) throw ApiError.unauthorized("send the app secret (Basic app_id:app_secret) or a bearer token");
  if (!adminToken || !same(adminToken, token)) return undefined;
  const appId = req.headers[APP_ID_HEADER];
  if (typeof appId !== "string" || appId === "") throw ApiError.invalid(`the admin token needs the ${APP_ID_HEADER} header`);
  const app = await apps.find(appId);
  if (!app) throw ApiError.notFound("app");
  return app;
}

/** Signalling-room REST: the app's backend broadcasts, lists, kicks and sets policies. */
export function registerSignalRoomRoutes(
  app: FastifyInstance,
  deps: RouteDeps,
  rooms: SignalRooms,
  policies: RoomPolicies,
  apps: AppsService,
): void {
  const backend = async (req: FastifyRequest): Promise<AppRecord> => {
    const a = await backendApp(req, apps, deps.adminToken);
    if (!a) throw ApiError.unauthorized("this call needs the app secret or the admin token");
    requireCapability(a, "signaling");
    return a;
  };
  const base = "/api/v1/rooms/:room_name";
  const tags = ["signalling rooms"];
  route(app, deps, {
    method: "POST",
    url: `${base}/broadcast`,
    summary: "App backend: broadcast to a signalling room's members (room.message with from: null)",
    tags,
    auth: "none",
    params: SignalRoomParamsSchema,
    body: RoomBroadcastRequestSchema,
    response: RoomBroadcastResponseSchema,
    handler: async ({ req, params, body }) => rooms.broadcast(await backend(req), params.room_name, body.data),
  });
  route(app, deps, {
    method: "GET",
    url: `${base}/members`,
    summary: "A signalling room's members (app backend, or a user who is a member)",
    tags,
    auth: "none",
    params: SignalRoomParamsSchema,
    response: RoomMembersResponseSchema,
    handler: async ({ req, params }) => {
      const room = params.room_name;
      const viaBackend = await backendApp(req, apps, deps.adminToken);
      if (viaBackend) return { room, members: await rooms.members(viaBackend, room) };
      const { ctx } = await deps.authenticate(bearer(req));
      const members = await rooms.members(ctx.app, room);
      if (!members.some((m) => m.identity === ctx.identity)) throw ApiError.forbidden(`only members of room "${room}" may list it`);
      return { room, members };
    },
  });
  route(app, deps, {
    method: "DELETE",
    url: `${base}/members/:identity`,
    summary: "App backend: remove a member from a signalling room (its sockets get room.closed, reason kicked)",
    tags,
    auth: "none",
    params: SignalRoomMemberParamsSchema,
    status: 204,
    handler: async ({ req, params }) => {
      await rooms.kick(await backend(req), params.room_name, params.identity);
    },
  });
  route(app, deps, {
    method: "GET",
    url: `${base}/policy`,
    summary: "App backend: a signalling room's effective policy (its own, or the app's defaults)",
    tags,
    auth: "none",
    params: SignalRoomParamsSchema,
    response: RoomPolicySchema,
    handler: async ({ req, params }) => policies.describe(await backend(req), params.room_name),
  });
  route(app, deps, {
    method: "PUT",
    url: `${base}/policy`,
    summary: "App backend: set who may join a signalling room and publish in it (applies to joins from now on)",
    tags,
    auth: "none",
    params: SignalRoomParamsSchema,
    body: RoomPolicyRequestSchema,
    response: RoomPolicySchema,
    handler: async ({ req, params, body }) => policies.set(await backend(req), params.room_name, body),
  });
  route(app, deps, {
    method: "DELETE",
    url: `${base}/policy`,
    summary: "App backend: drop a signalling room's own policy (the app's defaults apply again)",
    tags,
    auth: "none",
    params: SignalRoomParamsSchema,
    status: 204,
    handler: async ({ req, params }) => {
      const a = await backend(req);
      if (!(await policies.remove(a.id, params.room_name))) throw ApiError.notFound(`policy of room "${params.room_name}"`);
    },
  });
}
