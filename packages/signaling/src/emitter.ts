/** A minimal typed event emitter (no Node built-ins). */
export class Emitter<M extends object> {
  // Keyed by name only, so an emitter may be seen through part of its map (`Emitter<Part>` of an `Emitter<Whole>`).
  private readonly map = new Map<PropertyKey, Set<(data: never) => void>>();

  /** Subscribes to `type`; returns an unsubscribe function. */
  on<K extends keyof M>(type: K, fn: (data: M[K]) => void): () => void {
    let set = this.map.get(type);
    if (!set) {
      set = new Set();
      this.map.set(type, set);
    }
    set.add(fn as (data: never) => void);
    return () => set.delete(fn as (data: never) => void);
  }

  /** Subscribes for one event. */
  once<K extends keyof M>(type: K, fn: (data: M[K]) => void): () => void {
    const off = this.on(type, (d) => {
      off();
      fn(d);
    });
    return off;
  }

  emit<K extends keyof M>(type: K, data: M[K]): void {
    for (const fn of [...(this.map.get(type) ?? [])]) {
      try {
        (fn as (d: M[K]) => void)(data);
      } catch (err) {
        // A failing listener must not break delivery to the others (or the socket loop).
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
