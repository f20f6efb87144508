/** A read-only reactive value (the seed's `ValueListenable`): read `value`, or `subscribe` to changes. */
export interface ReadonlyStore<T> {
  readonly value: T;
  /** Calls `fn` on every change (not with the current value); returns an unsubscribe function. */
  subscribe(fn: (value: T) => void): () => void;
  /** Resolves with the first value (current or coming) that satisfies `pred`, or rejects after `timeoutMs`. */
  when(pred: (value: T) => boolean, timeoutMs: number, what?: string): Promise<T>;
}

/** A store the SDK writes and apps read (React: `useSyncExternalStore(s.subscribe, () => s.value)`). */
export class Store<T> implements ReadonlyStore<T> {
  private readonly listeners = new Set<(value: T) => void>();

  constructor(private current: T) {}

  get value(): T {
    return this.current;
  }

  set(next: T): void {
    if (Object.is(next, this.current)) return;
    this.current = next;
    for (const fn of [...this.listeners]) fn(next);
  }

  subscribe(fn: (value: T) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Resolves with the first value (current or coming) that satisfies `pred`, or rejects after `timeoutMs`. */
  when(pred: (value: T) => boolean, timeoutMs: number, what = "state"): Promise<T> {
    if (pred(this.current)) return Promise.resolve(this.current);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const off = this.subscribe((v) => {
        if (!pred(v)) return;
        clearTimeout(timer);
        off();
        resolve(v);
      });
    });
  }
}

/** A broadcast event stream (the seed's `Stream<RoomEvent>`). */
export class EventStream<E> {
  private readonly listeners = new Set<(event: E) => void>();

  /** Receives every event from now on; returns an unsubscribe function. */
  subscribe(fn: (event: E) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** @internal */
  emit(event: E): void {
    for (const fn of [...this.listeners]) fn(event);
  }
}
