import type { Kysely } from "kysely";
import { Counter, type Registry } from "prom-client";
import type { Clock } from "../../core/clock.js";
import type { WebhookConfig } from "../../core/delivery-config.js";
import { httpRequest } from "../../core/http-client.js";
import { webhookEvent } from "../../core/outbox.js";
import { OutboxPump } from "../../core/outbox-pump.js";
import { guardedLookup, refusedUrl } from "../../core/ssrf.js";
import { signedHeaders } from "../../core/standard-webhooks.js";
import type { Store } from "../../store/port.js";
import type { Database } from "../../store/schema.js";
import type { WebhookEndpoints } from "./endpoints.js";
import type { WebhookWriter } from "./writer.js";

/** Retry delay after the n-th failed attempt: 5 s, 15 s, 45 s … capped at 1 h (until the retry window closes). */
export function webhookBackoffMs(attempt: number): number {
  return Math.min(3_600_000, 5000 * 3 ** Math.max(0, attempt - 1));
}

export interface WebhookDispatcherDeps {
  store: Store;
  clock: Clock;
  config: WebhookConfig;
  endpoints: WebhookEndpoints;
  writer: WebhookWriter;
  metrics?: Registry | undefined;
  log?: { warn(obj: unknown, msg: string): void };
  /** An endpoint was disabled for failing the whole retry window. */
  onDisabled?: (e: { appId: string; endpointId: string; url: string; reason: string }) => void;
}

type Due = {
  seq: number;
  event_id: string;
  endpoint_id: string;
  app_id: string;
  type: string;
  body: string;
  state: string;
  attempts: number;
  created_at: number;
  lease_until: number | null;
  url: string;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_expires_at: number | null;
  failing_since: number | null;
};

/**
 * Delivers the webhook outbox: at least once (a lease that runs out sends again, with the same `webhook-id`),
 * in order per endpoint and order key (an event waits while an earlier one is undelivered), retried with
 * backoff for the retry window, then dead-lettered; an endpoint that failed for the whole window is disabled.
 */
export class WebhookDispatcher {
  private readonly pump: OutboxPump;
  private readonly counter: Counter<"result"> | undefined;

  constructor(private readonly d: WebhookDispatcherDeps) {
    this.pump = new OutboxPump(() => this.runOnce(), {
      pollMs: d.config.pollMs,
      onError: (err) => d.log?.warn({ err }, "webhooks: outbox run failed"),
      // Delivering the head of a queue may have made the next event eligible: go again at once.
      again: (n) => n > 0,
    });
    this.counter = d.metrics
      ? new Counter({
          name: "utd_webhook_attempts_total",
          help: "Webhook delivery attempts by result",
          labelNames: ["result"],
          registers: [d.metrics],
        })
      : undefined;
  }

  async runOnce(limit = 100): Promise<number> {
    const db = this.d.store.db;
    const now = this.d.clock.now();
    const due = (await db
      .selectFrom("webhook_outbox as o")
      .innerJoin("webhook_endpoints as ep", "ep.id", "o.endpoint_id")
      .select([
        "o.seq",
        "o.event_id",
        "o.endpoint_id",
        "o.app_id",
        "o.type",
        "o.body",
        "o.state",
        "o.attempts",
        "o.created_at",
        "o.lease_until",
        "ep.url",
        "ep.secret_sealed",
        "ep.previous_secret_sealed",
        "ep.previous_expires_at",
        "ep.failing_since",
      ])
      .where("ep.enabled", "=", 1)
      .where((eb) =>
        eb.or([
          eb.and([eb("o.state", "=", "pending"), eb("o.next_at", "<=", now)]),
          eb.and([eb("o.state", "=", "sending"), eb("o.lease_until", "<=", now)]),
        ]),
      )
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom("webhook_outbox as p")
              .select("p.seq")
              .whereRef("p.endpoint_id", "=", "o.endpoint_id")
              .whereRef("p.order_key", "=", "o.order_key")
              .whereRef("p.seq", "<", "o.seq")
              .where("p.state", "in", ["pending", "sending"]),
          ),
        ),
      )
      .orderBy("o.seq")
      .limit(limit)
      .execute()) as Due[];
    const mine: Due[] = [];
    for (const r of due) {
      const lease = now + this.d.config.leaseMs;
      const c = await db
        .updateTable("webhook_outbox")
        .set({ state: "sending", lease_until: lease, attempts: r.attempts + 1 })
        .where("seq", "=", r.seq)
        .where("state", "=", r.state)
        .where("attempts", "=", r.attempts)
        .executeTakeFirst();
      if (Number(c.numUpdatedRows) === 1) mine.push({ ...r, attempts: r.attempts + 1, lease_until: lease });
    }
    let i = 0;
    const worker = async () => {
      while (i < mine.length) {
        const r = mine[i++] as Due;
        try {
          await this.deliver(r);
        } catch (err) {
          this.d.log?.warn({ err, event_id: r.event_id }, "webhooks: delivery step failed; the lease will retry it");
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, mine.length) }, worker));
    return mine.length;
  }

  private async deliver(r: Due): Promise<void> {
    const db = this.d.store.db;
    const started = Date.now();
    const now = this.d.clock.now();
    let status: number | null = null;
    let error: string | null = null;
    const refused = refusedUrl(r.url, this.d.config.allowNetworks);
    if (refused) error = `refused target: ${refused}`;
    else {
      try {
        const res = await httpRequest(r.url, {
          method: "POST",
          headers: signedHeaders(this.d.endpoints.secretsOf(r, now), r.event_id, Math.floor(now / 1000), r.body),
          body: r.body,
          timeoutMs: this.d.config.timeoutMs,
          lookup: guardedLookup(this.d.config.allowNetworks),
          maxBody: 1024,
        });
        status = res.status;
        if (status < 200 || status >= 300) error = `HTTP ${status}`;
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
    }
    const ok = error === null;
    this.counter?.inc({ result: ok ? "delivered" : "failed" });
    await db
      .insertInto("webhook_attempts")
      .values({
        endpoint_id: r.endpoint_id,
        event_id: r.event_id,
        type: r.type,
        attempt: r.attempts,
        status,
        error,
        duration_ms: Date.now() - started,
        at: now,
      })
      .execute();
    const settle = (patch: Record<string, unknown>, on: Kysely<Database> = db) =>
      on
        .updateTable("webhook_outbox")
        .set(patch)
        .where("seq", "=", r.seq)
        .where("state", "=", "sending")
        .where("lease_until", "=", r.lease_until)
        .execute();
    if (ok) {
      await settle({ state: "delivered", lease_until: null, delivered_at: now, last_status: status, last_error: null });
      if (r.failing_since !== null)
        await db.updateTable("webhook_endpoints").set({ failing_since: null }).where("id", "=", r.endpoint_id).execute();
      return;
    }
    if (r.failing_since === null)
      await db
        .updateTable("webhook_endpoints")
        .set({ failing_since: now })
        .where("id", "=", r.endpoint_id)
        .where("failing_since", "is", null)
        .execute();
    const windowMs = this.d.config.retryWindowS * 1000;
    if (now - r.created_at >= windowMs) {
      const failingSince = r.failing_since ?? now;
      const reason = `every delivery failed for ${this.d.config.retryWindowS} s (last: ${error})`;
      // Dead-lettering and disabling are one transaction: nobody sees the message dead while its endpoint is still
      // enabled, and a crash between the two cannot leave a failed endpoint enabled for good.
      const disabled = await db.transaction().execute(async (trx: Kysely<Database>) => {
        await settle({ state: "dead", lease_until: null, last_status: status, last_error: error?.slice(0, 500) ?? null }, trx);
        return now - failingSince >= windowMs ? this.disable(trx, r, reason) : false;
      });
      if (disabled) this.d.onDisabled?.({ appId: r.app_id, endpointId: r.endpoint_id, url: r.url, reason });
      return;
    }
    await settle({
      state: "pending",
      lease_until: null,
      next_at: now + webhookBackoffMs(r.attempts),
      last_status: status,
      last_error: error?.slice(0, 500) ?? null,
    });
  }

  /** Disables the endpoint (if still enabled) and writes `webhook.disabled` for the app's other endpoints, in `trx`. */
  private async disable(trx: Kysely<Database>, r: Due, reason: string): Promise<boolean> {
    const now = this.d.clock.now();
    const u = await trx
      .updateTable("webhook_endpoints")
      .set({ enabled: 0, disabled_at: now, disabled_reason: reason.slice(0, 500), updated_at: now })
      .where("id", "=", r.endpoint_id)
      .where("enabled", "=", 1)
      .executeTakeFirst();
    if (Number(u.numUpdatedRows) !== 1) return false;
    // The admin event goes to the app's other endpoints that asked for it (this one is disabled now).
    await this.d.writer.write(trx, webhookEvent(r.app_id, "webhook.disabled", { endpoint_id: r.endpoint_id, url: r.url, reason }, null));
    return true;
  }

  /** Runs the outbox now (after a commit) instead of at the next poll. */
  wake(): void {
    this.pump.wake();
  }

  start(): void {
    this.pump.start();
  }

  async stop(): Promise<void> {
    await this.pump.stop();
  }
}
