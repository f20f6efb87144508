/**
 * Per key (a conversation), runs the items that queued up while the previous run of that key was busy as
 * one batch: `run(items, release)` answers one result per item, in order. A run calls `release` once the
 * next batch of the key may start (for a send batch: its transaction's statements are done and only the
 * COMMIT is pending), or it is released when it settles. The first item of an idle key runs at once: under
 * no load nothing waits; under load the items that arrive during one commit share the next.
 *
 * With `gather`, a released key whose queue holds fewer items than the batch that just ran waits a moment
 * (at most `gather.maxMs`, and at most `gather.share` of that batch's duration, counted from the turn after
 * the batch's results were handed out) for as many to arrive, then runs what it has. Without it, under a closed loop (each client waits for its answer before sending again)
 * the few items that arrived during a batch start the next batch alone, just before the answered clients'
 * next items arrive: batches alternate between a few items and the rest (1 and 9 of 10 senders), and the
 * cost of a batch (a commit, round trips) is paid twice for one round of the clients.
 */
export class KeyedBatcher<I, R> {
  private readonly keys = new Map<string, Key<I, R>>();

  constructor(
    private readonly run: (key: string, items: I[], release: () => void) => Promise<R[]>,
    private readonly max = 100,
    private readonly gather?: { maxMs: number; share: number },
  ) {}

  /** Queues `item` under `key`; resolves with its result (rejects with its batch's error). */
  submit(key: string, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let k = this.keys.get(key);
      if (!k) {
        k = { queue: [], busy: false, target: 0, timer: undefined };
        this.keys.set(key, k);
      }
      k.queue.push({ item, resolve, reject });
      if (!k.busy) this.next(key);
      else if (k.timer && k.queue.length >= k.target) {
        clearTimeout(k.timer);
        k.timer = undefined;
        this.next(key);
      }
    });
  }

  private next(key: string): void {
    const k = this.keys.get(key);
    if (!k) return;
    k.busy = false;
    if (k.queue.length === 0) {
      this.keys.delete(key);
      return;
    }
    k.busy = true;
    const batch = k.queue.splice(0, this.max);
    const started = performance.now();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (!this.gather) return this.next(key);
      const wait = Math.min(this.gather.maxMs, this.gather.share * (performance.now() - started));
      // The wait starts once what this batch's results set off (its answers) has run, on the next turn.
      setImmediate(() => {
        if (wait < 1 || k.queue.length >= batch.length) return this.next(key);
        // Still busy: `submit` runs the next batch once `target` items wait, the timer if fewer come.
        k.target = batch.length;
        k.timer = setTimeout(() => {
          k.timer = undefined;
          this.next(key);
        }, wait);
      });
    };
    let p: Promise<R[]>;
    try {
      p = this.run(
        key,
        batch.map((w) => w.item),
        release,
      );
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (results) => {
        for (const [i, w] of batch.entries()) w.resolve(results[i] as R);
      },
      (err: unknown) => {
        for (const w of batch) w.reject(err);
      },
    ).finally(release);
  }
}

interface Key<I, R> {
  queue: Waiting<I, R>[];
  /** A batch runs, or the key waits (`timer`) for `target` items to gather. */
  busy: boolean;
  target: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface Waiting<I, R> {
  item: I;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}
