/**
 * Where the nodes of a cluster record how far each conversation's new messages have been announced
 * (Redis: `announce-ledger.ts`). A node announces seq N only once N-1 is announced — by itself or by
 * another node — so every member's stream gets a conversation's messages in seq order, whichever nodes
 * the senders wrote through. Absent on a single node: {@link SeqOrder} alone orders its announcements.
 */
export interface AnnounceLedger {
  /**
   * Records that this node took `first` (call it under the conversation's row lock, and let the lock go
   * only once it has settled); answers the highest seq announced so far and the node that made the
   * previous claim — the one that took `first - 1`, unless it was announced already. A conversation the
   * ledger holds nothing for (new, idle past its retention, or the ledger's data lost) counts as announced
   * up to `first - 1`: nobody else can be between its allocation and its announcement, since this
   * allocation came after theirs under the lock and theirs recorded itself first.
   */
  claim(conversationId: string, first: number): Promise<{ announced: number; claimer: string | undefined }>;
  /** Whether a node is alive (its heartbeat has not expired). */
  alive(nodeId: string): Promise<boolean>;
  /** The highest seq of the conversation announced so far (undefined: the ledger holds nothing for it). */
  announced(conversationId: string): Promise<number | undefined>;
  /**
   * Every seq up to `last` is out: the next may go. With `failedFrom`, `failedFrom`..`last` are not in the
   * streams (their publish failed): a retried send announces them again (see `state`).
   */
  done(conversationId: string, last: number, failedFrom?: number): Promise<void>;
  /** The highest seq out (undefined: the ledger holds nothing for it), and whether `seq`'s announcement failed. */
  state(conversationId: string, seq: number): Promise<{ announced: number | undefined; failed: boolean }>;
  /** `seq` was announced again after its failure. */
  repaired(conversationId: string, seq: number): Promise<void>;
}

/** One send's (or one batch's) place in its conversation's announcement order. */
export interface OrderSlot {
  readonly conversationId: string;
  /** The seqs this slot announces: `first`..`last`. */
  readonly first: number;
  readonly last: number;
  state: "open" | "ready" | "waiting" | "dropped";
  /** Settles once the ledger holds the claim (await it before the conversation's row lock is released). */
  readonly recorded: Promise<void>;
  /** The highest seq announced cluster-wide when the slot was claimed (-1: not known yet). */
  seen: number;
  /** The node that took the previous seq (when it was not announced at the claim). */
  claimer?: string | undefined;
  emit?: () => void | Promise<void>;
  settle?: { resolve: () => void; reject: (err: unknown) => void };
}

export interface SeqOrderOptions {
  /** The cluster's ledger (absent on a single node). */
  ledger?: AnnounceLedger | undefined;
  /**
   * The longest wait (ms, default 30 s) for the previous seq's announcement by a node that is still alive
   * but slow (overloaded, or retrying the streams). Past it this one goes out anyway: the member's client
   * then sees a gap in the conversation seq and reads it from history.
   */
  waitMs?: number;
  /**
   * How often (ms, default 1 s) a wait checks that the node it waits for is alive: one that died between
   * its commit and its announcement is given up on at the first check after its heartbeat expired.
   */
  checkMs?: number;
  /** Told when a wait gave up (conversation, the seq waited for). */
  onGiveUp?: (conversationId: string, seq: number) => void;
}

/**
 * Announces the stored seqs `from`..`to` of a conversation, in order (settles once they are in the
 * streams): what a dead node committed and never announced.
 */
export type Recover = (conversationId: string, from: number, to: number) => Promise<void>;

const NO_WAIT: Promise<void> = Promise.resolve();

/**
 * Announces a conversation's new messages in `seq` order without serialising their transactions. A send
 * claims its slot right after allocating its seqs, under the conversation's row lock — so slots are
 * claimed in ascending seq order, on this node and (through the ledger) across the cluster — and hands
 * its announcement over once committed (or drops the slot on rollback).
 *
 * On this node an announcement is issued once every earlier slot of its conversation has been issued or
 * dropped; issues are synchronous and in order (one connection to the streams keeps that order). With a
 * ledger, a slot whose previous seq was not issued here also waits until the ledger says that seq is
 * announced — by the node that took it, once its event is in every member's stream.
 */
export class SeqOrder {
  private readonly queues = new Map<string, OrderSlot[]>();
  /** The last seq issued here per conversation, while its announcement is in flight. */
  private readonly issued = new Map<string, number>();
  private readonly waitMs: number;
  private readonly checkMs: number;
  private recover: Recover | undefined;

  constructor(private readonly o: SeqOrderOptions = {}) {
    this.waitMs = o.waitMs ?? 30_000;
    this.checkMs = o.checkMs ?? 1000;
  }

  /** How a wait that finds the node it waits for dead announces that node's messages itself. */
  recoverWith(recover: Recover): void {
    this.recover = recover;
  }

  /**
   * Takes the next slot of `conversationId` for seqs `first`..`last` (call it under the conversation's
   * lock, right after the seqs are allocated, and await `slot.recorded` before the lock goes).
   */
  claim(conversationId: string, first: number, last = first): OrderSlot {
    let q = this.queues.get(conversationId);
    if (!q) {
      q = [];
      this.queues.set(conversationId, q);
    }
    // Right behind a slot of this node (a batch's messages): that one's claim stands for both, and this one
    // goes out right after it.
    const ledger = q.at(-1)?.last === first - 1 ? undefined : this.o.ledger;
    const slot: OrderSlot = { conversationId, first, last, state: "open", seen: ledger ? -1 : first - 1, recorded: NO_WAIT };
    if (ledger) {
      (slot as { recorded: Promise<void> }).recorded = ledger.claim(conversationId, first).then((c) => {
        slot.seen = c.announced;
        slot.claimer = c.claimer;
      });
      // Awaited by the caller before commit; a failure there rolls the send back (and drops the slot).
      slot.recorded.catch(() => {});
    }
    q.push(slot);
    return slot;
  }

  /** Whether a cluster ledger orders announcements across nodes (then seqs must be claimed under the row lock). */
  get clustered(): boolean {
    return this.o.ledger !== undefined;
  }

  /**
   * Single node only (no ledger): a place in `conversationId`'s order for seqs a statement is about to allocate
   * and commit on its own (no lock held across JS, so they are claimed after it: {@link place}). Take it before
   * the statement is sent: every seq allocated after it is then claimed behind it, and every seq allocated
   * before it was claimed (under its lock) before it — so once placed, the queue sorted by seq is the order.
   * Until placed or dropped it holds later slots back. A conversation has one reservation at a time on a node
   * (its batches run one after another).
   */
  reserve(conversationId: string): OrderSlot {
    if (this.o.ledger) throw new Error("SeqOrder.reserve needs a single node (no ledger)");
    return this.claim(conversationId, Number.MAX_SAFE_INTEGER);
  }

  /** The reserved statement allocated `seqs` (ascending): one slot each, in the reservation's place, in seq order. */
  place(reservation: OrderSlot, seqs: readonly number[]): OrderSlot[] {
    const q = this.queues.get(reservation.conversationId);
    const at = q?.indexOf(reservation) ?? -1;
    if (!q || at < 0 || reservation.state !== "open") throw new Error("SeqOrder.place: not an open reservation");
    const slots = seqs.map(
      (seq): OrderSlot => ({
        conversationId: reservation.conversationId,
        first: seq,
        last: seq,
        state: "open",
        seen: seq - 1,
        recorded: NO_WAIT,
      }),
    );
    q.splice(at, 1, ...slots);
    q.sort((a, b) => a.first - b.first);
    this.flush(reservation.conversationId); // a slot it held back may now be at the head
    return slots;
  }

  /** The send committed: `emit` runs in order; resolves (or rejects) with what it returns. */
  ready(slot: OrderSlot, emit: () => void | Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      slot.state = "ready";
      slot.emit = emit;
      slot.settle = { resolve, reject };
      this.flush(slot.conversationId);
    });
  }

  /**
   * Announces an already stored message again when it may be missing from the streams (a retried send
   * found it stored). Without a ledger, always (`once` ids make it a no-op where it arrived). With one:
   * - announced and not failed: nothing to do (a late second copy could pass the streams' `once` window);
   * - failed: again, and marked repaired;
   * - not announced yet (its node died before, or is still at it): after the seq before it is out (a wait
   *   that recovers after one liveness check, since who took that seq is not known here), then marked
   *   out, which releases a node waiting for it.
   */
  async reannounce(conversationId: string, seq: number, emit: () => void | Promise<void>): Promise<void> {
    const ledger = this.o.ledger;
    if (!ledger) return emit();
    const st = await ledger.state(conversationId, seq).catch(() => ({ announced: -1, failed: true }));
    // Nothing known (idle past the ledger's retention, or Redis lost it with the streams): announce.
    if (st.announced === undefined) return emit();
    if (st.announced >= seq && !st.failed) return;
    if (st.announced >= 0 && st.announced < seq - 1) await this.awaitPredecessor(conversationId, seq, undefined);
    try {
      await emit();
    } catch (err) {
      if (!st.failed) ledger.done(conversationId, seq, seq).catch(() => {});
      throw err;
    }
    if (st.failed) ledger.repaired(conversationId, seq).catch(() => {});
    else ledger.done(conversationId, seq).catch(() => {});
  }

  /** The send rolled back: its slot no longer holds later ones up. */
  drop(slot: OrderSlot): void {
    if (slot.state !== "open") return;
    slot.state = "dropped";
    this.flush(slot.conversationId);
  }

  private flush(conversationId: string): void {
    const q = this.queues.get(conversationId);
    if (!q) return;
    while (q.length > 0) {
      const s = q[0] as OrderSlot;
      if (s.state === "open" || s.state === "waiting") return;
      if (s.state === "ready" && !this.predecessorOut(s)) {
        s.state = "waiting";
        this.awaitPredecessor(s.conversationId, s.first, s.claimer).then(
          () => this.issueHead(conversationId),
          () => this.issueHead(conversationId),
        );
        return;
      }
      q.shift();
      if (s.state === "ready") this.issue(s);
    }
    this.queues.delete(conversationId);
  }

  /** Whether the seq before `s` is out: issued here, announced (as far as the claim saw), or nonexistent. */
  private predecessorOut(s: OrderSlot): boolean {
    if (!this.o.ledger || s.first <= 1) return true;
    const issued = this.issued.get(s.conversationId);
    return (issued !== undefined && issued >= s.first - 1) || s.seen >= s.first - 1;
  }

  /**
   * Polls the ledger until the seq before `first` is announced. When `claimer`, the node that took it, is
   * dead (or unknown) at a liveness check, its seqs are committed (this one was allocated after them, under
   * the row lock) and were never announced: they are announced from the store, in their place, and the
   * wait ends. After `waitMs` it ends anyway.
   */
  private async awaitPredecessor(conversationId: string, first: number, claimer: string | undefined): Promise<void> {
    const ledger = this.o.ledger as AnnounceLedger;
    const start = Date.now();
    let nextCheck = start + this.checkMs;
    let pause = 1;
    for (;;) {
      const announced = await ledger.announced(conversationId).catch(() => -1);
      // The entry is gone (Redis lost its data, and the streams theirs: clients resync): nothing to wait for.
      if (announced === undefined || announced >= first - 1) return;
      const now = Date.now();
      let dead = now >= start + this.waitMs;
      if (!dead && now >= nextCheck) {
        nextCheck = now + this.checkMs;
        dead = claimer === undefined || !(await ledger.alive(claimer).catch(() => true));
      }
      if (dead) {
        // Recovery is safe even if that node still announces them after all: `once` ids dedupe them.
        if (this.recover && announced >= 0) {
          const recovered = await this.recover(conversationId, Math.max(announced + 1, first - 500), first - 1).then(
            () => true,
            () => false,
          );
          if (recovered) return;
          // Not in the streams: a retried send of any of them announces it again.
          await ledger.done(conversationId, first - 1, announced + 1).catch(() => {});
        }
        this.o.onGiveUp?.(conversationId, first - 1);
        return;
      }
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 10);
    }
  }

  /** The waiting head may go now. */
  private issueHead(conversationId: string): void {
    const q = this.queues.get(conversationId);
    const s = q?.[0];
    if (!q || !s || s.state !== "waiting") return;
    q.shift();
    this.issue(s);
    if (q.length === 0) this.queues.delete(conversationId);
    else this.flush(conversationId);
  }

  private issue(s: OrderSlot): void {
    const { resolve, reject } = s.settle as NonNullable<OrderSlot["settle"]>;
    const ledger = this.o.ledger;
    if (ledger) this.issued.set(s.conversationId, s.last);
    let out: Promise<void>;
    try {
      out = Promise.resolve((s.emit as NonNullable<OrderSlot["emit"]>)());
    } catch (err) {
      out = Promise.reject(err);
    }
    out.then(resolve, reject);
    if (!ledger) return;
    // In the members' streams (or failed, and the sender will retry): the next seq may go out on any node.
    const announced = (failed: boolean) => {
      ledger.done(s.conversationId, s.last, failed ? s.first : undefined).catch(() => {});
      if (this.issued.get(s.conversationId) === s.last) this.issued.delete(s.conversationId);
    };
    out.then(
      () => announced(false),
      () => announced(true),
    );
  }
}
