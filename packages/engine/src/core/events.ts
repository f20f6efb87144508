import type { WsEventMap, WsEventType } from "@utd-stream/protocol";

/**
 * Delivers server events (`{"type":"<domain.verb>","seq":N,"data":{…}}`) to users' WebSocket streams.
 * The gateway implements it (with per-user seq and resume buffers, across nodes through the bus);
 * services only name the recipients. Typed by the protocol's `WsEventMap`: publishing data of the
 * wrong shape for a type does not compile.
 */
export interface EventSink {
  /**
   * Publishes one event to every connected device of each identity, and into their resume buffers. With
   * `once`, an id for this event: publishing it again with the same id appends nothing to a stream whose
   * recent events (the last 64) already hold it — so a retry may re-announce safely. Returns a promise
   * when the streams live elsewhere (Redis): it settles once the event is in every stream, so a caller
   * that acknowledges something on the strength of the event awaits it (a rejection: not published).
   */
  toUsers<K extends WsEventType>(
    appId: string,
    identities: readonly string[],
    type: K,
    data: WsEventMap[K],
    once?: string,
  ): void | Promise<void>;
}
