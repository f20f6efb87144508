/** One send's place in its conversation's announcement order on this node. */
export interface OrderSlot {
  readonly conversationId: string;
  state: "open" | "ready" | "dropped";
  emit?: () => void | Promise<void>;
  settle?: { resolve: () => void; reject: (err: unknown) => void };
}

/**
 * Announces a conversation's new messages in `seq` order on this node without serialising their
 * transactions. A send claims its slot right after allocating its seq, under the conversation's row lock
 * — so one conversation's slots are claimed in ascending seq order — and hands its announcement over once
 * committed (or drops the slot on rollback). An announcement runs once every earlier slot of its
 * conversation has run or been dropped; each announcement is issued synchronously, in order.
 */
export class SeqOrder {
  private readonly queues = new Map<string, OrderSlot[]>();

  /** Takes the next slot of `conversationId` (call it under the conversation's lock, right after the seq is allocated). */
  claim(conversationId: string): OrderSlot {
    const slot: OrderSlot = { conversationId, state: "open" };
    let q = this.queues.get(conversationId);
    if (!q) {
      q = [];
      this.queues.set(conversationId, q);
    }
    q.push(slot);
    return slot;
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

  /** The send rolled back: its slot no longer holds later ones up. */
  drop(slot: OrderSlot): void {
    if (slot.state !== "open") return;
    slot.state = "dropped";
    this.flush(slot.conversationId);
  }

  private flush(conversationId: string): void {
    const q = this.queues.get(conversationId);
    if (!q) return;
    while (q.length > 0 && q[0]?.state !== "open") {
      const s = q.shift() as OrderSlot;
      if (s.state !== "ready" || !s.emit || !s.settle) continue;
      const { resolve, reject } = s.settle;
      try {
        Promise.resolve(s.emit()).then(resolve, reject);
      } catch (err) {
        reject(err);
      }
    }
    if (q.length === 0) this.queues.delete(conversationId);
  }
}
