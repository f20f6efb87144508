/** Reactive values and event streams (defined once in the protocol package, shared with `@utd-stream/signaling`). */
export { EventStream, type ReadableStore, Store } from "@utd-stream/protocol";
