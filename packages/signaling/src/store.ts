/** The SDK's reactive value (defined once in the protocol package, shared with `@utd-stream/media`). */
export { type ReadableStore, Store } from "@utd-stream/protocol";
