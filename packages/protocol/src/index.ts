/**
 * @utd-stream/protocol — the one definition of UTD Stream's wire, imported by the engine and every SDK.
 * Field names on the wire are snake_case.
 */
export * from "./apps.js";
export * from "./auth.js";
export * from "./calls.js";
export * from "./chat.js";
export * from "./common.js";
export * from "./errors.js";
export * from "./events/index.js";
export * from "./exception.js";
export * from "./friends.js";
export * from "./media.js";
export * from "./plans.js";
export * from "./presence.js";
export * from "./push.js";
export * from "./seats.js";
export * from "./signal-rooms.js";
export * from "./stage.js";
export * from "./store.js";
export * from "./streams.js";
export * from "./support.js";
export * from "./typing.js";
export * from "./uploads.js";
export * from "./ws.js";
export * from "./ws-events.js";
export * from "./ws-frames.js";
