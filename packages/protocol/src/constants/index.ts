/** Every constant of the wire (enumerations, limits, event names, defaults), without zod. */
export * from "./calls.js";
export * from "./chat.js";
export * from "./friends.js";
export * from "./media.js";
export * from "./plans.js";
export * from "./presence.js";
export * from "./push.js";
export * from "./seats.js";
export * from "./signal-rooms.js";
export * from "./stage.js";
export * from "./support.js";
export * from "./typing.js";
export * from "./uploads.js";
export * from "./ws-frames.js";
