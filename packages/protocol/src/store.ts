/**
 * The small reactive primitives both SDKs expose (the seed's `ValueListenable` and `Stream`), defined once.
 * They carry no wire data; they live here because every SDK package already depends on this one.
 */

/** A read-only reactive value: read `value`, or `subscribe` to changes. */
export interface ReadableStore<T> {
  readonly value: T;
  /** Calls `listener` on every change (not immediately); returns an unsubscribe function. */
  subscribe(listener: (value: T) => void): () => void;
  /** Resolves with the first value (current or coming) that satisfies `pred`, or rejects after `timeoutMs`. */
  when(pred: (value: T) => boolean, timeoutMs: number, what?: string): Promise<T>;
}

/**
 * A small observable value the SDK writes and apps read. Works with React's
 * `useSyncExternalStore(store.subscribe, () => store.value)` (`subscribe` is bound).
 */
export class Store<T> implements ReadableStore<T> {
  private readonly listeners = new Set<(value: T) => void>();

  constructor(private current: T) {}

  get value(): T {
    return this.current;
  }

  /** Replaces the value and notifies subscribers (only when it changed by identity). */
  set(next: T): void {
    if (Object.is(next, this.current)) return;
    this.current = next;
    for (const l of [...this.listeners]) l(next);
  }

  subscribe = (listener: (value: T) => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

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

  /** A read-only view. */
  readonly(): ReadableStore<T> {
    return this;
  }
}

/** A broadcast event stream (the seed's `Stream<…>`). */
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
