import type { Clock } from "./clock.js";
import { ReadCache } from "./read-cache.js";

/** App settings the send path reads for every message, kept by each node for a moment. */
export type AppSetting = "before_send_hook" | "chat_filters" | "webhook_endpoints";

/** How nodes keep app settings: the bus that carries changes, and how long a copy serves. */
export interface SettingCacheOptions {
  bus?: SettingBus | undefined;
  /** How long a copy serves (2 s). */
  ttlMs?: number | undefined;
}

/** The bus message that makes every node read an app's setting anew (`bus/port.ts` carries it). */
export interface AppSettingChanged {
  kind: "app-setting";
  appId: string;
  setting: AppSetting;
}

/** The part of the bus the cache uses (`bus/port.ts`'s `Bus` fits it). */
export interface SettingBus {
  publish(msg: AppSettingChanged): void;
  subscribe(handler: (msg: { kind: string }) => void): () => void;
}

/**
 * One app setting per app, read from the store at most once per `ttlMs` on this node instead of once per
 * message (a store round trip each on PostgreSQL). `changed` — called once a change is committed — drops
 * this node's copy at once and every other node's through the bus; the TTL bounds how long a node that
 * missed the bus message (a Redis reconnect) keeps the old one. A read already under way when a change
 * comes is answered to those who asked before it, not kept. A failed read is not kept either.
 */
export class AppSettingCache<T> {
  private readonly reads: ReadCache<Promise<T>>;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly o: SettingCacheOptions & {
      setting: AppSetting;
      /** Reads the app's setting from the store. */
      load: (appId: string) => Promise<T>;
      clock: Clock;
      /** Apps kept at most; the oldest read goes first (10,000). */
      max?: number;
    },
  ) {
    this.reads = new ReadCache(o.ttlMs ?? 2000, o.max ?? 10_000);
    this.unsubscribe =
      o.bus?.subscribe((m) => {
        if (m.kind !== "app-setting") return;
        const c = m as AppSettingChanged;
        if (c.setting === o.setting) this.reads.delete(c.appId);
      }) ?? (() => {});
  }

  /** The app's setting, from this node's copy while it is fresh. */
  get(appId: string): Promise<T> {
    const now = this.o.clock.now();
    const hit = this.reads.get(appId, now);
    if (hit) return hit;
    const value = this.o.load(appId);
    this.reads.set(appId, value, now);
    value.catch(() => {
      if (this.reads.get(appId, this.o.clock.now()) === value) this.reads.delete(appId);
    });
    return value;
  }

  /** After a committed change of the app's setting: this node and every other read it anew. */
  changed(appId: string): void {
    this.reads.delete(appId);
    this.o.bus?.publish({ kind: "app-setting", appId, setting: this.o.setting });
  }

  close(): void {
    this.unsubscribe();
  }
}
