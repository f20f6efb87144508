/**
 * The small reactive primitives both SDKs expose (the seed's `ValueListenable` and `Stream`), defined once.
 * They carry no wire data; they live here because every SDK package already depends on this one.
 */

/**
 * A read-only reactive value: read `value`, or `subscribe`.
 *
 * `subscribe(listener)` calls `listener` with the **current value at once**, then with every new value,
 * until the returned function is called — so a subscriber never misses the state it subscribed in.
 */
export interface ReadableStore<T> {
  readonly value: T;
  /** Calls `listener` with the current value now, then on every change; returns an unsubscribe function. */
  subscribe(listener: (value: T) => void): () => void;
  /** Resolves with the first value (current or coming) that satisfies `pred`; rejects after `timeoutMs` when one is given. */
  when(pred: (value: T) => boolean, timeoutMs?: number, what?: string): Promise<T>;
}

/**
 * A small observable value the SDK writes and apps read. `subscribe` delivers the current value first,
 * then every change. Works with React's `useSyncExternalStore(store.subscribe, () => store.value)`
 * (`subscribe` is bound).
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

  /** Calls `listener` with the current value now, then on every change; returns an unsubscribe function. */
  subscribe = (listener: (value: T) => void): (() => void) => {
    const off = this.onChange(listener);
    listener(this.current);
    return off;
  };

  /** Calls `listener` on every change from now on (not with the current value); returns an unsubscribe function. */
  onChange(listener: (value: T) => void): () => void {
    // Wrapped, so the same function subscribed twice gets two independent subscriptions.
    const entry = (v: T) => listener(v);
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  when(pred: (value: T) => boolean, timeoutMs?: number, what = "state"): Promise<T> {
    if (pred(this.current)) return Promise.resolve(this.current);
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              off();
              reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
            }, timeoutMs);
      const off = this.onChange((v) => {
        if (!pred(v)) return;
        if (timer !== undefined) clearTimeout(timer);
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
