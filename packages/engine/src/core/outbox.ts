import type { Call, CallStatus, Message, WebhookEventData, WebhookEventType } from "@utd-stream/protocol";
import type { Kysely, RawBuilder } from "kysely";
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
  /** Inserts its rows for `event`; answers false when it wrote none (its dispatcher need not wake). */
  write(trx: Kysely<Database>, event: OutboxEvent): Promise<boolean | undefined>;
  /**
   * Optional: the same for several events at once, in fewer statements (a batch of messages). `prefetched`
   * is what its `prefetch` answered for the events' app, when the caller asked beforehand.
   */
  writeMany?(
    trx: Kysely<Database>,
    events: readonly OutboxEvent[],
    prefetched?: unknown,
    interested?: boolean,
  ): Promise<boolean | undefined>;
  /**
   * Optional: reads that need no lock, made before the transaction (on another connection, beside its
   * BEGIN) and handed to `writeMany`: on PostgreSQL one round trip less while a row lock is held.
   */
  prefetch?(db: Kysely<Database>, appId: string): Promise<unknown>;
  /**
   * Optional: for new messages without mentions, a condition on one member of the message's conversation
   * (SQL over `cm`, a `conversation_members` row) under which this writer could write rows for that member.
   * A batch of messages selects it beside the members it reads under the conversation's lock — no statement
   * of its own — and hands the answer (did any member meet it?) to `writeMany` as `interested`.
   */
  memberInterest?(db: Kysely<Database>, appId: string): RawBuilder<unknown>;
  /**
   * Optional: for new messages without mentions of the app `prefetched` was read for, true when this writer
   * writes no rows for them unless a member meets its `memberInterest` (when it has one). A writer without it
   * counts as writing rows. Lets a batch skip the writers when the statement that stores it checks the conditions.
   */
  quietForMessages?(prefetched: unknown): boolean;
}

/** What the writers prefetched for one app (see {@link Outbox.prefetch}). */
export type OutboxPrefetched = ReadonlyMap<OutboxWriter, unknown>;

/** Per writer with a member condition for new messages, the SQL to select for each member (see {@link Outbox.memberConditions}). */
export type MemberInterest = ReadonlyMap<OutboxWriter, RawBuilder<unknown>>;

/** Which writers wrote rows in one {@link Outbox.write} (pass it to {@link Outbox.wake}). */
export type OutboxWritten = ReadonlySet<OutboxWriter>;

/** The writers, in registration order; services call {@link Outbox.write} inside their transaction. */
export class Outbox implements OutboxWriter {
  private readonly writers: { w: OutboxWriter; wake: (() => void) | undefined }[] = [];
  private readonly committed: (() => void)[] = [];

  /** Adds a writer, and what wakes its dispatcher once rows it wrote are committed. */
  add(w: OutboxWriter, wake?: () => void): void {
    this.writers.push({ w, wake });
  }

  /** Called after a transaction that wrote outbox rows commits (dispatchers wake up instead of waiting for their poll). */
  onCommit(fn: () => void): void {
    this.committed.push(fn);
  }

  async write(trx: Kysely<Database>, event: OutboxEvent): Promise<boolean> {
    return (await this.writeSome(trx, event)).size > 0;
  }

  /** {@link write}, answering which writers wrote rows, so {@link wake} wakes only their dispatchers. */
  async writeSome(trx: Kysely<Database>, event: OutboxEvent): Promise<OutboxWritten> {
    const wrote = new Set<OutboxWriter>();
    for (const { w } of this.writers) if ((await w.write(trx, event)) !== false) wrote.add(w);
    return wrote;
  }

  /** The writers' lock-free reads for events of `appId`, to pass to {@link writeManySome}. */
  async prefetch(db: Kysely<Database>, appId: string): Promise<OutboxPrefetched> {
    const out = new Map<OutboxWriter, unknown>();
    for (const { w } of this.writers) if (w.prefetch) out.set(w, await w.prefetch(db, appId));
    return out;
  }

  /**
   * The writers' member conditions for new messages without mentions (see `OutboxWriter.memberInterest`),
   * to select per member of the conversation: a column per writer that has one.
   */
  memberConditions(db: Kysely<Database>, appId: string): MemberInterest {
    const out = new Map<OutboxWriter, RawBuilder<unknown>>();
    for (const { w } of this.writers) if (w.memberInterest) out.set(w, w.memberInterest(db, appId));
    return out;
  }

  /**
   * Whether no writer writes rows for new messages without mentions of the app `prefetched` is for (see
   * {@link prefetch}), as long as no member of their conversation meets a condition of {@link memberConditions}.
   */
  quietForMessages(prefetched: OutboxPrefetched): boolean {
    return this.writers.every(({ w }) => w.quietForMessages?.(prefetched.get(w)) === true);
  }

  /**
   * {@link writeSome} for several events of one transaction (writers with `writeMany` use fewer statements).
   * `interested`: for each writer of {@link memberConditions}, whether any member met its condition (the events
   * are then new messages without mentions of one conversation, and the members were read under its lock).
   */
  async writeManySome(
    trx: Kysely<Database>,
    events: readonly OutboxEvent[],
    prefetched?: OutboxPrefetched,
    interested?: ReadonlyMap<OutboxWriter, boolean>,
  ): Promise<OutboxWritten> {
    const wrote = new Set<OutboxWriter>();
    if (events.length === 0) return wrote;
    for (const { w } of this.writers) {
      let r: boolean | undefined = false;
      if (w.writeMany) r = await w.writeMany(trx, events, prefetched?.get(w), interested?.get(w));
      else for (const e of events) if ((await w.write(trx, e)) !== false) r = true;
      if (r !== false) wrote.add(w);
    }
    return wrote;
  }

  /**
   * Services call this after their transaction commits. With `written` (from {@link writeSome}) only the
   * dispatchers of writers that wrote rows run now (a message to members who are all online writes no push
   * row: waking the push dispatcher would only cost it a query); the others find them at their next poll.
   */
  wake(written?: OutboxWritten): void {
    for (const { w, wake } of this.writers) if (wake && (!written || written.has(w))) wake();
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
