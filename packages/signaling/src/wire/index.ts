/**
 * The one place where wire shapes (snake_case, from @utd-stream/protocol) become the SDKs' camelCase types,
 * one file per domain: timestamps become `Date`s, app data (`metadata`, `custom`) passes through untouched.
 * The media SDK and the widget use these too.
 */
export * from "./calls.js";
export * from "./chat.js";
export * from "./dates.js";
export * from "./media.js";
export * from "./presence.js";
export * from "./push.js";
export * from "./session.js";
export * from "./support.js";
