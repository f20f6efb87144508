import type { AppSettingChanged } from "../core/app-setting-cache.js";

/**
 * Messages to every engine node (closes on a ban, app changes: rare). On one node the in-process bus
 * delivers them synchronously; with `REDIS_URL` set they also travel over Redis pub/sub to every other
 * node. User events do not ride the bus: they go through the user streams (`streams.ts`), which route
 * each to the nodes holding that user and keep it for resume.
 */
export type BusMessage =
  /** A user event for nodes' own use (the gateway publishes user events through the user streams instead). */
  | { kind: "event"; appId: string; identities: string[]; watchersOf?: string; type: string; data: string }
  /** Close sockets of one identity (or, with `issuedBefore`, only those authenticated by older tokens). */
  | { kind: "close"; appId: string; identity: string; code: number; reason: string; issuedBefore?: number }
  /** An app's settings or capabilities changed: re-read it. */
  | { kind: "app"; appId: string }
  /** An app setting nodes keep a copy of (chat filters, webhook endpoints, the before-send hook) changed. */
  | AppSettingChanged;

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
