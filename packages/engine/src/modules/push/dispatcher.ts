import type { PushPlatform } from "@utd-stream/protocol";
import { Counter, type Registry } from "prom-client";
import type { Clock } from "../../core/clock.js";
import { OutboxPump } from "../../core/outbox-pump.js";
import type { PushResult, PushSenders } from "../../push/port.js";

export type { PushSenders } from "../../push/port.js";

import type { Store } from "../../store/port.js";
import type { PushCredentials } from "./credentials.js";
import type { PushOutboxTable } from "./migrations.js";
import { buildRequest } from "./payloads.js";

/** A push given up (permanent refusal, no credentials, or out of attempts); the webhooks module reports it as `push.failed`. */
export interface PushFailure {
  appId: string;
  pushId: string;
  identity: string;
  platform: PushPlatform;
  kind: string;
  refId: string;
  reason: string;
  attempts: number;
}

export interface PushDispatcherDeps {
  store: Store;
  clock: Clock;
  credentials: PushCredentials;
  senders: PushSenders;
  maxAttempts: number;
  leaseMs: number;
  pollMs: number;
  metrics?: Registry | undefined;
  log?: { warn(obj: unknown, msg: string): void };
  onFailed?: (f: PushFailure) => Promise<void> | void;
}

type Row = PushOutboxTable;

/** Retry delay after the n-th failed attempt: 1 s, 2 s, 4 s … capped at 5 min. */
export function pushBackoffMs(attempt: number): number {
  return Math.min(300_000, 1000 * 2 ** Math.max(0, attempt - 1));
}

/**
 * Sends the push outbox. Each due row is claimed with a conditional update (one node wins), leased while it
 * is sent, and settled with a conditional update on that lease. A node killed mid-send leaves a lease that
 * runs out, and the row is sent again with the same push id and collapse id.
 */
export class PushDispatcher {
  private readonly pump: OutboxPump;
  private readonly sent: Counter<"platform" | "result"> | undefined;

  constructor(private readonly d: PushDispatcherDeps) {
    this.pump = new OutboxPump(() => this.runOnce(), {
      pollMs: d.pollMs,
      onError: (err) => d.log?.warn({ err }, "push: outbox run failed"),
    });
    this.sent = d.metrics
      ? new Counter({
          name: "utd_push_sends_total",
          help: "Push provider requests by platform and result",
          labelNames: ["platform", "result"],
          registers: [d.metrics],
        })
      : undefined;
  }

  /** Sends every due push once (retries are rescheduled, not awaited); resolves to the number handled. */
  async runOnce(limit = 200): Promise<number> {
    const db = this.d.store.db;
    const now = this.d.clock.now();
    const due = await db
      .selectFrom("push_outbox")
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([eb("state", "=", "pending"), eb("next_at", "<=", now)]),
          eb.and([eb("state", "=", "sending"), eb("lease_until", "<=", now)]),
        ]),
      )
      .orderBy("next_at")
      .limit(limit)
      .execute();
    const mine: Row[] = [];
    for (const r of due) {
      const lease = now + this.d.leaseMs;
      const claimed = await db
        .updateTable("push_outbox")
        .set({ state: "sending", lease_until: lease, attempts: r.attempts + 1, updated_at: now })
        .where("id", "=", r.id)
        .where("state", "=", r.state)
        .where("attempts", "=", r.attempts)
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 1) mine.push({ ...r, state: "sending", lease_until: lease, attempts: r.attempts + 1 });
    }
    // Bounded concurrency: providers multiplex (HTTP/2), but a burst must not open thousands of requests.
    let i = 0;
    const worker = async () => {
      while (i < mine.length) {
        const r = mine[i++] as Row;
        try {
          await this.deliver(r);
        } catch (err) {
          this.d.log?.warn({ err, push_id: r.id }, "push: delivery step failed; the lease will retry it");
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, mine.length) }, worker));
    return mine.length;
  }

  private async settle(r: Row, patch: Partial<Row>): Promise<void> {
    await this.d.store.db
      .updateTable("push_outbox")
      .set({ ...patch, updated_at: this.d.clock.now() })
      .where("id", "=", r.id)
      .where("state", "=", "sending")
      .where("lease_until", "=", r.lease_until)
      .execute();
  }

  private async fail(r: Row, reason: string): Promise<void> {
    await this.settle(r, { state: "failed", lease_until: null, last_error: reason.slice(0, 500) });
    await this.d.onFailed?.({
      appId: r.app_id,
      pushId: r.id,
      identity: r.identity,
      platform: r.platform as PushPlatform,
      kind: r.kind,
      refId: r.ref_id,
      reason,
      attempts: r.attempts,
    });
  }

  private async deliver(r: Row): Promise<void> {
    const db = this.d.store.db;
    const now = this.d.clock.now();
    if (r.expires_at <= now) return this.settle(r, { state: "dropped", lease_until: null, last_error: "expired before it could be sent" });
    const tok = await db.selectFrom("push_tokens").select("token").where("id", "=", r.token_id).executeTakeFirst();
    if (!tok) return this.settle(r, { state: "dropped", lease_until: null, last_error: "the device token was removed" });
    const creds = await this.d.credentials.forApp(r.app_id);
    const platform = r.platform as PushPlatform;
    const req = buildRequest(r, tok.token);
    let result: PushResult;
    if (platform === "apns" || platform === "apns_voip") {
      result = creds.apns
        ? await this.d.senders.apns.send(r.app_id, creds.apns, req)
        : { kind: "failed", status: null, reason: "no APNs credentials set for this app" };
    } else if (platform === "fcm") {
      result = creds.fcm
        ? await this.d.senders.fcm.send(r.app_id, creds.fcm, req)
        : { kind: "failed", status: null, reason: "no FCM credentials set for this app" };
    } else {
      result = creds.vapid
        ? await this.d.senders.web.send(r.app_id, creds.vapid, req)
        : { kind: "failed", status: null, reason: "no VAPID keys set for this app" };
    }
    this.sent?.inc({ platform, result: result.kind });
    switch (result.kind) {
      case "sent":
        return this.settle(r, { state: "sent", lease_until: null, last_error: null });
      case "unregistered":
        // The provider says this token is dead: forget it, and everything still queued for it.
        await db.deleteFrom("push_tokens").where("id", "=", r.token_id).execute();
        await db
          .updateTable("push_outbox")
          .set({ state: "dropped", last_error: "token unregistered", updated_at: now })
          .where("token_id", "=", r.token_id)
          .where("state", "=", "pending")
          .execute();
        return this.settle(r, { state: "dropped", lease_until: null, last_error: `unregistered: ${result.reason}` });
      case "retry": {
        if (r.attempts >= this.d.maxAttempts) return this.fail(r, `gave up after ${r.attempts} attempts: ${result.reason}`);
        const wait = Math.max(result.retryAfterMs ?? 0, pushBackoffMs(r.attempts));
        return this.settle(r, { state: "pending", lease_until: null, next_at: now + wait, last_error: result.reason.slice(0, 500) });
      }
      case "failed":
        return this.fail(r, result.reason);
    }
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
