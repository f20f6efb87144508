import {
  InviteToSpeakRequestSchema,
  RoomParamsSchema,
  SeatParamsSchema,
  SeatsStateSchema,
  SetupSeatsRequestSchema,
  SpeakRequestParamsSchema,
  SpeakRequestSchema,
} from "@utd-stream/protocol/schemas";
import type { FastifyInstance } from "fastify";
import { type RouteDeps, route } from "../../http/route.js";
import type { SeatsService } from "./service.js";

export function registerSeatsRoutes(app: FastifyInstance, deps: RouteDeps, seats: SeatsService): void {
  const base = "/api/v1/rooms/:room_name/seats";
  route(app, deps, {
    method: "GET",
    url: base,
    summary: "Audio room seat grid, mode and open speak requests",
    tags: ["seats"],
    auth: "user",
    params: RoomParamsSchema,
    response: SeatsStateSchema,
    handler: async ({ auth, params }) => seats.get(auth, params.room_name),
  });
  route(app, deps, {
    method: "POST",
    url: base,
    summary: "Host: set up seats (count, mode free|request, mode id)",
    tags: ["seats"],
    auth: "user",
    params: RoomParamsSchema,
    body: SetupSeatsRequestSchema,
    response: SeatsStateSchema,
    handler: async ({ auth, params, body }) => seats.setup(auth, params.room_name, body),
  });
  route(app, deps, {
    method: "POST",
    url: `${base}/:index/take`,
    summary: "Take a seat: grants microphone-only publish",
    tags: ["seats"],
    auth: "user",
    params: SeatParamsSchema,
    response: SeatsStateSchema,
    handler: async ({ auth, params }) => seats.take(auth, params.room_name, params.index),
  });
  route(app, deps, {
    method: "POST",
    url: `${base}/leave`,
    summary: "Leave your seat: publish is revoked",
    tags: ["seats"],
    auth: "user",
    params: RoomParamsSchema,
    response: SeatsStateSchema,
    handler: async ({ auth, params }) => seats.leave(auth, params.room_name),
  });
  route(app, deps, {
    method: "POST",
    url: `${base}/requests`,
    summary: "Listener: request to speak (request mode); hosts get `speak.requested`",
    tags: ["seats"],
    auth: "user",
    params: RoomParamsSchema,
    response: SpeakRequestSchema,
    handler: async ({ auth, params }) => seats.requestToSpeak(auth, params.room_name),
  });
  route(app, deps, {
    method: "POST",
    url: `${base}/requests/:request_id/approve`,
    summary: "Host: approve a speak request",
    tags: ["seats"],
    auth: "user",
    params: SpeakRequestParamsSchema,
    response: SpeakRequestSchema,
    handler: async ({ auth, params }) => seats.approve(auth, params.room_name, params.request_id),
  });
  route(app, deps, {
    method: "POST",
    url: `${base}/invite`,
    summary: "Host: invite a listener to speak (optionally to a seat); they get `speak.invited`",
    tags: ["seats"],
    auth: "user",
    params: RoomParamsSchema,
    body: InviteToSpeakRequestSchema,
    response: SpeakRequestSchema,
    handler: async ({ auth, params, body }) => seats.invite(auth, params.room_name, body.identity, body.seat_index),
  });
}
