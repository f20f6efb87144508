/**
 * Exact de-duplication of a conversation's messages, by message id, with a resume watermark.
 *
 * The same message can reach a page more than once: live over the socket, again from the REST
 * catch-up that runs after every (re)connect, again from a resumed stream. Livecaller suppresses
 * doubles with a ~3 s time window (which both lets late doubles through and can swallow distinct
 * messages); we use the message id, which the engine assigns once per stored message, and the
 * conversation's gap-free `seq`.
 *
 * - Within a page lifetime: a message id is accepted once (a bounded set; the oldest ids are
 *   forgotten first, and those are also below the watermark, so they stay refused).
 * - Across reloads: the *contiguous* high-water mark of seen seqs is persisted. Everything at or
 *   below it was handled by an earlier page; everything above is new to the host. Because seqs have
 *   no gaps, a message seen out of order (seq 7 before 6) does not move the mark past the hole, so a
 *   reload in between cannot lose seq 6.
 */
export class MessageDeduper {
  private readonly ids = new Set<string>();
  /** Seen seqs above the contiguous mark (waiting for the hole below them to fill). */
  private readonly ahead = new Set<number>();
  private mark: number;

  /**
   * @param watermark the persisted contiguous mark (0 for a new conversation)
   * @param maxIds how many ids to remember within a page lifetime
   */
  constructor(
    watermark = 0,
    private readonly maxIds = 5000,
  ) {
    this.mark = Math.max(0, Math.trunc(watermark));
  }

  /** Every seq up to this one has been seen (by this page or an earlier one). Persist it. */
  get watermark(): number {
    return this.mark;
  }

  /**
   * Offers a message; true exactly once per message (the first time it is offered, unless an
   * earlier page lifetime already handled it), false for every repeat.
   */
  accept(m: { id: string; seq: number }): boolean {
    if (this.ids.has(m.id)) return false;
    const fresh = m.seq > this.mark && !this.ahead.has(m.seq);
    this.remember(m.id);
    if (!fresh) return false;
    this.ahead.add(m.seq);
    while (this.ahead.has(this.mark + 1)) {
      this.mark++;
      this.ahead.delete(this.mark);
    }
    return true;
  }

  /** Whether a message was already accepted (or lies at or below the watermark). */
  seen(m: { id: string; seq: number }): boolean {
    return this.ids.has(m.id) || m.seq <= this.mark || this.ahead.has(m.seq);
  }

  private remember(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.maxIds) {
      // Sets iterate in insertion order: drop the oldest.
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
  }
}

/** Keys that fire once per page lifetime (`conversationWasStarted` per conversation id, `conversationWasClosed`…). */
export class OnceSet {
  private readonly keys = new Set<string>();

  /** True the first time `key` is offered. */
  first(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    return true;
  }
}
