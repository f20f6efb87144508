import type { Call, WebhookEventType } from "@utd-stream/protocol/schemas";
import type { Insertable, Kysely } from "kysely";
import { AppSettingCache, type SettingCacheOptions } from "../../core/app-setting-cache.js";
import { type Clock, iso } from "../../core/clock.js";
import { newId } from "../../core/ids.js";
import type { OutboxEvent, OutboxWriter } from "../../core/outbox.js";
import type { Database } from "../../store/schema.js";
import type { WebhookOutboxTable } from "./migrations.js";

type Mapped = { type: WebhookEventType; data: unknown; orderKey: string | null };
/** An app's enabled endpoints and the event types each asked for (parsed once per read, not per event). */
type Endpoints = { id: string; events: ReadonlySet<string> }[];

async function enabledEndpoints(db: Kysely<Database>, appId: string): Promise<Endpoints> {
  const rows = await db
    .selectFrom("webhook_endpoints")
    .select(["id", "events"])
    .where("app_id", "=", appId)
    .where("enabled", "=", 1)
    .execute();
  return rows.map((r) => ({ id: r.id, events: new Set(JSON.parse(r.events) as string[]) }));
}

/** Which webhook event a call change is, if any. */
function callEvent(call: Call, from: string | null): Mapped | undefined {
  const orderKey = `call:${call.id}`;
  if (call.status === "active" && from !== "active") return { type: "call.started", data: { call }, orderKey };
  if (call.status === "missed") return { type: "call.missed", data: { call }, orderKey };
  if (call.status === "ended" || call.status === "rejected" || call.status === "busy") {
    const answered = call.answered_at ? Date.parse(call.answered_at) : null;
    const ended = call.ended_at ? Date.parse(call.ended_at) : null;
    const duration_s = answered !== null && ended !== null ? Math.max(0, Math.round((ended - answered) / 1000)) : 0;
    return { type: "call.ended", data: { call, duration_s, end_reason: call.end_reason ?? call.status }, orderKey };
  }
  return undefined;
}

function map(e: OutboxEvent): Mapped | undefined {
  switch (e.type) {
    case "message.new":
      return { type: "message.new", data: { message: e.data.message }, orderKey: `conv:${e.data.message.conversation_id}` };
    case "call.changed":
      return callEvent(e.data.call, e.data.from);
    case "webhook.event":
      return { type: e.data.event, data: e.data.payload, orderKey: e.data.orderKey };
  }
}

/**
 * Writes the webhook outbox inside the event's transaction: one row per enabled endpoint of the app that asked
 * for the event type, all with the same event id (the `webhook-id`) and the exact body that will be signed.
 */
export class WebhookWriter implements OutboxWriter {
  /** The enabled endpoints per app for `prefetch`, kept 2 s per node (see `endpointsChanged`). */
  private readonly endpoints: AppSettingCache<Endpoints> | undefined;

  constructor(
    private readonly clock: Clock,
    shared?: { db: Kysely<Database>; cache?: SettingCacheOptions },
  ) {
    this.endpoints = shared
      ? new AppSettingCache({ setting: "webhook_endpoints", clock, ...shared.cache, load: (appId) => enabledEndpoints(shared.db, appId) })
      : undefined;
  }

  /** An endpoint of the app was added, removed, enabled, disabled or its events changed: every node reads them anew. */
  endpointsChanged(appId: string): void {
    this.endpoints?.changed(appId);
  }

  async write(trx: Kysely<Database>, e: OutboxEvent): Promise<boolean> {
    return this.writeMany(trx, [e]);
  }

  /**
   * The app's enabled endpoints (no lock needed: see `OutboxWriter.prefetch`), from this node's copy while it
   * is fresh. A copy that still lists an endpoint removed meanwhile fails the batch's insert (the outbox row's
   * foreign key) and its sends run alone, each writing with a fresh read (`writeMany` without `prefetched`).
   */
  prefetch(db: Kysely<Database>, appId: string): Promise<Endpoints> {
    return this.endpoints?.get(appId) ?? enabledEndpoints(db, appId);
  }

  /** Writes nothing for new messages when no endpoint of the app (`prefetched`) asked for `message.new`. */
  quietForMessages(prefetched: unknown): boolean {
    return prefetched !== undefined && (prefetched as Endpoints).every((ep) => !ep.events.has("message.new"));
  }

  /**
   * Several events of one transaction: one read of the endpoints per app (none when `prefetched` holds them,
   * for events of one app), one multi-row insert.
   */
  async writeMany(trx: Kysely<Database>, events: readonly OutboxEvent[], prefetched?: unknown): Promise<boolean> {
    const byApp = new Map<string, { e: OutboxEvent; m: Mapped }[]>();
    for (const e of events) {
      const m = map(e);
      if (!m) continue;
      const list = byApp.get(e.appId) ?? [];
      list.push({ e, m });
      byApp.set(e.appId, list);
    }
    const rows: Insertable<WebhookOutboxTable>[] = [];
    for (const [appId, list] of byApp) {
      const endpoints = prefetched !== undefined && byApp.size === 1 ? (prefetched as Endpoints) : await enabledEndpoints(trx, appId);
      if (endpoints.length === 0) continue;
      for (const { m } of list) {
        const targets = endpoints.filter((ep) => ep.events.has(m.type));
        if (targets.length === 0) continue;
        const now = this.clock.now();
        const eventId = newId("evt", now);
        const body = JSON.stringify({ type: m.type, timestamp: iso(now), data: m.data });
        for (const ep of targets)
          rows.push(
            pendingDelivery({ event_id: eventId, endpoint_id: ep.id, app_id: appId, type: m.type, body, order_key: m.orderKey }, now),
          );
      }
    }
    if (rows.length === 0) return false;
    await trx.insertInto("webhook_outbox").values(rows).execute();
    return true;
  }
}

/** What names one delivery of an event to one endpoint. */
type DeliveryKey = Pick<Insertable<WebhookOutboxTable>, "event_id" | "endpoint_id" | "app_id" | "type" | "body" | "order_key">;

/** An outbox row due for its first attempt at `now` (a new event, or a replayed one queued again). */
export function pendingDelivery(d: DeliveryKey, now: number): Insertable<WebhookOutboxTable> {
  return {
    ...d,
    state: "pending",
    attempts: 0,
    next_at: now,
    lease_until: null,
    created_at: now,
    delivered_at: null,
    last_status: null,
    last_error: null,
  };
}
