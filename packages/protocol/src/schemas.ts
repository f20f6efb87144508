/**
 * `@utd-stream/protocol/schemas` — the zod schemas of every REST request/response and WebSocket frame and
 * event (`…Schema`, `WS_EVENTS`), for runtime validation (the engine), plus everything the main entry has.
 * Clients import `@utd-stream/protocol`, which has the same types and constants without zod.
 */
export * from "./apps.js";
export * from "./auth.js";
export * from "./blocks.js";
export * from "./calls.js";
export * from "./chat.js";
export * from "./chat-search.js";
export * from "./chat-threads.js";
export * from "./common.js";
export * from "./console.js";
export * from "./events/index.js";
export * from "./friends.js";
export * from "./index.js";
export * from "./media.js";
export * from "./moderation.js";
export * from "./plans.js";
export * from "./presence.js";
export * from "./push.js";
export * from "./seats.js";
export * from "./signal-rooms.js";
export * from "./stage.js";
export * from "./support.js";
export * from "./typing.js";
export * from "./uploads.js";
export * from "./webhooks.js";
export * from "./ws-frames.js";
