/**
 * @utd-stream/protocol — the one definition of UTD Stream's wire, imported by the engine and every SDK.
 * Field names on the wire are snake_case.
 *
 * This entry is what clients import: every wire **type**, the constants, error codes, `UTDStreamException`,
 * the stores and the event guards — and no zod at run time (the types are derived from the schemas, which
 * only the type checker reads). The zod schemas themselves, for runtime validation, are in
 * `@utd-stream/protocol/schemas`.
 *
 * @module @utd-stream/protocol
 */

// Types only: these modules define zod schemas, and `export type` keeps zod out of a client's bundle.
export type * from "./apps.js";
export type * from "./auth.js";
export type * from "./blocks.js";
export type * from "./calls.js";
export type * from "./chat.js";
export type * from "./chat-search.js";
export type * from "./chat-threads.js";
export type * from "./common.js";
export type * from "./console.js";
export * from "./constants/index.js";
export * from "./errors.js";
export type * from "./events/index.js";
export * from "./exception.js";
export type * from "./friends.js";
export type * from "./media.js";
export type * from "./moderation.js";
export type * from "./plans.js";
export type * from "./presence.js";
export type * from "./push.js";
export type * from "./seats.js";
export * from "./signal-room-frames.js";
export type * from "./signal-rooms.js";
export type * from "./stage.js";
export * from "./store.js";
export * from "./streams.js";
export type * from "./support.js";
export type * from "./typing.js";
export type * from "./uploads.js";
export type * from "./webhooks.js";
export * from "./ws.js";
export * from "./ws-events.js";
export type * from "./ws-frames.js";
