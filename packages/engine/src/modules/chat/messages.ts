import {
  CHAT_EVENTS,
  CHAT_LIMITS,
  type ChatFilters,
  type EditMessageRequest,
  type HistoryQuery,
  type HistoryResponse,
  type Message,
  type ReactionEvent,
  type SendMessageRequest,
} from "@utd-stream/protocol";
import { type Compilable, type Kysely, sql } from "kysely";
import { type AppRecord, requireCapability } from "../../core/caller.js";
import { ApiError, isBackendUnavailable } from "../../core/errors.js";
import { newId } from "../../core/ids.js";
import { type OutboxPrefetched, type OutboxWritten, webhookEvent } from "../../core/outbox.js";
import type { Database } from "../../store/schema.js";
import { type Caller, type Db, ROLE_RANK } from "./access.js";
import { KeyedBatcher } from "./batch.js";
import type { ChatParts } from "./deps.js";
import { notify } from "./events.js";
import { filterWith } from "./filters.js";
import { mentionCandidates, resolveMentions } from "./mentions.js";
import type { OrderSlot } from "./order.js";
import { historyWindow } from "./paging.js";
import {
  type ConversationRow,
  lastMessages,
  type MessageRow,
  memberIdentities,
  messagesToWire,
  notFromBlocked,
  recipientsOf,
  toMessage,
} from "./queries.js";
import { ThreadsService } from "./threads.js";

/** Aborts a send transaction when the same client_msg_id already stored a message (rolls back the seq). */
class AlreadySent extends Error {
  constructor(readonly row: MessageRow) {
    super("already sent");
  }
}

/** The conversation was closed or the sender removed between the access check and the seq lock. */
class ConversationChanged extends Error {}

/** A batch of sends rolled back (nothing of it is stored); `cause` says why. */
class BatchFailed extends Error {
  constructor(cause: unknown) {
    super("send batch failed", { cause });
  }
}

/** Identifies a send by its sender and `client_msg_id`. */
const batchKey = (sender: string | null, clientMsgId: string | null) => `${sender}\n${clientMsgId}`;

/** A batch's sends sorted out before the seqs are allocated (see `sendBatch`). */
interface Sorted {
  /** Per send: refused by the app's filters. */
  refused: ({ kind: "refused"; error: unknown } | undefined)[];
  /** The stored messages of the batch's `client_msg_id`s (by `batchKey`). */
  stored: Map<string, MessageRow>;
  /** Per send: new (to store). */
  isNew: boolean[];
  count: number;
}

/** What a send of a batch that is not stored now gets: its filter refusal, or the message stored before. */
function notNew(sorted: Sorted, it: BatchItem, i: number): BatchOutcome {
  return sorted.refused[i] ?? { kind: "already", row: sorted.stored.get(batchKey(it.caller.identity, it.req.client_msg_id)) as MessageRow };
}

/** The row of a batch's plain message (no thread, mentions or files). */
function plainRow(conversationId: string, it: BatchItem, seq: number, now: number): MessageRow {
  return {
    id: newId("msg", now),
    conversation_id: conversationId,
    app_id: it.caller.app.id,
    seq,
    type: "text",
    sender: it.caller.identity,
    text: it.req.text ?? null,
    custom: it.req.custom ? JSON.stringify(it.req.custom) : null,
    attachments: "[]",
    reply_to: it.req.reply_to ?? null,
    thread_id: null,
    mentions: null,
    client_msg_id: it.req.client_msg_id,
    created_at: now,
    edited_at: null,
    deleted_at: null,
  };
}

/** How long a conversation whose one-statement batch stored nothing goes back to the transaction path. */
const AT_ONCE_PAUSE_MS = 2000;

/** A plain send waiting for its conversation's next batch. */
interface BatchItem {
  caller: Caller;
  req: SendMessageRequest;
  conv: ConversationRow;
}

/** What became of one send of a batch. */
type BatchOutcome =
  | { kind: "sent"; row: MessageRow; slot: OrderSlot; members: string[] }
  | { kind: "already"; row: MessageRow }
  | { kind: "changed" }
  | { kind: "refused"; error: unknown };

/**
 * Messages: send (idempotent by `client_msg_id`), history, edit, delete, reactions. Events go out
 * only after commit.
 */
export class MessagesService {
  private readonly db: Kysely<Database>;
  private readonly threads: ThreadsService;
  constructor(private readonly d: ChatParts) {
    this.db = d.store.db;
    this.threads = new ThreadsService(d);
  }

  /**
   * Stores a message and only then delivers it. The same `client_msg_id` from the same sender in the same
   * conversation returns the message stored the first time (`created: false`) and delivers nothing again.
   */
  async send(caller: Caller, id: string, req: SendMessageRequest, attempt = 0): Promise<{ message: Message; created: boolean }> {
    requireCapability(caller.app, "chat");
    // Checks that need no lock come first, so the conversation row is locked only for the writes.
    // Reused from this member's previous send for a moment: the batch and `allocateAndInsert` re-check
    // under the conversation's lock that it is open and the caller a member (a retry then reads anew).
    let { conv, reused } = await this.d.access.memberForSend(this.db, caller, id, attempt > 0);
    if (conv.closed_at !== null) return this.sendToClosed(caller, id, req);
    if (conv.kind === "direct" && conv.direct_key && this.d.blocks) {
      const peer = conv.direct_key.split(" ").find((i) => i !== caller.identity);
      if (peer) await this.d.blocks.requireNotBlocked(caller.app.id, caller.identity, peer);
    }
    if (attempt === 0 && this.d.beforeSend && (await this.d.beforeSend.has(caller.app.id))) {
      // A resend of a stored client_msg_id answers with that message and does not ask the hook again.
      const again = await this.findByClientId(id, caller, req.client_msg_id);
      if (again) return this.resent(caller, id, again);
      req = await this.d.beforeSend.check(
        { appId: caller.app.id, conversationId: id, conversationKind: conv.kind, sender: caller.identity },
        req,
      );
    }
    if (req.reply_to) {
      const parent = await this.db
        .selectFrom("messages")
        .select("id")
        .where("id", "=", req.reply_to)
        .where("conversation_id", "=", id)
        .where("created_at", ">=", this.d.access.cutoff(caller.app))
        .executeTakeFirst();
      if (!parent) throw ApiError.invalid("reply_to is not a message of this conversation");
    }
    // The app's word filter and link policy, before anything is stored (REST and WebSocket alike). A message
    // that will join a batch (below: no thread, files or `@`) is filtered by the batch, which reads the filters
    // once for all its messages, beside its BEGIN, instead of one read per message before it.
    const batchable = !req.thread_id && !req.attachments?.length && mentionCandidates(req.text).length === 0;
    if (!batchable) req = await this.filtered(caller, req);
    // Threads and mentions: the parent must be a live main-timeline message; `@identity` of members only.
    const parent = req.thread_id ? await this.threads.parentFor(caller, id, req.thread_id) : undefined;
    const mentions = await resolveMentions(this.db, id, req.text);
    const attachments = req.attachments?.length
      ? await this.d.attachments.resolve(
          caller.app,
          caller.identity,
          req.attachments.map((a) => a.file_token),
        )
      : [];
    // A plain message (no thread, mentions or files) joins its conversation's next batch: the messages that
    // arrive while one batch commits share one transaction, one seq allocation, one members read and one
    // COMMIT (and on PostgreSQL one hold of the conversation's row lock, instead of one per message).
    if (!parent && mentions.length === 0 && attachments.length === 0) {
      const out = await this.batches.submit(id, { caller, req, conv }).catch((err: unknown) => {
        if (err instanceof BatchFailed) return undefined; // nothing of it was stored: send alone below
        throw err;
      });
      if (out?.kind === "sent") {
        await this.d.order.ready(out.slot, () =>
          notify(
            this.d.events,
            caller.app.id,
            out.members,
            CHAT_EVENTS.messageNew,
            toMessage(out.row, undefined),
            `message.new:${out.row.id}`,
          ),
        );
        return { message: toMessage(out.row, undefined), created: true };
      }
      if (out?.kind === "already") return this.resent(caller, id, out.row);
      if (out?.kind === "refused") throw out.error;
      if (out?.kind === "changed") {
        if (attempt < 2) return this.send(caller, id, req, attempt + 1);
        throw new ConversationChanged();
      }
    }
    // A send that runs alone (thread reply, mentions, files, a failed batch) reads the conversation anew:
    // its payloads carry the conversation's name as of now (a batch takes it from its lock statement).
    if (reused) conv = (await this.d.access.memberForSend(this.db, caller, id, true)).conv;
    if (batchable) req = await this.filtered(caller, req); // its batch failed before filtering it
    let row: MessageRow;
    let slot: OrderSlot | undefined;
    let committing = false;
    try {
      const sent = await this.db.transaction().execute(async (trx) => {
        const now = this.d.clock.now();
        const fields: Omit<MessageRow, "seq"> = {
          id: newId("msg", now),
          conversation_id: id,
          app_id: caller.app.id,
          type: "text",
          sender: caller.identity,
          text: req.text ?? null,
          custom: req.custom ? JSON.stringify(req.custom) : null,
          attachments: JSON.stringify(attachments),
          reply_to: req.reply_to ?? null,
          thread_id: parent?.id ?? null,
          mentions: mentions.length > 0 ? JSON.stringify(mentions) : null,
          client_msg_id: req.client_msg_id,
          created_at: now,
          edited_at: null,
          deleted_at: null,
        };
        // Allocating the seq takes the row lock (PostgreSQL) and re-checks, under it, that the
        // conversation is still open and the caller still a member; the insert follows. The unique
        // (conversation, sender, client_msg_id) index is the idempotency check: under the conversation lock
        // a duplicate inserts nothing, and throwing rolls the seq back.
        const { seq, inserted } = await this.allocateAndInsert(trx, caller, fields, now);
        // Under the row lock: the conversation's slots are taken in seq order, so `message.new` goes out
        // in seq order however the commits resolve, on this node and across nodes (see SeqOrder).
        slot = this.d.order.claim(id, seq);
        const r: MessageRow = { ...fields, seq };
        if (!inserted) {
          const first = await this.findByClientId(id, caller, req.client_msg_id, trx);
          if (first) throw new AlreadySent(first);
          throw new Error("message insert skipped without a conflicting row");
        }
        if (attachments.length > 0) {
          await trx
            .insertInto("message_files")
            .values(
              [...new Set(attachments.map((a) => a.file_token))].map((file_id) => ({
                file_id,
                conversation_id: id,
                message_id: r.id,
                app_id: caller.app.id,
                created_at: now,
              })),
            )
            .execute();
        }
        if (parent) await ThreadsService.recordReply(trx, r, parent);
        if (mentions.length > 0) {
          await trx
            .insertInto("message_mentions")
            .values(
              mentions.map((identity) => ({
                message_id: r.id,
                conversation_id: id,
                app_id: caller.app.id,
                identity,
                seq,
                created_at: now,
              })),
            )
            .execute();
        }
        // Sending implies having read everything before it (a thread reply: the thread only, recorded above).
        if (!parent) {
          await trx
            .updateTable("conversation_members")
            .set({ last_read_seq: seq })
            .where("conversation_id", "=", id)
            .where("identity", "=", caller.identity)
            .where("last_read_seq", "<", seq)
            .execute();
        }
        const written = await this.d.outbox?.writeSome(trx, {
          type: "message.new",
          appId: caller.app.id,
          data: { message: toMessage(r, undefined), conversation_kind: conv.kind, conversation_name: conv.name },
        });
        // The members as of this seq (but those who blocked the sender), read under the conversation lock:
        // no await between commit and publish.
        const members = await recipientsOf(trx, caller.app.id, id, caller.identity);
        await slot.recorded; // the cluster's ledger holds the claim before the lock goes
        committing = true;
        return { r, written, members };
      });
      // Announced after every earlier send of the conversation on this node; acknowledged only once it
      // is in the members' streams (a failure: the client retries, see `resent`).
      const claimed = slot as OrderSlot;
      slot = undefined;
      await this.d.order.ready(claimed, () =>
        notify(
          this.d.events,
          caller.app.id,
          sent.members,
          CHAT_EVENTS.messageNew,
          toMessage(sent.r, undefined),
          `message.new:${sent.r.id}`,
        ),
      );
      row = sent.r;
      this.d.outbox?.wake(sent.written);
    } catch (err) {
      if (slot) this.settleFailed(id, [slot], committing && isBackendUnavailable(err));
      // Closed, or the caller removed, between the check and the lock: answer as a new request would.
      if (err instanceof ConversationChanged && attempt < 2) return this.send(caller, id, req, attempt + 1);
      if (err instanceof AlreadySent) return this.resent(caller, id, err.row);
      // A concurrent first send with the same id won the unique index: answer with its message.
      const winner = isUniqueViolation(err) ? await this.findByClientId(id, caller, req.client_msg_id) : undefined;
      if (winner) return this.resent(caller, id, winner);
      throw err;
    }
    if (parent) await this.threads.announce(caller.app.id, id, parent.id);
    return { message: toMessage(row, undefined), created: true };
  }

  /** `req` with its text through the app's word filter and link policy (`content_rejected` when refused). */
  private async filtered(caller: Caller, req: SendMessageRequest): Promise<SendMessageRequest> {
    if (req.text === undefined) return req;
    const hasOther = req.custom !== undefined || (req.attachments?.length ?? 0) > 0;
    return withText(req, filterWith(await this.d.filters.get(caller.app.id), req.text, hasOther));
  }

  /**
   * Plain sends, batched per conversation (see `send`). After a batch the conversation waits up to 5 ms (at
   * most that batch's own time) for as many sends as it held, so that clients answered by one batch join
   * the next instead of the one after (see `KeyedBatcher`'s `gather`).
   */
  private readonly batches = new KeyedBatcher<BatchItem, BatchOutcome>((id, items) => this.sendBatch(id, items), 100, {
    maxMs: 5,
    share: 1,
  });

  /**
   * Stores a batch of plain messages of one conversation in one transaction, in as few statements as the
   * store allows (on PostgreSQL each is a round trip while the conversation's row lock is held):
   * 1. a `client_msg_id` already stored (or twice in the batch) answers `already` (read before the lock,
   *    outside the transaction: a duplicate racing in meanwhile fails the insert on the unique index, and
   *    the batch with it);
   * 2. the lock and the seqs of the new messages in one update (only while the conversation is open:
   *    `changed` for all otherwise);
   * 3. the messages in one insert, each sender's read marker in one update, and the members (which of them
   *    blocked which sender, and whether any could get a push: `Outbox.memberConditions`) in one read under
   *    the lock — one statement on PostgreSQL: a sender no longer a member fails the batch;
   * 4. the outbox rows of all the messages (see `Outbox.writeManySome`; the push writer asks nothing more when
   *    no member could get a push).
   * On PostgreSQL that is BEGIN (the reads of 1. and of the outbox writers beside it), 2., 3., COMMIT — or,
   * on a single node when no outbox writer has rows to write, 2. and 3. as one autocommit statement
   * (`sendBatchAtOnce`: one round trip per batch, its duplicates found by the unique index instead of 1.).
   * Order slots are claimed under the lock in seq order. Any failure rolls the whole batch back and answers
   * `BatchFailed`: each of its sends then runs alone and gets its own answer. The conversation's next batch
   * starts once this one is committed: starting it earlier (joining the SQLite group, or queueing for the
   * PostgreSQL row lock) made batches of one or two and measured 0.4× and 0.13× the baseline instead of
   * 0.6× and 0.3× (bench/chat, 10 senders).
   */
  private async sendBatch(id: string, items: BatchItem[]): Promise<BatchOutcome[]> {
    const app = (items[0] as BatchItem).caller.app;
    const conv = (items[0] as BatchItem).conv;
    const slots: OrderSlot[] = [];
    let committing = false;
    let written: OutboxWritten | undefined;
    const senders = [...new Set(items.map((i) => i.caller.identity))];
    // Which sends are refused by the filters, already stored (`stored`), and new (in the batch's order).
    const sortOut = (filters: ChatFilters | undefined, prior: MessageRow[]): Sorted => {
      const refused = items.map((it) => {
        if (!filters || it.req.text === undefined) return undefined;
        try {
          it.req = withText(it.req, filterWith(filters, it.req.text, it.req.custom !== undefined));
          return undefined;
        } catch (err) {
          return { kind: "refused", error: err } as const;
        }
      });
      const stored = new Map<string, MessageRow>();
      for (const r of prior) stored.set(batchKey(r.sender, r.client_msg_id), r);
      const seen = new Set(stored.keys());
      // The first of a duplicate pair in the batch is the new one.
      const isNew = items.map((it, i) => {
        const k = batchKey(it.caller.identity, it.req.client_msg_id);
        if (refused[i] || seen.has(k)) return false;
        seen.add(k);
        return true;
      });
      return { refused, stored, isNew, count: isNew.filter(Boolean).length };
    };
    try {
      // The outbox writers' lock-free reads (the app's webhook endpoints) and the app's filters, for the texts
      // (see `send`; filtering a filtered text again changes nothing): kept per node, usually no round trip.
      const prefetched = this.d.outbox?.prefetch(this.db, app.id);
      prefetched?.catch(() => {});
      const filtersRead = items.some((i) => i.req.text !== undefined) ? this.d.filters.get(app.id) : undefined;
      filtersRead?.catch(() => {});
      // On PostgreSQL, on a single node, when no outbox writer has rows to write: one statement, no
      // transaction around it (see `sendBatchAtOnce`); undefined when it did not store the batch. It reads no
      // duplicates first: a `client_msg_id` already stored fails its insert on the unique index, which stores
      // nothing of the statement, and the batch runs as a transaction below, which tells them apart.
      if (this.atOnce(id)) {
        const done = await this.sendBatchAtOnce(id, items, sortOut(await filtersRead, []), await prefetched).catch((err: unknown) => {
          if (isUniqueViolation(err)) return undefined;
          throw err;
        });
        if (done) return done;
      }
      // The duplicate read needs no lock (see 1. above): it runs beside the BEGIN, on its own connection
      // (PostgreSQL: one round trip less in the batch; SQLite: the read connection, committed data).
      const priorRead = this.db
        .selectFrom("messages")
        .selectAll()
        .where("conversation_id", "=", id)
        .where("sender", "in", senders)
        .where(
          "client_msg_id",
          "in",
          items.map((i) => i.req.client_msg_id),
        )
        .execute();
      priorRead.catch(() => {}); // awaited below; a BEGIN that fails first must not leave it unhandled
      const out = await this.db.transaction().execute(async (trx) => {
        const sorted = sortOut(await filtersRead, await priorRead);
        const { stored, isNew, count } = sorted;
        if (count === 0) return items.map((it, i) => notNew(sorted, it, i));
        const now = this.d.clock.now();
        const locked = await trx
          .updateTable("conversations")
          .set((eb) => ({ last_seq: eb("last_seq", "+", count), last_active_at: now, updated_at: now }))
          .where("id", "=", id)
          .where("app_id", "=", app.id)
          .where("closed_at", "is", null)
          .returning(["last_seq", "name"])
          .executeTakeFirst();
        if (!locked) return items.map((): BatchOutcome => ({ kind: "changed" }));
        let seq = Number(locked.last_seq) - count;
        const fresh: MessageRow[] = [];
        const outcomes = items.map((it, i): BatchOutcome => {
          if (!isNew[i]) return notNew(sorted, it, i);
          const row = plainRow(id, it, ++seq, now);
          stored.set(batchKey(it.caller.identity, it.req.client_msg_id), row);
          fresh.push(row);
          // Under the row lock, in seq order (see SeqOrder).
          const slot = this.d.order.claim(id, row.seq);
          slots.push(slot);
          return { kind: "sent", row, slot, members: [] };
        });
        if (fresh.length === 0) return outcomes;
        // Sending implies having read everything before it.
        const lastOf = new Map<string, number>();
        for (const r of fresh) lastOf.set(r.sender as string, r.seq);
        // Who is a member now, which member blocked which sender, and which members an outbox writer wants
        // (the push question), read under the lock with the insert.
        const conditions = [...(this.d.outbox?.memberConditions(trx, app.id) ?? [])];
        const memberRows = await this.insertBatch(trx, id, fresh, lastOf, (q) => {
          let read = q
            .selectFrom("conversation_members as cm")
            .leftJoin("user_blocks as ub", (j) =>
              j.on("ub.app_id", "=", app.id).onRef("ub.identity", "=", "cm.identity").on("ub.target", "in", senders),
            )
            .select(["cm.identity", "ub.target"])
            .where("cm.conversation_id", "=", id);
          for (const [i, [, cond]] of conditions.entries()) read = read.select(cond.as(`w${i}`));
          return read;
        });
        const members = [...new Set(memberRows.map((r) => r.identity))];
        const isMember = new Set(members);
        if (senders.some((s) => !isMember.has(s))) throw new ConversationChanged();
        const interested = new Map(
          conditions.map(([w], i) => [w, memberRows.some((r) => Boolean((r as Record<string, unknown>)[`w${i}`]))] as const),
        );
        written = await this.d.outbox?.writeManySome(
          trx,
          fresh.map((r) => ({
            type: "message.new" as const,
            appId: app.id,
            // The name as of the lock (the `conv` of the access check may be a moment old).
            data: { message: toMessage(r, undefined), conversation_kind: conv.kind, conversation_name: locked.name },
          })),
          await prefetched,
          interested,
        );
        // Each message goes to the members but those who blocked its sender.
        const blockersOf = new Map<string, Set<string>>();
        for (const r of memberRows)
          if (r.target !== null) blockersOf.set(r.target, (blockersOf.get(r.target) ?? new Set()).add(r.identity));
        for (const o of outcomes)
          if (o.kind === "sent") {
            const blockers = blockersOf.get(o.row.sender as string);
            o.members = blockers ? members.filter((m) => !blockers.has(m)) : members;
          }
        for (const s of slots) await s.recorded; // the cluster's ledger holds the claims before the lock goes
        committing = true;
        return outcomes;
      });
      if (written && written.size > 0) this.d.outbox?.wake(written);
      return out;
    } catch (err) {
      this.settleFailed(id, slots, committing && isBackendUnavailable(err));
      if (!(err instanceof ConversationChanged) && !isUniqueViolation(err)) this.d.onBatchFailed?.(err);
      throw new BatchFailed(err);
    }
  }

  /** Conversations whose last one-statement batch stored nothing, and when (see `sendBatchAtOnce`). */
  private readonly atOncePaused = new Map<string, number>();

  /** Whether a batch of `id` tries `sendBatchAtOnce` first. */
  private atOnce(id: string): boolean {
    if (this.d.store.dialect !== "postgres" || this.d.order.clustered) return false;
    const since = this.atOncePaused.get(id);
    if (since === undefined) return true;
    const now = Date.now();
    if (now - since < AT_ONCE_PAUSE_MS && now >= since) return false;
    this.atOncePaused.delete(id);
    return true;
  }

  /**
   * A batch of plain sends in **one autocommit statement** (PostgreSQL, single node) — what `sendBatch`'s
   * transaction does, with no BEGIN and COMMIT around it and no round trip while the row lock is held. The
   * statement's data-modifying CTEs are atomic: an update of the conversation that takes its row lock and
   * allocates the seqs, the messages insert (seq = base + ordinal), the senders' read markers, and the members
   * (and which of them blocked which sender) as of the update. The update allocates only while
   * - the conversation is open and every sender a member;
   * - the row is the version the statement's snapshot holds (`xmin`): a transaction that changed it meanwhile
   *   (every membership change updates the row: `member_count`) fails the condition on PostgreSQL's recheck
   *   after the lock wait, so the members checked and read are those as of the lock, as in the transaction;
   * - no member meets an outbox writer's member condition (the push question), and no writer has rows to write
   *   anyway (`Outbox.quietForMessages`: the app's webhook endpoints, read beforehand as in the transaction): a
   *   stored message then has all its outbox rows (none), as an ack requires.
   * Otherwise it stores nothing and answers undefined: the batch runs as a transaction (which tells the
   * conditions apart), and the conversation's batches do so for `AT_ONCE_PAUSE_MS`. Without a row lock held
   * across JS the order slots cannot be claimed under it: a reservation taken before the statement keeps the
   * conversation's place on this node (`SeqOrder.reserve`) — hence a single node only (a cluster's ledger must
   * record each claim before the next allocation).
   */
  private async sendBatchAtOnce(
    id: string,
    items: BatchItem[],
    sorted: Sorted,
    prefetched: OutboxPrefetched | undefined,
  ): Promise<BatchOutcome[] | undefined> {
    const app = (items[0] as BatchItem).caller.app;
    if (prefetched !== undefined && this.d.outbox && !this.d.outbox.quietForMessages(prefetched)) return undefined;
    if (prefetched === undefined && this.d.outbox) return undefined;
    const { stored, isNew, count } = sorted;
    if (count === 0) return items.map((it, i) => notNew(sorted, it, i));
    const senders = [...new Set(items.map((it) => it.caller.identity))];
    const now = this.d.clock.now();
    const fresh: MessageRow[] = [];
    const outcomes = items.map((it, i): BatchOutcome => {
      if (!isNew[i]) return notNew(sorted, it, i);
      const row = plainRow(id, it, 0, now); // seq allocated by the statement: base + ordinal
      fresh.push(row);
      stored.set(batchKey(row.sender, row.client_msg_id), row); // a later duplicate in the batch answers with it
      return { kind: "sent", row, slot: undefined as unknown as OrderSlot, members: [] };
    });
    const ordinal = new Map<string, number>(); // sender → ordinal of their last message in the batch
    for (const [i, r] of fresh.entries()) ordinal.set(r.sender as string, i + 1);
    const conditions = [...(this.d.outbox?.memberConditions(this.db, app.id) ?? []).values()];
    const nobodyInterested =
      conditions.length > 0
        ? sql`and not exists (select 1 from conversation_members cm where cm.conversation_id = ${id} and (${sql.join(conditions, sql` or `)}))`
        : sql``;
    const values = sql.join(
      fresh.map(
        (r, i) =>
          sql`(${i + 1}::bigint, ${r.id}::text, ${r.sender}::text, ${r.text}::text, ${r.custom}::text, ${r.reply_to}::text, ${r.client_msg_id}::text)`,
      ),
    );
    const marks = sql.join([...ordinal].map(([sender, ord]) => sql`(${sender}::text, ${ord}::bigint)`));
    const reservation = this.d.order.reserve(id);
    let rows: { last_seq: string | number; name: string | null; identity: string; target: string | null }[];
    try {
      rows = (
        await sql<{ last_seq: string | number; name: string | null; identity: string; target: string | null }>`
        with s as (
          update conversations set last_seq = last_seq + ${count}::bigint, last_active_at = ${now}::bigint, updated_at = ${now}::bigint
          where id = ${id} and app_id = ${app.id} and closed_at is null
            and xmin = (select c0.xmin from conversations c0 where c0.id = ${id})
            and (select count(*) from conversation_members where conversation_id = ${id} and identity in (${sql.join(senders)})) = ${senders.length}
            ${nobodyInterested}
          returning last_seq, name
        ), v (ord, id, sender, text, custom, reply_to, client_msg_id) as (values ${values}),
        ins as (
          insert into messages (id, conversation_id, app_id, seq, type, sender, text, custom, attachments, reply_to, thread_id,
                                mentions, client_msg_id, created_at, edited_at, deleted_at)
          select v.id, ${id}::text, ${app.id}::text, s.last_seq - ${count}::bigint + v.ord, 'text', v.sender, v.text, v.custom, '[]',
                 v.reply_to, null, null, v.client_msg_id, ${now}::bigint, null, null
          from s cross join v
        ), mark (identity, ord) as (values ${marks}),
        "read" as (
          update conversation_members cm set last_read_seq = s.last_seq - ${count}::bigint + mark.ord
          from s, mark
          where cm.conversation_id = ${id} and cm.identity = mark.identity and cm.last_read_seq < s.last_seq - ${count}::bigint + mark.ord
        )
        select s.last_seq, s.name, cm.identity, ub.target
        from s cross join conversation_members cm
        left join user_blocks ub on ub.app_id = ${app.id} and ub.identity = cm.identity and ub.target in (${sql.join(senders)})
        where cm.conversation_id = ${id}`.execute(this.db)
      ).rows;
    } catch (err) {
      this.d.order.drop(reservation);
      throw err;
    }
    const first = rows[0];
    if (!first) {
      this.d.order.drop(reservation);
      this.atOncePaused.set(id, Date.now());
      return undefined;
    }
    let seq = Number(first.last_seq) - count;
    for (const r of fresh) r.seq = ++seq;
    const slots = this.d.order.place(
      reservation,
      fresh.map((r) => r.seq),
    ); // nothing after the statement throws: the batch is stored, its answers follow
    const members = [...new Set(rows.map((r) => r.identity))];
    // Each message goes to the members but those who blocked its sender.
    const blockersOf = new Map<string, Set<string>>();
    for (const r of rows) if (r.target !== null) blockersOf.set(r.target, (blockersOf.get(r.target) ?? new Set()).add(r.identity));
    let k = 0;
    for (const o of outcomes)
      if (o.kind === "sent") {
        o.slot = slots[k++] as OrderSlot;
        const blockers = blockersOf.get(o.row.sender as string);
        o.members = blockers ? members.filter((m) => !blockers.has(m)) : members;
      }
    return outcomes;
  }

  /**
   * A send's (or batch's) transaction failed: its slots are dropped — unless the backend went away during
   * the COMMIT, when the seqs may be stored after all (the answer was lost, not the commit). Such slots keep
   * their place and announce whatever the store holds for their seqs, so a later send's announcement cannot
   * overtake them (suspected cause of 450 out-of-order deliveries in a PostgreSQL restart of the chaos bench).
   */
  private settleFailed(id: string, slots: readonly OrderSlot[], unsure: boolean): void {
    const first = slots[0];
    const last = slots.at(-1);
    if (!unsure || !first || !last) {
      for (const s of slots) this.d.order.drop(s);
      return;
    }
    let found: Promise<void> | undefined;
    const announceStored = () => {
      found ??= this.announceStored(id, first.first, last.last);
      return found;
    };
    for (const s of slots) this.d.order.ready(s, announceStored).catch(() => {});
  }

  /** `recoverAnnouncements`, retried while the store is unreachable (up to ~10 s). */
  private async announceStored(id: string, from: number, to: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.recoverAnnouncements(id, from, to);
      } catch (err) {
        if (attempt >= 20 || !isBackendUnavailable(err)) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /**
   * The batch's messages, its senders' read markers (`lastOf`: sender → seq) and the members `read` selects,
   * after those writes: **one statement** on PostgreSQL (a data-modifying CTE; the read sees the members as
   * of this statement, which runs under the row lock the seq update took), three on SQLite.
   */
  private async insertBatch<R>(
    trx: Kysely<Database>,
    id: string,
    fresh: MessageRow[],
    lastOf: Map<string, number>,
    read: (q: Kysely<Database>) => Compilable<R> & { execute(): Promise<R[]> },
  ): Promise<R[]> {
    const lastRead = sql<number>`case ${sql.join(
      [...lastOf].map(([sender, last]) => sql`when identity = ${sender} then cast(${last} as bigint)`),
      sql` `,
    )} end`;
    const markRead = trx
      .updateTable("conversation_members")
      .set({ last_read_seq: lastRead })
      .where("conversation_id", "=", id)
      .where("identity", "in", [...lastOf.keys()])
      .where("last_read_seq", "<", lastRead);
    if (this.d.store.dialect === "postgres") {
      const ins = trx.insertInto("messages").values(fresh);
      return (await sql<R>`with "read" as (${markRead}), "ins" as (${ins}) ${read(trx)}`.execute(trx)).rows;
    }
    const rows = await read(trx).execute();
    await trx.insertInto("messages").values(fresh).execute();
    await markRead.execute();
    return rows;
  }

  /**
   * Takes the conversation's next seq (bumping `last_seq`, only while it is open and the sender a member:
   * `ConversationChanged` otherwise) and inserts the message with it, unless the sender's `client_msg_id`
   * is already stored (`inserted: false`). On PostgreSQL that is **one statement** (a data-modifying CTE):
   * the row lock it takes is held until COMMIT, so every round trip saved under it is a round trip less
   * that each other send to the conversation queues behind.
   */
  private async allocateAndInsert(
    trx: Kysely<Database>,
    caller: Caller,
    m: Omit<MessageRow, "seq">,
    now: number,
  ): Promise<{ seq: number; inserted: boolean }> {
    const id = m.conversation_id;
    if (this.d.store.dialect === "postgres") {
      const r = await sql<{ seq: number | null; inserted: number }>`
        with s as (
          update conversations set last_seq = last_seq + 1, last_active_at = ${now}::bigint, updated_at = ${now}::bigint
          where id = ${id} and app_id = ${caller.app.id} and closed_at is null
            and exists (select 1 from conversation_members where conversation_id = ${id} and identity = ${caller.identity})
          returning last_seq
        ), i as (
          insert into messages (id, conversation_id, app_id, seq, type, sender, text, custom, attachments, reply_to, thread_id,
                                mentions, client_msg_id, created_at, edited_at, deleted_at)
          select ${m.id}::text, ${id}::text, ${m.app_id}::text, s.last_seq, ${m.type}::text, ${m.sender}::text, ${m.text}::text,
                 ${m.custom}::text, ${m.attachments}::text, ${m.reply_to}::text, ${m.thread_id}::text, ${m.mentions}::text,
                 ${m.client_msg_id}::text, ${m.created_at}::bigint, null::bigint, null::bigint
          from s
          on conflict (conversation_id, sender, client_msg_id) do nothing
          returning seq
        )
        select (select last_seq from s) as seq, (select count(*) from i) as inserted`.execute(trx);
      const row = r.rows[0];
      if (row?.seq === null || row?.seq === undefined) throw new ConversationChanged();
      return { seq: Number(row.seq), inserted: Number(row.inserted) > 0 };
    }
    const allocated = await trx
      .updateTable("conversations")
      .set((eb) => ({ last_seq: eb("last_seq", "+", 1), last_active_at: now, updated_at: now }))
      .where("id", "=", id)
      .where("app_id", "=", caller.app.id)
      .where("closed_at", "is", null)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom("conversation_members")
            .select("identity")
            .where("conversation_id", "=", id)
            .where("identity", "=", caller.identity),
        ),
      )
      .returning("last_seq")
      .executeTakeFirst();
    if (!allocated) throw new ConversationChanged();
    const seq = Number(allocated.last_seq);
    const ins = await trx
      .insertInto("messages")
      .values({ ...m, seq })
      .onConflict((oc) => oc.columns(["conversation_id", "sender", "client_msg_id"]).doNothing())
      .executeTakeFirst();
    return { seq, inserted: Number(ins.numInsertedOrUpdatedRows ?? 0) > 0 };
  }

  /**
   * A retry of a stored send: answers with the stored message and announces it again under the same
   * `once` id, so members whose streams already have it get nothing more, and members who never got it
   * (the node that stored it died before publishing) get it now.
   */
  private async resent(caller: Caller, id: string, row: MessageRow): Promise<{ message: Message; created: false }> {
    const message = (await messagesToWire(this.db, [row]))[0] as Message;
    if (row.deleted_at === null) {
      const to = await this.recipients(caller.app.id, id, row.sender);
      await this.d.order.reannounce(id, Number(row.seq), () =>
        notify(this.d.events, caller.app.id, to, CHAT_EVENTS.messageNew, toMessage(row, undefined), `message.new:${row.id}`),
      );
    }
    return { message, created: false };
  }

  /**
   * Announces stored messages `from`..`to` of a conversation in seq order (SeqOrder asks for 500 at most): those a node
   * committed and died before announcing (see SeqOrder). `once` ids make a late second announcement of
   * any of them (the sender's retry, or the node that took it after all) a no-op.
   */
  async recoverAnnouncements(conversationId: string, from: number, to: number): Promise<void> {
    const rows = await this.db
      .selectFrom("messages")
      .selectAll()
      .where("conversation_id", "=", conversationId)
      .where("seq", ">=", from)
      .where("seq", "<=", to)
      .where("deleted_at", "is", null)
      .orderBy("seq")
      .execute();
    // Who gets a message depends only on its sender here (the members but those who blocked the sender).
    const bySender = new Map<string | null, Promise<string[]>>();
    const recipients = await Promise.all(
      rows.map((r) => {
        let to = bySender.get(r.sender);
        if (!to) {
          to = this.recipients(r.app_id, conversationId, r.sender);
          bySender.set(r.sender, to);
        }
        return to;
      }),
    );
    // Issued in order, in one go (one connection keeps it); settled together.
    await Promise.all(
      rows.map((r, i) =>
        notify(this.d.events, r.app_id, recipients[i] ?? [], CHAT_EVENTS.messageNew, toMessage(r, undefined), `message.new:${r.id}`),
      ),
    );
  }

  /** The members who get events about `sender`'s messages: all but those who blocked the sender. */
  private async recipients(appId: string, conversationId: string, sender: string | null): Promise<string[]> {
    return recipientsOf(this.db, appId, conversationId, sender);
  }

  /** A send to a closed conversation: a retry of a message stored before the close still gets it. */
  private async sendToClosed(caller: Caller, id: string, req: SendMessageRequest): Promise<{ message: Message; created: boolean }> {
    const again = await this.findByClientId(id, caller, req.client_msg_id);
    if (again) return { message: (await messagesToWire(this.db, [again]))[0] as Message, created: false };
    throw ApiError.conflict("this conversation is closed", "closed");
  }

  private findByClientId(conversationId: string, caller: Caller, clientMsgId: string, db: Db = this.db): Promise<MessageRow | undefined> {
    return db
      .selectFrom("messages")
      .selectAll()
      .where("conversation_id", "=", conversationId)
      .where("app_id", "=", caller.app.id)
      .where("sender", "=", caller.identity)
      .where("client_msg_id", "=", clientMsgId)
      .executeTakeFirst();
  }

  /** A page of history by seq, oldest first, inside the plan's retention window. */
  async history(caller: Caller, id: string, q: HistoryQuery): Promise<HistoryResponse> {
    const { conv } = await this.d.access.member(this.db, caller, id);
    return this.page(caller.app, conv, q, caller.identity);
  }

  /**
   * A page of a conversation's history by seq, oldest first, inside the app's retention window, for
   * a reader whose access the calling module has already checked (support's operators triage
   * conversations they are not members of).
   */
  async page(app: AppRecord, conv: { id: string; last_seq: number }, q: HistoryQuery, reader?: string): Promise<HistoryResponse> {
    let sel = this.db
      .selectFrom("messages")
      .selectAll()
      .where("conversation_id", "=", conv.id)
      .where("created_at", ">=", this.d.access.cutoff(app));
    // The reader does not see messages of users they blocked.
    if (reader !== undefined) sel = sel.where(notFromBlocked(this.db, app.id, reader));
    if (q.after !== undefined) sel = sel.where("seq", ">", q.after);
    if (q.before !== undefined) sel = sel.where("seq", "<", q.before);
    // Thread replies live in their thread (GET …/threads/{message_id}/messages) unless asked for here.
    if (q.include_threads !== "true") sel = sel.where("thread_id", "is", null);
    const forward = q.after !== undefined;
    const rows = await sel
      .orderBy("seq", forward ? "asc" : "desc")
      .limit(q.limit + 1)
      .execute();
    const { page, has_more } = historyWindow(rows, q.limit, forward);
    return { messages: await messagesToWire(this.db, page), has_more, last_seq: Number(conv.last_seq) };
  }

  /** The last message of each conversation still inside `app`'s retention window, by conversation id (no access check). */
  async lastOf(app: AppRecord, conversationIds: readonly string[]): Promise<Map<string, Message>> {
    if (conversationIds.length === 0) return new Map();
    const rows = await lastMessages(this.db, conversationIds, this.d.access.cutoff(app));
    return new Map((await messagesToWire(this.db, rows)).map((m) => [m.conversation_id, m]));
  }

  private async ownMessage(trx: Db, caller: Caller, id: string, messageId: string, need: "sender" | "member"): Promise<MessageRow> {
    const row = await trx
      .selectFrom("messages")
      .selectAll()
      .where("id", "=", messageId)
      .where("conversation_id", "=", id)
      .where("created_at", ">=", this.d.access.cutoff(caller.app))
      .executeTakeFirst();
    if (!row) throw ApiError.notFound("message");
    if (row.deleted_at !== null) throw ApiError.conflict("this message was deleted", "deleted");
    if (need === "sender" && row.sender !== caller.identity) throw ApiError.forbidden("only the sender may change a message");
    return row;
  }

  /** Edits the caller's own message (text and/or custom). */
  async edit(caller: Caller, id: string, messageId: string, req: EditMessageRequest): Promise<Message> {
    const { conv } = await this.d.access.member(this.db, caller, id);
    if (conv.closed_at !== null) throw ApiError.conflict("this conversation is closed", "closed");
    const row = await this.ownMessage(this.db, caller, id, messageId, "sender");
    const patch = { ...row, edited_at: this.d.clock.now() };
    if (req.text !== undefined)
      patch.text =
        req.text === null
          ? null
          : (filterWith(
              await this.d.filters.get(caller.app.id),
              req.text,
              (req.custom ?? row.custom) !== null || row.attachments !== "[]",
            ) ?? null);
    if (req.custom !== undefined) patch.custom = req.custom === null ? null : JSON.stringify(req.custom);
    if (patch.text === null && patch.custom === null && row.attachments === "[]")
      throw ApiError.invalid("a message needs text, custom or attachments");
    const [message] = (await messagesToWire(this.db, [patch])) as [Message];
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable("messages")
        .set({ text: patch.text, custom: patch.custom, edited_at: patch.edited_at })
        .where("id", "=", messageId)
        .execute();
      await this.d.outbox?.write(trx, webhookEvent(caller.app.id, "message.updated", { message }, `conv:${id}`));
    });
    this.d.outbox?.wake();
    notify(this.d.events, caller.app.id, await this.recipients(caller.app.id, id, row.sender), CHAT_EVENTS.messageUpdated, message);
    return message;
  }

  /**
   * Deletes a message, leaving a tombstone (the sender, or an owner/admin of a group or chatroom; with
   * `moderator`, the app's admin API, any message of any conversation of the app).
   */
  async delete(caller: Caller, id: string, messageId: string, opts: { moderator?: boolean } = {}): Promise<Message> {
    if (opts.moderator) await this.d.access.conversation(this.db, caller, id);
    const me = opts.moderator ? undefined : (await this.d.access.member(this.db, caller, id)).me;
    const row = await this.ownMessage(this.db, caller, id, messageId, "member");
    if (me && row.sender !== caller.identity && ROLE_RANK[me.role] < ROLE_RANK.admin)
      throw ApiError.forbidden("only the sender or an admin may delete a message");
    return this.tombstone(caller.app, id, row);
  }

  /** Moderation (a resolved report): deletes any message of the app, as `delete` would. Already deleted: as it is. */
  async deleteAsModerator(app: AppRecord, id: string, messageId: string): Promise<Message> {
    const row = await this.db
      .selectFrom("messages")
      .selectAll()
      .where("id", "=", messageId)
      .where("conversation_id", "=", id)
      .where("app_id", "=", app.id)
      .executeTakeFirst();
    if (!row) throw ApiError.notFound("message");
    if (row.deleted_at !== null) return toMessage(row, undefined);
    return this.tombstone(app, id, row);
  }

  private async tombstone(app: AppRecord, id: string, row: MessageRow): Promise<Message> {
    const caller = { app };
    const messageId = row.id;
    const now = this.d.clock.now();
    const message = toMessage({ ...row, deleted_at: now }, undefined);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom("message_reactions").where("message_id", "=", messageId).execute();
      await trx
        .updateTable("messages")
        .set({ deleted_at: now, text: null, custom: null, attachments: "[]" })
        .where("id", "=", messageId)
        .execute();
      await ThreadsService.recordDeleted(trx, row);
      await this.d.outbox?.write(trx, webhookEvent(caller.app.id, "message.deleted", { message }, `conv:${id}`));
    });
    this.d.outbox?.wake();
    notify(this.d.events, caller.app.id, await this.recipients(caller.app.id, id, row.sender), CHAT_EVENTS.messageDeleted, message);
    if (row.thread_id !== null) await this.threads.announce(caller.app.id, id, row.thread_id);
    return message;
  }

  /** Adds or removes the caller's reaction (idempotent either way). */
  async react(caller: Caller, id: string, messageId: string, reaction: string, add: boolean): Promise<Message> {
    await this.d.access.member(this.db, caller, id);
    const row = await this.ownMessage(this.db, caller, id, messageId, "member");
    let changed: boolean;
    if (add) {
      const mine = await this.db
        .selectFrom("message_reactions")
        .select(["reaction"])
        .where("message_id", "=", messageId)
        .where("identity", "=", caller.identity)
        .execute();
      if (mine.length >= CHAT_LIMITS.maxReactionsPerUser && !mine.some((m) => m.reaction === reaction)) {
        throw ApiError.invalid(`at most ${CHAT_LIMITS.maxReactionsPerUser} different reactions per user on a message`);
      }
      const r = await this.db
        .insertInto("message_reactions")
        .values({ message_id: messageId, conversation_id: id, identity: caller.identity, reaction, created_at: this.d.clock.now() })
        .onConflict((oc) => oc.columns(["message_id", "identity", "reaction"]).doNothing())
        .executeTakeFirst();
      changed = Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    } else {
      const r = await this.db
        .deleteFrom("message_reactions")
        .where("message_id", "=", messageId)
        .where("identity", "=", caller.identity)
        .where("reaction", "=", reaction)
        .executeTakeFirst();
      changed = Number(r.numDeletedRows) > 0;
    }
    const [message] = (await messagesToWire(this.db, [row])) as [Message];
    if (changed) {
      const ev: ReactionEvent = {
        conversation_id: id,
        message_id: messageId,
        seq: message.seq,
        reaction,
        identity: caller.identity,
        reactions: message.reactions,
      };
      notify(
        this.d.events,
        caller.app.id,
        await memberIdentities(this.db, id),
        add ? CHAT_EVENTS.reactionAdded : CHAT_EVENTS.reactionRemoved,
        ev,
      );
    }
    return message;
  }
}

/** `req` with `text` as its text (none when undefined). */
function withText(req: SendMessageRequest, text: string | undefined): SendMessageRequest {
  if (text === req.text) return req;
  const { text: _old, ...rest } = req;
  return text === undefined ? rest : { ...rest, text };
}

/** A unique-index violation on either store (a concurrent duplicate insert). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === "23505" || e.code === "SQLITE_CONSTRAINT_UNIQUE" || /UNIQUE constraint failed/.test(e.message ?? "");
}
