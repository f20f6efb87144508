/**
 * Messages between engine nodes. On one node the in-process bus delivers them synchronously; with
 * `REDIS_URL` set they also travel over Redis pub/sub to every other node. Redis pub/sub is
 * at-most-once: durable state (calls, messages) lives in the database, and a client that misses an
 * event re-reads it (resume → `resync_required` → REST).
 */
export type BusMessage =
  /** A user event: deliver to these identities' local streams (and, with `watchersOf`, to local watchers of that identity). */
  | { kind: "event"; appId: string; identities: string[]; watchersOf?: string; type: string; data: string }
  /** Close sockets of one identity (or, with `issuedBefore`, only those authenticated by older tokens). */
  | { kind: "close"; appId: string; identity: string; code: number; reason: string; issuedBefore?: number }
  /** An app's settings or capabilities changed: re-read it. */
  | { kind: "app"; appId: string };

export type BusHandler = (msg: BusMessage) => void;

/** The bus port: publish reaches every subscriber on every node, in publish order per node, the local node included. */
export interface Bus {
  /** This node's id (unique per process). */
  readonly nodeId: string;
  publish(msg: BusMessage): void;
  subscribe(handler: BusHandler): () => void;
  /** Resolves once the bus can carry messages between nodes. */
  ready(): Promise<void>;
  close(): Promise<void>;
}
