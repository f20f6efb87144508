/**
 * Per key (a conversation), runs the items that queued up while the previous run of that key was busy as
 * one batch: `run(items, release)` answers one result per item, in order. A run calls `release` once the
 * next batch of the key may start (for a send batch: its transaction's statements are done and only the
 * COMMIT is pending), or it is released when it settles. The first item of an idle key runs at once: under
 * no load nothing waits; under load the items that arrive during one commit share the next.
 */
export class KeyedBatcher<I, R> {
  private readonly keys = new Map<string, { queue: Waiting<I, R>[]; busy: boolean }>();

  constructor(
    private readonly run: (key: string, items: I[], release: () => void) => Promise<R[]>,
    private readonly max = 100,
  ) {}

  /** Queues `item` under `key`; resolves with its result (rejects with its batch's error). */
  submit(key: string, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let k = this.keys.get(key);
      if (!k) {
        k = { queue: [], busy: false };
        this.keys.set(key, k);
      }
      k.queue.push({ item, resolve, reject });
      if (!k.busy) this.next(key);
    });
  }

  private next(key: string): void {
    const k = this.keys.get(key);
    if (!k) return;
    if (k.queue.length === 0) {
      this.keys.delete(key);
      return;
    }
    k.busy = true;
    const batch = k.queue.splice(0, this.max);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      k.busy = false;
      this.next(key);
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

interface Waiting<I, R> {
  item: I;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}
