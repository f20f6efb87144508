/**
 * Delivers server events (`{"type":"<domain.verb>","seq":N,"data":{…}}`) to users' WebSocket streams.
 * The gateway implements it (with per-user seq and resume buffers, across nodes through the bus);
 * services only name the recipients.
 */
export interface EventSink {
  /** Publishes one event to every connected device of each identity, and into their resume buffers. */
  toUsers(appId: string, identities: readonly string[], type: string, data: unknown): void;
}
