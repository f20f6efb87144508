import {
  AdminRoomParamsSchema,
  RoomParamsSchema,
  StageRequestListSchema,
  StageSchema,
  StageTargetRequestSchema,
} from "@utd-stream/protocol/schemas";
import type { FastifyInstance } from "fastify";
import { type RouteDeps, route } from "../../http/route.js";
import type { StageService } from "./service.js";

export function registerStageRoutes(app: FastifyInstance, deps: RouteDeps, stage: StageService): void {
  const base = "/api/v1/rooms/:room_name/stage";
  route(app, deps, {
    method: "GET",
    url: base,
    summary: "Live stream stage roster (host + co-hosts)",
    tags: ["stage"],
    auth: "user",
    params: RoomParamsSchema,
    response: StageSchema,
    handler: async ({ auth, params }) => stage.get(auth, params.room_name),
  });
  route(app, deps, {
    method: "GET",
    url: `${base}/requests`,
    summary: "Host: the raised hands, oldest first (kept until invited or the viewer leaves the room)",
    tags: ["stage"],
    auth: "user",
    params: RoomParamsSchema,
    response: StageRequestListSchema,
    handler: async ({ auth, params }) => ({ requests: await stage.requests(auth, params.room_name) }),
  });
  route(app, deps, {
    method: "POST",
    url: `${base}/invite`,
    summary: "Host: promote a viewer to co-publish (audio + video)",
    tags: ["stage"],
    auth: "user",
    params: RoomParamsSchema,
    body: StageTargetRequestSchema,
    response: StageSchema,
    handler: async ({ auth, params, body }) => stage.invite(auth, params.room_name, body.identity),
  });
  route(app, deps, {
    method: "POST",
    url: `${base}/remove`,
    summary: "Host: send a co-host back to the audience",
    tags: ["stage"],
    auth: "user",
    params: RoomParamsSchema,
    body: StageTargetRequestSchema,
    response: StageSchema,
    handler: async ({ auth, params, body }) => stage.remove(auth, params.room_name, body.identity),
  });
  route(app, deps, {
    method: "POST",
    url: `${base}/request`,
    summary: "Viewer: ask the host to be promoted (`stage.requested` to the host)",
    tags: ["stage"],
    auth: "user",
    params: RoomParamsSchema,
    status: 204,
    handler: async ({ auth, params }) => {
      await stage.request(auth, params.room_name);
    },
  });
  route(app, deps, {
    method: "POST",
    url: `${base}/leave`,
    summary: "Co-host: step down to the audience",
    tags: ["stage"],
    auth: "user",
    params: RoomParamsSchema,
    response: StageSchema,
    handler: async ({ auth, params }) => stage.leave(auth, params.room_name),
  });

  // Moderation by the app's operator (UTD_ADMIN_TOKEN), whoever hosts the room.
  for (const verb of ["invite", "remove"] as const) {
    route(app, deps, {
      method: "POST",
      url: `/admin/v1/apps/:app_id/rooms/:room_name/stage/${verb}`,
      summary: verb === "invite" ? "Admin: promote a viewer to the stage" : "Admin: send a co-host back to the audience",
      tags: ["admin", "stage"],
      auth: "admin",
      params: AdminRoomParamsSchema,
      body: StageTargetRequestSchema,
      response: StageSchema,
      handler: async ({ params, body }) =>
        verb === "invite"
          ? stage.adminInvite(params.app_id, params.room_name, body.identity)
          : stage.adminRemove(params.app_id, params.room_name, body.identity),
    });
  }
}
