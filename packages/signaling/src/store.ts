/** A read-only reactive value (the seed's `ValueListenable`): read `value`, or `subscribe` to changes. */
export interface ReadableStore<T> {
  readonly value: T;
  /** Calls `listener` on every change (not immediately); returns an unsubscribe function. */
  subscribe(listener: (value: T) => void): () => void;
}

/**
 * A small observable value. Works with React's `useSyncExternalStore(store.subscribe, () => store.value)`.
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

  /** A read-only view. */
  readonly(): ReadableStore<T> {
    return this;
  }
}
