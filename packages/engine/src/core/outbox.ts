import type { Call, CallStatus, Message, WebhookEventData, WebhookEventType } from "@utd-stream/protocol";
import type { Kysely } from "kysely";
import type { Database } from "../store/schema.js";

/**
 * Things that happened, handed to the outbox writers *inside the transaction that made them happen*, so a
 * push or a webhook is stored exactly when its cause is (DESIGN: "an outbox written in the same transaction
 * as its cause"). Writers only insert rows; the dispatchers send after commit.
 */
export interface OutboxEventMap {
  /** A call was created (`from` null) or changed status. */
  "call.changed": { call: Call; from: CallStatus | null };
  /** A message was stored (`conversation_kind` for payload wording). */
  "message.new": { message: Message; conversation_kind: string; conversation_name: string | null };
  /** Anything else an app's webhooks hear about; `orderKey` keeps deliveries in order (conversation, call, room, user). */
  "webhook.event": { event: WebhookEventType; payload: unknown; orderKey: string | null };
}

export type OutboxEvent = { [K in keyof OutboxEventMap]: { type: K; appId: string; data: OutboxEventMap[K] } }[keyof OutboxEventMap];

/** One party that records outgoing work for events (the push module, the webhooks module). */
export interface OutboxWriter {
  write(trx: Kysely<Database>, event: OutboxEvent): Promise<void>;
}

/** The writers, in registration order; services call {@link Outbox.write} inside their transaction. */
export class Outbox implements OutboxWriter {
  private readonly writers: OutboxWriter[] = [];
  private readonly committed: (() => void)[] = [];

  add(w: OutboxWriter): void {
    this.writers.push(w);
  }

  /** Called after a transaction that wrote outbox rows commits (dispatchers wake up instead of waiting for their poll). */
  onCommit(fn: () => void): void {
    this.committed.push(fn);
  }

  async write(trx: Kysely<Database>, event: OutboxEvent): Promise<void> {
    for (const w of this.writers) await w.write(trx, event);
  }

  /** Services call this after their transaction commits. */
  wake(): void {
    for (const fn of this.committed) fn();
  }
}

/** A typed `webhook.event` outbox event. */
export function webhookEvent<K extends WebhookEventType>(
  appId: string,
  event: K,
  payload: WebhookEventData<K>,
  orderKey: string | null,
): OutboxEvent {
  return { type: "webhook.event", appId, data: { event, payload, orderKey } };
}
