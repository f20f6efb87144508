import type { Capability, ErrorCode } from "@utd-stream/protocol";
import type { World } from "./world.js";

/**
 * The authorization matrix's rows: one per REST route of the OpenAPI document and one per WebSocket
 * verb. matrix.test.ts runs every row against every caller below and fails on a route or verb that has
 * no row (and on a row whose route is gone).
 *
 * ## Adding a row (a new route or verb)
 *
 * 1. Key it `"<METHOD> <path as in /openapi.json>"` (REST) or by the verb (WebSocket).
 * 2. `req`/`frame`: a request that the *owner* (`own`, who owns or hosts everything in the world, see
 *    world.ts) could validly make — the body must pass validation, so that the other callers are refused
 *    for who they are, not for their input. Add what it needs to world.ts.
 * 3. `cap`: the capability that gates it (`feature_disabled` with it off), or null.
 * 4. `nonMember` (a user of the app with no relation to the resource), `noRole` (a member without the
 *    role, `mem` by default), `otherApp` (a user of another app): the error code each must get, or
 *    `"n/a"` when that caller may legitimately do it (say why in a comment), or `"no-effect"` when it
 *    may call it but nothing may change. Unauthenticated, malformed, expired, revoked and banned callers
 *    need no entry: they are refused the same way everywhere.
 * 5. Routes with credentials of their own (`auth: "none"` in the OpenAPI document) describe each caller
 *    in `custom`.
 */

/** Who calls. */
export const CALLERS = ["none", "malformed", "expired", "revoked", "otherApp", "nonMember", "noRole", "banned", "capabilityOff"] as const;
export type Caller = (typeof CALLERS)[number];

/** What a caller must get: a typed error, or nothing to check ("n/a"), or success that changes nothing. */
export type Expect = ErrorCode | "n/a" | "no-effect";

/** Which token of the world a caller uses. */
export type TokenName = keyof World["tok"];

export interface Req {
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RestRow {
  cap: Capability | null;
  req(w: World): Req;
  nonMember?: Expect;
  noRole?: Expect;
  otherApp?: Expect;
  /** Tokens to use instead of the defaults (`out`, `mem`, `own`). */
  nonMemberAs?: TokenName;
  noRoleAs?: TokenName;
  capAs?: TokenName;
  /** The route has its own credentials: how each caller presents itself and what it gets. */
  custom?: (w: World) => Partial<Record<Caller, Req & { expect: Expect }>>;
  /** Open to anyone (health checks): nothing to refuse. */
  public?: true;
  /** Treat as a user route although the document lists no bearer (the bearer is optional there). */
  userAuth?: true;
}

export interface WsRow {
  cap: Capability | null;
  frame(w: World): Record<string, unknown>;
  nonMember?: Expect;
  noRole?: Expect;
  otherApp?: Expect;
  nonMemberAs?: TokenName;
  noRoleAs?: TokenName;
  capAs?: TokenName;
}

const conv = (w: World, tail = "") => `/api/v1/conversations/${w.ids.group}${tail}`;
const room = (name: string, tail = "") => `/api/v1/rooms/${name}${tail}`;
const adminApp = (w: World, tail = "") => `/admin/v1/apps/${w.a.app_id}${tail}`;
const basic = (appId: string, secret: string) => `Basic ${Buffer.from(`${appId}:${secret}`).toString("base64")}`;

/** Admin routes: every caller here holds at most a user token, which is not the admin token. */
const admin = (path: (w: World) => string, body?: unknown): RestRow => ({
  cap: null,
  req: (w) => ({ path: path(w), ...(body !== undefined ? { body } : {}) }),
  otherApp: "unauthorized",
  nonMember: "unauthorized",
  noRole: "unauthorized",
});

/** Signalling-room REST: the app backend's credentials (Basic app_id:secret), never a user token. */
const backend = (tail: string, body?: unknown): RestRow => ({
  cap: "signaling",
  req: (w) => ({ path: room(w.rooms.sig, tail), ...(body !== undefined ? { body } : {}) }),
  custom: (w) => {
    const r = { path: room(w.rooms.sig, tail), ...(body !== undefined ? { body } : {}) };
    const user = (t: string) => ({ ...r, headers: { authorization: `Bearer ${t}` }, expect: "unauthorized" as const });
    return {
      none: { ...r, expect: "unauthorized" },
      malformed: { ...r, headers: { authorization: basic(w.a.app_id, "sk_wrong") }, expect: "unauthorized" },
      expired: user(w.tok.exp),
      revoked: user(w.tok.rev),
      nonMember: user(w.tok.out),
      noRole: user(w.tok.mem),
      banned: user(w.tok.ban),
      // Another app's secret does not open app A (it addresses app B's room of that name).
      otherApp: { ...r, headers: { authorization: basic(w.a.app_id, w.b.app_secret) }, expect: "unauthorized" },
      capabilityOff: { ...r, headers: { authorization: basic(w.a.app_id, w.a.app_secret) }, expect: "feature_disabled" },
    };
  },
});

export const REST_ROWS: Record<string, RestRow> = {
  "GET /healthz": { cap: null, public: true, req: () => ({ path: "/healthz" }) },
  "GET /readyz": { cap: null, public: true, req: () => ({ path: "/readyz" }) },

  // ----- auth -----
  "POST /api/v1/auth/session": {
    cap: null,
    req: (w) => ({ path: "/api/v1/auth/session", body: { app_id: w.a.app_id, app_key: w.a.app_key, identity: "own" } }),
    custom: (w) => {
      const path = "/api/v1/auth/session";
      return {
        none: { path, body: { app_id: w.a.app_id, identity: "own" }, expect: "invalid_argument" },
        malformed: { path, body: { app_id: w.a.app_id, app_key: "pk_wrong", identity: "own" }, expect: "unauthorized" },
        otherApp: { path, body: { app_id: w.a.app_id, app_key: w.b.app_key, identity: "own" }, expect: "unauthorized" },
        banned: { path, body: { app_id: w.a.app_id, app_key: w.a.app_key, identity: "ban" }, expect: "banned" },
      };
    },
  },
  // Refresh and revoke act on the caller's own session only.
  "POST /api/v1/auth/refresh": { cap: null, req: () => ({ path: "/api/v1/auth/refresh" }) },
  "POST /api/v1/auth/revoke": { cap: null, req: () => ({ path: "/api/v1/auth/revoke" }) },

  // ----- admin -----
  "POST /admin/v1/apps": admin(() => "/admin/v1/apps", { name: "x" }),
  "GET /admin/v1/apps": admin(() => "/admin/v1/apps"),
  "GET /admin/v1/apps/{app_id}": admin((w) => adminApp(w)),
  "PATCH /admin/v1/apps/{app_id}": admin((w) => adminApp(w), { plan: "free" }),
  "POST /admin/v1/apps/{app_id}/rotate-key": admin((w) => adminApp(w, "/rotate-key"), {}),
  "GET /admin/v1/apps/{app_id}/usage": admin((w) => adminApp(w, "/usage")),
  "DELETE /admin/v1/apps/{app_id}": admin((w) => adminApp(w)),
  "GET /admin/v1/apps/{app_id}/users": admin((w) => adminApp(w, "/users")),
  "GET /admin/v1/apps/{app_id}/users/{identity}": admin((w) => adminApp(w, "/users/own")),
  "DELETE /admin/v1/apps/{app_id}/users/{identity}": admin((w) => adminApp(w, "/users/own")),
  "GET /admin/v1/apps/{app_id}/users/{identity}/export": admin((w) => adminApp(w, "/users/own/export")),
  "POST /admin/v1/apps/{app_id}/bans": admin((w) => adminApp(w, "/bans"), { identity: "own" }),
  "DELETE /admin/v1/apps/{app_id}/bans/{identity}": admin((w) => adminApp(w, "/bans/ban")),
  "GET /admin/v1/apps/{app_id}/push": admin((w) => adminApp(w, "/push")),
  "PUT /admin/v1/apps/{app_id}/push/apns": admin((w) => adminApp(w, "/push/apns"), {}),
  "PUT /admin/v1/apps/{app_id}/push/fcm": admin((w) => adminApp(w, "/push/fcm"), {}),
  "PUT /admin/v1/apps/{app_id}/push/vapid": admin((w) => adminApp(w, "/push/vapid"), {}),
  "DELETE /admin/v1/apps/{app_id}/push/{provider}": admin((w) => adminApp(w, "/push/fcm")),
  // ----- webhooks and the before-send hook (admin only; the ids need not exist: the bearer is checked first) -----
  "POST /admin/v1/apps/{app_id}/webhooks": admin((w) => adminApp(w, "/webhooks"), {
    url: "https://example.com/h",
    events: ["message.new"],
  }),
  "GET /admin/v1/apps/{app_id}/webhooks": admin((w) => adminApp(w, "/webhooks")),
  "GET /admin/v1/apps/{app_id}/webhooks/{id}": admin((w) => adminApp(w, "/webhooks/whep_x")),
  "PATCH /admin/v1/apps/{app_id}/webhooks/{id}": admin((w) => adminApp(w, "/webhooks/whep_x"), { enabled: true }),
  "DELETE /admin/v1/apps/{app_id}/webhooks/{id}": admin((w) => adminApp(w, "/webhooks/whep_x")),
  "POST /admin/v1/apps/{app_id}/webhooks/{id}/rotate-secret": admin((w) => adminApp(w, "/webhooks/whep_x/rotate-secret"), {}),
  "GET /admin/v1/apps/{app_id}/webhooks/{id}/deliveries": admin((w) => adminApp(w, "/webhooks/whep_x/deliveries")),
  "POST /admin/v1/apps/{app_id}/webhooks/{id}/replay": admin((w) => adminApp(w, "/webhooks/whep_x/replay"), { dead: true }),
  "PUT /admin/v1/apps/{app_id}/hooks/before-send": admin((w) => adminApp(w, "/hooks/before-send"), { url: "https://example.com/h" }),
  "GET /admin/v1/apps/{app_id}/hooks/before-send": admin((w) => adminApp(w, "/hooks/before-send")),
  "DELETE /admin/v1/apps/{app_id}/hooks/before-send": admin((w) => adminApp(w, "/hooks/before-send")),
  "POST /admin/v1/apps/{app_id}/events": admin((w) => adminApp(w, "/events"), { identities: ["own"], type: "custom.x", data: {} }),
  "POST /admin/v1/apps/{app_id}/rooms/{room_name}/stage/invite": admin((w) => adminApp(w, "/rooms/live/stage/invite"), { identity: "mem" }),
  "POST /admin/v1/apps/{app_id}/rooms/{room_name}/stage/remove": admin((w) => adminApp(w, "/rooms/live/stage/remove"), { identity: "mem" }),
  "POST /admin/v1/apps/{app_id}/conversations/{id}/close": admin((w) => adminApp(w, `/conversations/${w.ids.group}/close`)),
  "POST /admin/v1/apps/{app_id}/conversations/{id}/reopen": admin((w) => adminApp(w, `/conversations/${w.ids.group}/reopen`)),
  // ----- the web console: operator accounts, usage, live figures, user devices and revocation, message moderation -----
  "POST /admin/v1/console/operators": admin(() => "/admin/v1/console/operators", { username: "opx", password: "correct horse battery" }),
  "GET /admin/v1/console/operators": admin(() => "/admin/v1/console/operators"),
  "DELETE /admin/v1/console/operators/{username}": admin(() => "/admin/v1/console/operators/opx"),
  "GET /admin/v1/apps/{app_id}/usage/daily": admin((w) => adminApp(w, "/usage/daily")),
  "GET /admin/v1/live": admin(() => "/admin/v1/live"),
  "POST /admin/v1/apps/{app_id}/users/{identity}/revoke": admin((w) => adminApp(w, "/users/own/revoke")),
  "GET /admin/v1/apps/{app_id}/users/{identity}/devices": admin((w) => adminApp(w, "/users/own/devices")),
  "DELETE /admin/v1/apps/{app_id}/conversations/{id}/messages/{message_id}": admin((w) =>
    adminApp(w, `/conversations/${w.ids.group}/messages/${w.ids.message}`),
  ),
  // Console sign-in has credentials of its own (a password or the admin token, then the session cookie).
  "POST /console/v1/session": {
    cap: null,
    req: () => ({ path: "/console/v1/session", body: { username: "nobody", password: "x" } }),
    custom: () => {
      const path = "/console/v1/session";
      return {
        none: { path, body: {}, expect: "invalid_argument" },
        malformed: { path, body: { username: "nobody", password: "wrong password" }, expect: "unauthorized" },
        otherApp: { path, body: { admin_token: "not-the-admin-token" }, expect: "unauthorized" },
      };
    },
  },
  "GET /console/v1/session": {
    cap: null,
    req: () => ({ path: "/console/v1/session" }),
    custom: () => ({
      none: { path: "/console/v1/session", expect: "unauthorized" },
      malformed: { path: "/console/v1/session", headers: { cookie: "utd_console=not-a-session" }, expect: "unauthorized" },
    }),
  },
  "DELETE /console/v1/session": {
    cap: null,
    req: () => ({ path: "/console/v1/session" }),
    custom: () => ({
      none: { path: "/console/v1/session", expect: "unauthorized" },
      malformed: { path: "/console/v1/session", headers: { cookie: "utd_console=not-a-session" }, expect: "unauthorized" },
    }),
  },
  "GET /admin/v1/apps/{app_id}/reports": admin((w) => adminApp(w, "/reports")),
  "POST /admin/v1/apps/{app_id}/reports/{id}/resolve": admin((w) => adminApp(w, "/reports/rep_none/resolve"), { action: "dismiss" }),
  "GET /admin/v1/apps/{app_id}/chat/filters": admin((w) => adminApp(w, "/chat/filters")),
  "PUT /admin/v1/apps/{app_id}/chat/filters": admin((w) => adminApp(w, "/chat/filters"), { words: [], link_policy: "allow" }),
  "GET /admin/v1/apps/{app_id}/operators": admin((w) => adminApp(w, "/operators")),
  "POST /admin/v1/apps/{app_id}/operators": admin((w) => adminApp(w, "/operators"), { identity: "out" }),
  "DELETE /admin/v1/apps/{app_id}/operators/{identity}": admin((w) => adminApp(w, "/operators/opr")),

  // ----- calls and presence (signalling) -----
  // Anyone may call anyone in their app; lists show only the caller's own calls.
  "POST /api/v1/calls": { cap: "signaling", req: () => ({ path: "/api/v1/calls", body: { callee_identity: "out", type: "audio_call" } }) },
  "GET /api/v1/calls": { cap: "signaling", req: () => ({ path: "/api/v1/calls" }) },
  "GET /api/v1/calls/{id}": {
    cap: "signaling",
    req: (w) => ({ path: `/api/v1/calls/${w.ids.call}` }),
    nonMember: "not_found",
    otherApp: "not_found",
  },
  "POST /api/v1/calls/{id}/{action}": {
    cap: "signaling",
    req: (w) => ({ path: `/api/v1/calls/${w.ids.call}/end` }),
    nonMember: "not_found",
    otherApp: "not_found",
  },
  "POST /api/v1/calls/{id}/token": {
    cap: "signaling",
    req: (w) => ({ path: `/api/v1/calls/${w.ids.call}/token` }),
    nonMember: "not_found",
    otherApp: "not_found",
  },
  // Presence of any identity of the caller's own app.
  "GET /api/v1/presence": { cap: "signaling", req: () => ({ path: "/api/v1/presence?identities=mem" }) },

  // ----- push -----
  "POST /api/v1/push/tokens": { cap: null, req: () => ({ path: "/api/v1/push/tokens", body: { platform: "fcm", token: "t2" } }) },
  "GET /api/v1/push/tokens": { cap: null, req: () => ({ path: "/api/v1/push/tokens" }) },
  "DELETE /api/v1/push/tokens/{id}": {
    cap: null,
    req: (w) => ({ path: `/api/v1/push/tokens/${w.ids.pushToken}` }),
    nonMember: "not_found",
    otherApp: "not_found",
  },
  // Someone else's provider token, named by value, is not theirs to remove.
  "POST /api/v1/push/tokens/unregister": {
    cap: null,
    req: () => ({ path: "/api/v1/push/tokens/unregister", body: { token: "fcm-token-own" } }),
    nonMember: "no-effect",
    otherApp: "no-effect",
  },
  "GET /api/v1/conversations/{id}/mute": {
    cap: "chat",
    req: (w) => ({ path: conv(w, "/mute") }),
    nonMember: "not_found",
    otherApp: "not_found",
  },
  "PUT /api/v1/conversations/{id}/mute": {
    cap: "chat",
    req: (w) => ({ path: conv(w, "/mute"), body: { muted: true } }),
    nonMember: "not_found",
    otherApp: "not_found",
  },

  // ----- media rooms, stage, seats (signalling) -----
  // The room token: a bearer (or app credentials) is required; anyone of the app may join as audience.
  "POST /api/v1/token": {
    cap: "signaling",
    userAuth: true,
    req: (w) => ({ path: "/api/v1/token", body: { room_name: w.rooms.live, type: "live_stream" } }),
  },
  "GET /api/v1/rooms/{room_name}": { cap: "signaling", req: (w) => ({ path: room(w.rooms.live) }), otherApp: "not_found" },
  "POST /api/v1/rooms/{room_name}/hosts": {
    cap: "signaling",
    req: (w) => ({ path: room(w.rooms.live, "/hosts"), body: { identity: "out" } }),
    nonMember: "forbidden",
    noRole: "forbidden",
    otherApp: "not_found",
  },
  "GET /api/v1/rooms/{room_name}/stage": { cap: "signaling", req: (w) => ({ path: room(w.rooms.live, "/stage") }), otherApp: "not_found" },
  "GET /api/v1/rooms/{room_name}/stage/requests": {
    cap: "signaling",
    req: (w) => ({ path: room(w.rooms.live, "/stage/requests") }),
    nonMember: "forbidden",
    noRole: "forbidden",
    otherApp: "not_found",
  },
  "POST /api/v1/rooms/{room_name}/stage/invite": {
    cap: "signaling",
    req: (w) => ({ path: room(w.rooms.live, "/stage/invite"), body: { identity: "mem" } }),
    nonMember: "forbidden",
    noRole: "forbidden",
    otherApp: "not_found",
  },
  "POST /api/v1/rooms/{room_name}/stage/remove": {
    cap: "signaling",
    req: (w) => ({ path: room(w.rooms.live, "/stage/remove"), body: { identity: "mem" } }),
    nonMember: "forbidden",
    noRole: "forbidden",
    otherApp: "not_found",
  },
  // Asking happens from inside the room: someone not connected to it is refused.
  "POST /api/v1/rooms/{room_name}/stage/request": {
    cap: "signaling",
    req: (w) => ({ path: room(w.rooms.live, "/stage/request") }),
    capAs: "mem",
    nonMember: "conflict",
    otherApp: "not_found",
  },
  "POST /api/v1/rooms/{room_name}/stage/leave": {
    cap: "signaling",
    req: (w) => ({ path: room(w.rooms.live, "/stage/leave") }),
    nonMember: "conflict",
    otherApp: "not_found",
  },
  "GET /api/v1/rooms/{room_name}/seats": { cap: "signaling", req: (w) => ({ path: room(w.rooms.audio, "/seats") }), otherApp: "not_found" },
  "POST /api/v1/rooms/{room_name}/seats": {
    cap: "signaling",
    req: (w) => ({ path: room(w.rooms.audio, "/seats"), body: { seat_count: 6 } }),
    nonMember: "forbidden",
    noRole: "forbidden",
    otherApp: "not_found",
  },
  "POST /api/v1/rooms/{room_name}/seats/{index}/take": {
    cap: "signaling",
    req: (w) => ({ path: room(w.rooms.audio, "/seats/0/take") }),
    nonMember: "conflict",
    noRole: "forbidden",
    otherApp: "not_found",
  },
  "POST /api/v1/rooms/{room_name}/seats/leave": {
    cap: "signaling",
    req: (w) => ({ path: room(w.rooms.audio, "/seats/leave") }),
    nonMember: "conflict",
    otherApp: "not_found",
  },
  "POST /api/v1/rooms/{room_name}/seats/requests": {
    cap: "signaling",
    req: (w) => ({ path: room(w.rooms.audio, "/seats/requests") }),
    capAs: "mem",
    nonMember: "conflict",
    otherApp: "not_found",
  },
  "POST /api/v1/rooms/{room_name}/seats/requests/{request_id}/approve": {
    cap: "signaling",
    req: (w) => ({ path: room(w.rooms.audio, `/seats/requests/${w.ids.speakRequest}/approve`) }),
    nonMember: "forbidden",
    noRole: "forbidden",
    otherApp: "not_found",
  },
  "POST /api/v1/rooms/{room_name}/seats/invite": {
    cap: "signaling",
    req: (w) => ({ path: room(w.rooms.audio, "/seats/invite"), body: { identity: "mem" } }),
    nonMember: "forbidden",
    noRole: "forbidden",
    otherApp: "not_found",
  },
  "POST /api/v1/livekit/webhook": {
    cap: null,
    req: () => ({ path: "/api/v1/livekit/webhook" }),
    custom: () => ({
      none: { path: "/api/v1/livekit/webhook", body: { event: "participant_joined", room: "x" }, expect: "unauthorized" },
      malformed: {
        path: "/api/v1/livekit/webhook",
        body: { event: "participant_joined", room: "x" },
        headers: { authorization: "forged" },
        expect: "unauthorized",
      },
    }),
  },

  // ----- signalling rooms (the app's backend) -----
  "POST /api/v1/rooms/{room_name}/broadcast": backend("/broadcast", { data: { x: 1 } }),
  // Members of a room may list it with their user token; everyone else needs the app's credentials.
  "GET /api/v1/rooms/{room_name}/members": {
    ...backend("/members"),
    custom: (w) => {
      const path = room(w.rooms.sig, "/members");
      const user = (t: string, expect: Expect) => ({ path, headers: { authorization: `Bearer ${t}` }, expect });
      return {
        none: { path, expect: "unauthorized" },
        malformed: { path, headers: { authorization: basic(w.a.app_id, "sk_wrong") }, expect: "unauthorized" },
        expired: user(w.tok.exp, "unauthorized"),
        revoked: user(w.tok.rev, "unauthorized"),
        nonMember: user(w.tok.out, "forbidden"),
        noRole: user(w.tok.mem, "forbidden"),
        banned: user(w.tok.ban, "banned"),
        otherApp: user(w.tok.bob, "not_found"),
        capabilityOff: { path, headers: { authorization: basic(w.a.app_id, w.a.app_secret) }, expect: "feature_disabled" },
      };
    },
  },
  "DELETE /api/v1/rooms/{room_name}/members/{identity}": backend("/members/mem"),
  "GET /api/v1/rooms/{room_name}/policy": backend("/policy"),
  "PUT /api/v1/rooms/{room_name}/policy": backend("/policy", { policy: "open" }),
  "DELETE /api/v1/rooms/{room_name}/policy": backend("/policy"),

  // ----- files (the signature in the URL is the credential) -----
  "PUT /api/v1/files/{app}/{file}": {
    cap: null,
    req: (w) => ({ path: w.ids.filePut }),
    custom: (w) => {
      const [path, query] = w.ids.filePut.split("?") as [string, string];
      const h = { "content-type": "text/plain" };
      return {
        none: { path, headers: h, expect: "invalid_argument" },
        malformed: { path: `${path}?${query.replace(/sig=[^&]+/, "sig=forged")}`, headers: h, expect: "forbidden" },
        otherApp: { path: `${path.replace(w.a.app_id, w.b.app_id)}?${query}`, headers: h, expect: "forbidden" },
      };
    },
  },
  "GET /api/v1/files/{app}/{file}": {
    cap: null,
    req: (w) => ({ path: w.ids.fileGet }),
    custom: (w) => {
      const [path, query] = w.ids.fileGet.split("?") as [string, string];
      return {
        none: { path, expect: "invalid_argument" },
        malformed: { path: `${path}?${query.replace(/sig=[^&]+/, "sig=forged")}`, expect: "forbidden" },
        otherApp: { path: `${path.replace(w.a.app_id, w.b.app_id)}?${query}`, expect: "forbidden" },
      };
    },
  },
  "POST /api/v1/uploads": {
    cap: "chat",
    req: () => ({ path: "/api/v1/uploads", body: { kind: "file", filename: "n.txt", content_type: "text/plain", size: 1 } }),
  },
  "GET /api/v1/uploads/{file_token}": {
    cap: "chat",
    req: (w) => ({ path: `/api/v1/uploads/${w.ids.file}` }),
    nonMember: "forbidden",
    otherApp: "not_found",
  },

  // ----- chat -----
  "POST /api/v1/conversations": { cap: "chat", req: () => ({ path: "/api/v1/conversations", body: { kind: "group", members: ["mem"] } }) },
  "GET /api/v1/conversations": { cap: "chat", req: () => ({ path: "/api/v1/conversations" }) },
  "GET /api/v1/chatrooms": { cap: "chat", req: () => ({ path: "/api/v1/chatrooms" }) },
  "GET /api/v1/conversations/{id}": { cap: "chat", req: (w) => ({ path: conv(w) }), nonMember: "not_found", otherApp: "not_found" },
  "PATCH /api/v1/conversations/{id}": {
    cap: "chat",
    req: (w) => ({ path: conv(w), body: { name: "renamed" } }),
    nonMember: "not_found",
    noRole: "forbidden",
    otherApp: "not_found",
  },
  "POST /api/v1/conversations/{id}/close": {
    cap: "chat",
    req: (w) => ({ path: conv(w, "/close") }),
    nonMember: "not_found",
    noRole: "forbidden",
    otherApp: "not_found",
  },
  "POST /api/v1/conversations/{id}/reopen": {
    cap: "chat",
    req: (w) => ({ path: conv(w, "/reopen") }),
    nonMember: "not_found",
    noRole: "forbidden",
    otherApp: "not_found",
  },
  // Chatrooms are open to everyone of the app; only chatrooms can be joined.
  "POST /api/v1/conversations/{id}/join": {
    cap: "chat",
    req: (w) => ({ path: `/api/v1/conversations/${w.ids.chatroom}/join` }),
    // Anyone of the app may join a chatroom; a group cannot be joined (it is "no such chatroom").
    nonMember: "n/a",
    otherApp: "not_found",
  },
  "POST /api/v1/conversations/{id}/leave": {
    cap: "chat",
    req: (w) => ({ path: conv(w, "/leave") }),
    capAs: "mem",
    nonMember: "not_found",
    otherApp: "not_found",
  },
  "GET /api/v1/conversations/{id}/members": {
    cap: "chat",
    req: (w) => ({ path: conv(w, "/members") }),
    nonMember: "not_found",
    otherApp: "not_found",
  },
  "POST /api/v1/conversations/{id}/members": {
    cap: "chat",
    req: (w) => ({ path: conv(w, "/members"), body: { identities: ["out"] } }),
    nonMember: "not_found",
    noRole: "forbidden",
    otherApp: "not_found",
  },
  "PATCH /api/v1/conversations/{id}/members/{identity}": {
    cap: "chat",
    req: (w) => ({ path: conv(w, "/members/mem"), body: { role: "admin" } }),
    nonMember: "not_found",
    noRole: "forbidden",
    otherApp: "not_found",
  },
  // A member may remove themselves (leave), not someone else: `trd` is a third member of the group.
  "DELETE /api/v1/conversations/{id}/members/{identity}": {
    cap: "chat",
    req: (w) => ({ path: conv(w, "/members/trd") }),
    nonMember: "not_found",
    noRole: "forbidden",
    otherApp: "not_found",
  },
  "POST /api/v1/conversations/{id}/messages": {
    cap: "chat",
    req: (w) => ({ path: conv(w, "/messages"), body: { client_msg_id: "m-matrix", text: "x" } }),
    nonMember: "not_found",
    otherApp: "not_found",
  },
  "GET /api/v1/conversations/{id}/messages": {
    cap: "chat",
    req: (w) => ({ path: conv(w, "/messages") }),
    nonMember: "not_found",
    otherApp: "not_found",
  },
  "PATCH /api/v1/conversations/{id}/messages/{message_id}": {
    cap: "chat",
    req: (w) => ({ path: conv(w, `/messages/${w.ids.message}`), body: { text: "edited" } }),
    nonMember: "not_found",
    noRole: "forbidden",
    otherApp: "not_found",
  },
  "DELETE /api/v1/conversations/{id}/messages/{message_id}": {
    cap: "chat",
    req: (w) => ({ path: conv(w, `/messages/${w.ids.message}`) }),
    nonMember: "not_found",
    noRole: "forbidden",
    otherApp: "not_found",
  },
  "POST /api/v1/conversations/{id}/messages/{message_id}/reactions": {
    cap: "chat",
    req: (w) => ({ path: conv(w, `/messages/${w.ids.message}/reactions`), body: { reaction: "like" } }),
    nonMember: "not_found",
    otherApp: "not_found",
  },
  "DELETE /api/v1/conversations/{id}/messages/{message_id}/reactions/{reaction}": {
    cap: "chat",
    req: (w) => ({ path: conv(w, `/messages/${w.ids.message}/reactions/like`) }),
    nonMember: "not_found",
    otherApp: "not_found",
  },
  "POST /api/v1/conversations/{id}/read": {
    cap: "chat",
    req: (w) => ({ path: conv(w, "/read"), body: { seq: 1 } }),
    nonMember: "not_found",
    otherApp: "not_found",
  },
  "GET /api/v1/conversations/{id}/threads/{message_id}/messages": {
    cap: "chat",
    req: (w) => ({ path: conv(w, `/threads/${w.ids.message}/messages`) }),
    nonMember: "not_found",
    otherApp: "not_found",
  },
  "POST /api/v1/conversations/{id}/threads/{message_id}/read": {
    cap: "chat",
    req: (w) => ({ path: conv(w, `/threads/${w.ids.message}/read`), body: { seq: 1 } }),
    nonMember: "not_found",
    otherApp: "not_found",
  },
  // Any user may report another user of their app (another app's user is not found there).
  "POST /api/v1/reports": {
    cap: "chat",
    req: () => ({ path: "/api/v1/reports", body: { kind: "user", identity: "vis", reason: "matrix" } }),
    otherApp: "not_found",
  },
  // ----- block and mute lists (each caller's own; no capability: they guard chat and calls alike) -----
  "GET /api/v1/blocks": { cap: null, req: () => ({ path: "/api/v1/blocks" }) },
  "PUT /api/v1/blocks/{identity}": { cap: null, req: () => ({ path: "/api/v1/blocks/vis" }) },
  "DELETE /api/v1/blocks/{identity}": { cap: null, req: () => ({ path: "/api/v1/blocks/vis" }) },
  "GET /api/v1/mutes/users": { cap: null, req: () => ({ path: "/api/v1/mutes/users" }) },
  "PUT /api/v1/mutes/users/{identity}": { cap: null, req: () => ({ path: "/api/v1/mutes/users/vis" }) },
  "DELETE /api/v1/mutes/users/{identity}": { cap: null, req: () => ({ path: "/api/v1/mutes/users/vis" }) },
  // Each caller's own threads.
  "GET /api/v1/threads": { cap: "chat", req: () => ({ path: "/api/v1/threads" }) },
  "GET /api/v1/unread": { cap: "chat", req: () => ({ path: "/api/v1/unread" }) },
  // Across the caller's own conversations; one named conversation is checked in test/chat-search.test.ts.
  "GET /api/v1/search/messages": { cap: "chat", req: () => ({ path: "/api/v1/search/messages?q=hello" }) },
  "GET /api/v1/chat/settings": { cap: "chat", req: () => ({ path: "/api/v1/chat/settings" }) },
  "PATCH /api/v1/chat/settings": { cap: "chat", req: () => ({ path: "/api/v1/chat/settings", body: { share_read_receipts: false } }) },

  // ----- friends (each caller's own list) -----
  "GET /api/v1/friends": { cap: "chat", req: () => ({ path: "/api/v1/friends" }) },
  "POST /api/v1/friends/requests": { cap: "chat", req: () => ({ path: "/api/v1/friends/requests", body: { identity: "vis" } }) },
  // Only the addressee of a request may accept or decline it.
  "POST /api/v1/friends/{identity}/accept": {
    cap: "chat",
    req: () => ({ path: "/api/v1/friends/out/accept" }),
    nonMemberAs: "mem",
    nonMember: "not_found",
  },
  "POST /api/v1/friends/{identity}/decline": {
    cap: "chat",
    req: () => ({ path: "/api/v1/friends/out/decline" }),
    nonMemberAs: "mem",
    nonMember: "not_found",
  },
  "DELETE /api/v1/friends/{identity}": { cap: "chat", req: () => ({ path: "/api/v1/friends/mem" }), nonMember: "not_found" },

  // ----- support -----
  "POST /api/v1/support/conversations": { cap: "chat", req: () => ({ path: "/api/v1/support/conversations", body: {} }), capAs: "out" },
  "GET /api/v1/support/conversations": { cap: "chat", req: () => ({ path: "/api/v1/support/conversations" }), capAs: "opr" },
  "GET /api/v1/support/queue": {
    cap: "chat",
    req: () => ({ path: "/api/v1/support/queue" }),
    capAs: "opr",
    nonMember: "forbidden",
    noRole: "forbidden",
    noRoleAs: "vis",
  },
  "GET /api/v1/support/me": { cap: "chat", req: () => ({ path: "/api/v1/support/me" }) },
  "GET /api/v1/support/conversations/{id}": {
    cap: "chat",
    req: (w) => ({ path: `/api/v1/support/conversations/${w.ids.support}` }),
    capAs: "vis",
    nonMember: "not_found",
    otherApp: "not_found",
  },
  "GET /api/v1/support/conversations/{id}/messages": {
    cap: "chat",
    req: (w) => ({ path: `/api/v1/support/conversations/${w.ids.support}/messages` }),
    capAs: "vis",
    nonMember: "not_found",
    otherApp: "not_found",
  },
  "POST /api/v1/support/conversations/{id}/messages": {
    cap: "chat",
    req: (w) => ({ path: `/api/v1/support/conversations/${w.ids.support}/messages`, body: { client_msg_id: "s-matrix", text: "x" } }),
    capAs: "vis",
    nonMember: "not_found",
    otherApp: "not_found",
  },
  "POST /api/v1/support/conversations/{id}/claim": {
    cap: "chat",
    req: (w) => ({ path: `/api/v1/support/conversations/${w.ids.support}/claim` }),
    capAs: "opr",
    nonMember: "forbidden",
    noRole: "forbidden",
    noRoleAs: "vis",
    otherApp: "forbidden",
  },
  "POST /api/v1/support/conversations/{id}/close": {
    cap: "chat",
    req: (w) => ({ path: `/api/v1/support/conversations/${w.ids.support}/close` }),
    capAs: "vis",
    nonMember: "not_found",
    otherApp: "not_found",
  },
  "POST /api/v1/support/conversations/{id}/transfer": {
    cap: "chat",
    req: (w) => ({ path: `/api/v1/support/conversations/${w.ids.support}/transfer`, body: { to: "opr" } }),
    capAs: "opr",
    nonMember: "forbidden",
    noRole: "forbidden",
    noRoleAs: "vis",
    otherApp: "forbidden",
  },
};

export const WS_ROWS: Record<string, WsRow> = {
  "message.send": {
    cap: "chat",
    frame: (w) => ({ conversation_id: w.ids.group, client_msg_id: "ws-matrix", text: "x" }),
    nonMember: "not_found",
    otherApp: "not_found",
  },
  "message.read": {
    cap: "chat",
    frame: (w) => ({ conversation_id: w.ids.group, seq: 1 }),
    nonMember: "not_found",
    otherApp: "not_found",
  },
  "presence.watch": { cap: "signaling", frame: () => ({ identities: ["mem"] }) },
  "presence.unwatch": { cap: null, frame: () => ({ identities: ["mem"] }) },
  "typing.start": { cap: "chat", frame: (w) => ({ conversation_id: w.ids.group }), nonMember: "not_found", otherApp: "not_found" },
  "typing.stop": { cap: "chat", frame: (w) => ({ conversation_id: w.ids.group }), nonMember: "not_found", otherApp: "not_found" },
  "room.join": { cap: "signaling", frame: (w) => ({ room: w.rooms.sig }) },
  "room.leave": { cap: "signaling", frame: (w) => ({ room: w.rooms.sig }), nonMember: "not_found", otherApp: "not_found" },
  "room.publish": {
    cap: "signaling",
    frame: (w) => ({ room: w.rooms.sig, data: { x: 1 } }),
    nonMember: "not_found",
    otherApp: "not_found",
  },
};
