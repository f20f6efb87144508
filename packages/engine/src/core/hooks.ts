/** Things that happened which other parts of the engine react to (the gateway closes a banned user's sockets). */
export interface EngineEventMap {
  "user.banned": { appId: string; identity: string };
  "user.revoked": { appId: string; identity: string; before: number };
  "app.updated": { appId: string };
  /** A session was minted for the identity (it counts toward MAU and the day's active users). */
  "user.active": { appId: string; identity: string };
}

/** A listener may return a promise: `emitAndWait` waits for it (work that must be done before the caller answers). */
type Listener<T> = (event: T) => void | Promise<void>;

/** A small typed in-process emitter, one per engine (no module-level singletons). */
export class Hooks {
  private readonly listeners = new Map<keyof EngineEventMap, Set<Listener<never>>>();

  on<K extends keyof EngineEventMap>(type: K, fn: Listener<EngineEventMap[K]>): () => void {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
    }
    set.add(fn as Listener<never>);
    return () => set.delete(fn as Listener<never>);
  }

  emit<K extends keyof EngineEventMap>(type: K, event: EngineEventMap[K]): void {
    for (const fn of this.listeners.get(type) ?? []) void (fn as Listener<EngineEventMap[K]>)(event);
  }

  /** Like `emit`, and resolves once every promise a listener returned has settled (never rejects). */
  async emitAndWait<K extends keyof EngineEventMap>(type: K, event: EngineEventMap[K]): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const fn of this.listeners.get(type) ?? []) {
      const r = (fn as Listener<EngineEventMap[K]>)(event);
      if (r) pending.push(r);
    }
    await Promise.allSettled(pending);
  }
}
