/** Things that happened which other parts of the engine react to (the gateway closes a banned user's sockets). */
export interface EngineEventMap {
  "user.banned": { appId: string; identity: string };
  "user.revoked": { appId: string; identity: string; before: number };
  "app.updated": { appId: string };
}

type Listener<T> = (event: T) => void;

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
    for (const fn of this.listeners.get(type) ?? []) (fn as Listener<EngineEventMap[K]>)(event);
  }
}
