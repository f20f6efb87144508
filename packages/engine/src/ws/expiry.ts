/** What the queue keeps on each item: when it is due and where it sits in the heap (-1: not queued). */
export interface Expiring {
  expiryDue: number;
  expiryIndex: number;
}

/** Node clamps longer delays to 1 ms. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Items due at a time each (sockets closing at their token's expiry), on **one** timer: a min-heap by due
 * time. A Node timer per socket cost each socket a `Timeout` and, as every socket's delay differs, a
 * timer list of its own in Node's priority queue (~250 bytes of heap, and a queue insert per `hello`).
 * Delays are real time, as `setTimeout`'s are; `onDue` runs once for each item when its time comes.
 */
export class ExpiryQueue<T extends Expiring> {
  private readonly heap: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Number.POSITIVE_INFINITY;

  constructor(private readonly onDue: (item: T) => void) {}

  get size(): number {
    return this.heap.length;
  }

  /** Makes `item` due `ms` from now (replacing its previous time, if queued). */
  set(item: T, ms: number): void {
    item.expiryDue = performance.now() + Math.max(0, ms);
    if (item.expiryIndex >= 0) {
      this.down(this.up(item.expiryIndex));
    } else {
      item.expiryIndex = this.heap.length;
      this.heap.push(item);
      this.up(item.expiryIndex);
    }
    this.arm();
  }

  /** Takes `item` out (it will not come due). */
  delete(item: T): void {
    const i = item.expiryIndex;
    if (i < 0) return;
    item.expiryIndex = -1;
    const last = this.heap.pop() as T;
    if (i < this.heap.length) {
      this.heap[i] = last;
      last.expiryIndex = i;
      this.down(this.up(i));
    }
    if (this.heap.length === 0) this.stop();
  }

  /** Clears the timer (the items stay queued; a later `set` re-arms it). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
  }

  /** The timer runs for the earliest item (a timer already due sooner re-arms when it fires). */
  private arm(): void {
    const top = this.heap[0];
    if (!top) {
      this.stop();
      return;
    }
    if (this.timer && this.timerDue <= top.expiryDue) return;
    this.stop();
    this.timerDue = top.expiryDue;
    const ms = Math.min(MAX_DELAY_MS, Math.max(1, Math.ceil(top.expiryDue - performance.now())));
    this.timer = setTimeout(() => this.fire(), ms);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
    const now = performance.now();
    for (let top = this.heap[0]; top && top.expiryDue <= now; top = this.heap[0]) {
      this.delete(top);
      this.onDue(top);
    }
    this.arm();
  }

  /** Moves the item at `i` up to its place; answers where it ended. */
  private up(i: number): number {
    const h = this.heap;
    const item = h[i] as T;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as T;
      if (parent.expiryDue <= item.expiryDue) break;
      h[i] = parent;
      parent.expiryIndex = i;
      i = p;
    }
    h[i] = item;
    item.expiryIndex = i;
    return i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const item = h[i] as T;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (h[r] as T).expiryDue < (h[l] as T).expiryDue ? r : l;
      const child = h[c] as T;
      if (child.expiryDue >= item.expiryDue) break;
      h[i] = child;
      child.expiryIndex = i;
      i = c;
    }
    h[i] = item;
    item.expiryIndex = i;
  }
}
