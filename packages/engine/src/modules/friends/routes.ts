import { FriendListSchema, FriendParamsSchema, FriendRequestSchema, FriendSchema } from "@utd-stream/protocol/schemas";
import type { FastifyInstance } from "fastify";
import { type RouteDeps, route } from "../../http/route.js";
import type { FriendsService } from "./service.js";

const tags = ["friends"];

/** `/api/v1/friends…`: request, accept, decline, remove, list. */
export function registerFriendRoutes(app: FastifyInstance, deps: RouteDeps, friends: FriendsService): void {
  route(app, deps, {
    method: "GET",
    url: "/api/v1/friends",
    summary: "Friends and pending requests (state: friends | outgoing | incoming)",
    tags,
    auth: "user",
    response: FriendListSchema,
    handler: async ({ auth }) => ({ friends: await friends.list(auth.app, auth.identity) }),
  });
  route(app, deps, {
    method: "POST",
    url: "/api/v1/friends/requests",
    summary: "Ask a user to be friends (accepts when they already asked; max_friends)",
    tags,
    auth: "user",
    body: FriendRequestSchema,
    response: FriendSchema,
    handler: async ({ auth, body }) => friends.request(auth.app, auth.identity, body.identity),
  });
  route(app, deps, {
    method: "POST",
    url: "/api/v1/friends/:identity/accept",
    summary: "Accept a pending friend request",
    tags,
    auth: "user",
    params: FriendParamsSchema,
    response: FriendSchema,
    handler: async ({ auth, params }) => friends.accept(auth.app, auth.identity, params.identity),
  });
  route(app, deps, {
    method: "POST",
    url: "/api/v1/friends/:identity/decline",
    summary: "Decline a pending friend request",
    tags,
    auth: "user",
    params: FriendParamsSchema,
    status: 204,
    handler: async ({ auth, params }) => friends.decline(auth.app, auth.identity, params.identity),
  });
  route(app, deps, {
    method: "DELETE",
    url: "/api/v1/friends/:identity",
    summary: "Remove a friend or withdraw your request",
    tags,
    auth: "user",
    params: FriendParamsSchema,
    status: 204,
    handler: async ({ auth, params }) => friends.remove(auth.app, auth.identity, params.identity),
  });
}
