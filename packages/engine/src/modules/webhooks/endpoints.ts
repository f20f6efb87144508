import type {
  CreateWebhookRequest,
  UpdateWebhookRequest,
  WebhookAttempt,
  WebhookEndpoint,
  WebhookEndpointWithSecret,
  WebhookMessage,
} from "@utd-stream/protocol/schemas";
import type { Selectable } from "kysely";
import { type Clock, iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import { newId } from "../../core/ids.js";
import { seal, unseal } from "../../core/keys.js";
import { type NetworkClass, refusedUrl } from "../../core/ssrf.js";
import { newWebhookSecret } from "../../core/standard-webhooks.js";
import type { Store } from "../../store/port.js";
import type { WebhookEndpointsTable, WebhookOutboxTable } from "./migrations.js";
import { pendingDelivery } from "./writer.js";

type EndpointRow = Selectable<WebhookEndpointsTable>;

function toWire(r: EndpointRow): WebhookEndpoint {
  return {
    id: r.id,
    url: r.url,
    events: JSON.parse(r.events) as string[],
    description: r.description,
    enabled: r.enabled === 1,
    disabled_reason: r.disabled_reason,
    disabled_at: r.disabled_at === null ? null : iso(r.disabled_at),
    previous_secret_expires_at: r.previous_expires_at === null ? null : iso(r.previous_expires_at),
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
  };
}

export function messageToWire(r: Selectable<WebhookOutboxTable>): WebhookMessage {
  return {
    event_id: r.event_id,
    type: r.type,
    state: r.state as WebhookMessage["state"],
    attempts: r.attempts,
    last_status: r.last_status,
    last_error: r.last_error,
    created_at: iso(r.created_at),
    next_attempt_at: r.state === "pending" ? iso(r.next_at) : null,
    delivered_at: r.delivered_at === null ? null : iso(r.delivered_at),
  };
}

/** Most endpoints one app may have. */
export const MAX_ENDPOINTS_PER_APP = 20;

/** Webhook endpoints of an app: CRUD, secret rotation with overlap, the delivery log, dead letters and replay. */
export class WebhookEndpoints {
  constructor(
    private readonly store: Store,
    private readonly sealKey: Buffer,
    private readonly clock: Clock,
    private readonly allow: readonly NetworkClass[],
    /** After an endpoint of the app was created, updated or removed (committed). */
    private readonly onChange: (appId: string) => void = () => {},
  ) {}

  private checkUrl(url: string): void {
    const why = refusedUrl(url, this.allow);
    if (why) throw ApiError.invalid(`url refused: ${why}`, [{ path: "body.url", message: why }]);
  }

  private async row(appId: string, id: string): Promise<EndpointRow> {
    const r = await this.store.db
      .selectFrom("webhook_endpoints")
      .selectAll()
      .where("id", "=", id)
      .where("app_id", "=", appId)
      .executeTakeFirst();
    if (!r) throw ApiError.notFound("webhook endpoint");
    return r;
  }

  async create(appId: string, req: CreateWebhookRequest): Promise<WebhookEndpointWithSecret> {
    this.checkUrl(req.url);
    const n = await this.store.db
      .selectFrom("webhook_endpoints")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("app_id", "=", appId)
      .executeTakeFirstOrThrow();
    if (Number(n.n) >= MAX_ENDPOINTS_PER_APP) throw ApiError.limitExceeded("max_webhook_endpoints", MAX_ENDPOINTS_PER_APP);
    const now = this.clock.now();
    const secret = newWebhookSecret();
    const row: EndpointRow = {
      id: newId("whep", now),
      app_id: appId,
      url: req.url,
      events: JSON.stringify([...new Set(req.events)]),
      description: req.description ?? null,
      secret_sealed: seal(this.sealKey, secret),
      previous_secret_sealed: null,
      previous_expires_at: null,
      enabled: 1,
      disabled_at: null,
      disabled_reason: null,
      failing_since: null,
      created_at: now,
      updated_at: now,
    };
    await this.store.db.insertInto("webhook_endpoints").values(row).execute();
    this.onChange(appId);
    return { ...toWire(row), secret };
  }

  async list(appId: string): Promise<WebhookEndpoint[]> {
    const rows = await this.store.db.selectFrom("webhook_endpoints").selectAll().where("app_id", "=", appId).orderBy("id").execute();
    return rows.map(toWire);
  }

  async get(appId: string, id: string): Promise<WebhookEndpoint> {
    return toWire(await this.row(appId, id));
  }

  async update(appId: string, id: string, req: UpdateWebhookRequest): Promise<WebhookEndpoint> {
    await this.row(appId, id);
    if (req.url !== undefined) this.checkUrl(req.url);
    const patch: Partial<EndpointRow> = { updated_at: this.clock.now() };
    if (req.url !== undefined) patch.url = req.url;
    if (req.events !== undefined) patch.events = JSON.stringify([...new Set(req.events)]);
    if (req.description !== undefined) patch.description = req.description;
    if (req.enabled === true) Object.assign(patch, { enabled: 1, disabled_at: null, disabled_reason: null, failing_since: null });
    if (req.enabled === false) Object.assign(patch, { enabled: 0, disabled_at: this.clock.now(), disabled_reason: "disabled by an admin" });
    await this.store.db.updateTable("webhook_endpoints").set(patch).where("id", "=", id).where("app_id", "=", appId).execute();
    this.onChange(appId);
    return this.get(appId, id);
  }

  async remove(appId: string, id: string): Promise<void> {
    await this.row(appId, id);
    const db = this.store.db;
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom("webhook_outbox").where("endpoint_id", "=", id).execute();
      await trx.deleteFrom("webhook_attempts").where("endpoint_id", "=", id).execute();
      await trx.deleteFrom("webhook_endpoints").where("id", "=", id).execute();
    });
    this.onChange(appId);
  }

  /** A new secret; the current one keeps signing (as a second signature) for `overlapS`. */
  async rotate(appId: string, id: string, overlapS: number): Promise<WebhookEndpointWithSecret> {
    const r = await this.row(appId, id);
    const now = this.clock.now();
    const secret = newWebhookSecret();
    await this.store.db
      .updateTable("webhook_endpoints")
      .set({
        secret_sealed: seal(this.sealKey, secret),
        previous_secret_sealed: overlapS > 0 ? r.secret_sealed : null,
        previous_expires_at: overlapS > 0 ? now + overlapS * 1000 : null,
        updated_at: now,
      })
      .where("id", "=", id)
      .execute();
    return { ...(await this.get(appId, id)), secret };
  }

  /** The secrets that sign now: the current one, and the previous one during a rotation's overlap. */
  secretsOf(r: Pick<EndpointRow, "secret_sealed" | "previous_secret_sealed" | "previous_expires_at">, now: number): string[] {
    const out = [unseal(this.sealKey, r.secret_sealed)];
    if (r.previous_secret_sealed && r.previous_expires_at !== null && r.previous_expires_at > now)
      out.push(unseal(this.sealKey, r.previous_secret_sealed));
    return out;
  }

  /** The delivery log: queued events with their state, and the last HTTP attempts, newest first. */
  async deliveries(
    appId: string,
    id: string,
    state: WebhookMessage["state"] | undefined,
    limit: number,
  ): Promise<{ messages: WebhookMessage[]; attempts: WebhookAttempt[] }> {
    await this.row(appId, id);
    let q = this.store.db.selectFrom("webhook_outbox").selectAll().where("endpoint_id", "=", id);
    if (state) q = q.where("state", "=", state);
    const messages = await q.orderBy("seq", "desc").limit(limit).execute();
    const attempts = await this.store.db
      .selectFrom("webhook_attempts")
      .selectAll()
      .where("endpoint_id", "=", id)
      .orderBy("id", "desc")
      .limit(limit)
      .execute();
    return {
      messages: messages.map(messageToWire),
      attempts: attempts.map((a) => ({
        event_id: a.event_id,
        type: a.type,
        attempt: a.attempt,
        status: a.status,
        error: a.error,
        duration_ms: a.duration_ms,
        at: iso(a.at),
      })),
    };
  }

  /**
   * Sends an event again (same `webhook-id`, same body: receivers de-duplicate on it), or every dead-lettered
   * one. The replay is queued behind what is pending for the same order key.
   */
  async replay(appId: string, id: string, by: { event_id: string } | { dead: true }): Promise<number> {
    await this.row(appId, id);
    const db = this.store.db;
    let q = db.selectFrom("webhook_outbox").selectAll().where("endpoint_id", "=", id);
    q = "event_id" in by ? q.where("event_id", "=", by.event_id) : q.where("state", "=", "dead");
    const rows = await q.orderBy("seq").execute();
    if ("event_id" in by && rows.length === 0) throw ApiError.notFound("webhook event");
    const now = this.clock.now();
    const seen = new Set<string>();
    let n = 0;
    for (const r of rows) {
      if (seen.has(r.event_id)) continue;
      seen.add(r.event_id);
      await db
        .insertInto("webhook_outbox")
        .values(
          pendingDelivery(
            { event_id: r.event_id, endpoint_id: r.endpoint_id, app_id: r.app_id, type: r.type, body: r.body, order_key: r.order_key },
            now,
          ),
        )
        .execute();
      // A replayed dead letter is no longer dead: it is queued again.
      if (r.state === "dead") await db.updateTable("webhook_outbox").set({ state: "replayed" }).where("seq", "=", r.seq).execute();
      n++;
    }
    return n;
  }
}
