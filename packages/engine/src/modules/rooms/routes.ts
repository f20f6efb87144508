import {
  AddHostRequestSchema,
  RoomInfoSchema,
  RoomParamsSchema,
  TokenRequestSchema,
  TokenResponseSchema,
} from "@utd-stream/protocol/schemas";
import type { FastifyInstance } from "fastify";
import { ApiError } from "../../core/errors.js";
import { bearer, type RouteDeps, route } from "../../http/route.js";
import { wsUrlFor } from "../../http/urls.js";
import type { MediaWebhookHub } from "../../media/hub.js";
import { type MediaPort, requireMedia } from "../../media/port.js";
import type { RoomsService } from "./service.js";

export function registerRoomsRoutes(app: FastifyInstance, deps: RouteDeps, rooms: RoomsService, publicUrl: string | undefined): void {
  route(app, deps, {
    method: "POST",
    url: "/api/v1/token",
    summary: "Mint a LiveKit room token (live stream or audio room) with server-decided permissions",
    tags: ["media"],
    auth: "none",
    body: TokenRequestSchema,
    response: TokenResponseSchema,
    handler: async ({ body, req }) => rooms.mintToken(body, bearer(req), wsUrlFor(req, publicUrl), req.ip),
  });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/rooms/:room_name",
    summary: "A live stream or audio room: type and hosts",
    tags: ["media"],
    auth: "user",
    params: RoomParamsSchema,
    response: RoomInfoSchema,
    handler: async ({ auth, params }) => rooms.get(auth, params.room_name),
  });
  route(app, deps, {
    method: "POST",
    url: "/api/v1/rooms/:room_name/hosts",
    summary: "Host: make another user a host of the room",
    tags: ["media"],
    auth: "user",
    params: RoomParamsSchema,
    body: AddHostRequestSchema,
    response: RoomInfoSchema,
    handler: async ({ auth, params, body }) => rooms.addHost(auth, params.room_name, body.identity),
  });
}

/**
 * `POST /api/v1/livekit/webhook`: LiveKit's webhooks. The signature covers a sha256 of the exact body,
 * so this scope keeps the body as raw text (`application/webhook+json`, and JSON for good measure).
 */
export async function registerWebhookRoute(app: FastifyInstance, media: MediaPort | undefined, hub: MediaWebhookHub): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(["application/webhook+json", "application/json"], { parseAs: "string" }, (_req, body, done) =>
      done(null, body),
    );
    scope.post(
      "/api/v1/livekit/webhook",
      { schema: { summary: "LiveKit webhook receiver (signed)", tags: ["media"] } },
      async (req, reply) => {
        const port = requireMedia(media);
        if (typeof req.body !== "string") throw ApiError.invalid("expected a webhook body");
        const auth = req.headers.authorization ?? (req.headers.authorize as string | undefined);
        const event = await port.receiveWebhook(req.body, auth);
        const errors = await hub.emit(event);
        for (const err of errors) req.log.error({ err, event: event.event, room: event.room }, "webhook listener failed");
        reply.code(200);
        return { ok: true };
      },
    );
  });
}
