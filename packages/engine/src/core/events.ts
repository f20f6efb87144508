import type { WsEventMap, WsEventType } from "@utd-stream/protocol";

/**
 * Delivers server events (`{"type":"<domain.verb>","seq":N,"data":{…}}`) to users' WebSocket streams.
 * The gateway implements it (with per-user seq and resume buffers, across nodes through the bus);
 * services only name the recipients. Typed by the protocol's `WsEventMap`: publishing data of the
 * wrong shape for a type does not compile.
 */
export interface EventSink {
  /** Publishes one event to every connected device of each identity, and into their resume buffers. */
  toUsers<K extends WsEventType>(appId: string, identities: readonly string[], type: K, data: WsEventMap[K]): void;
}
