import type { MediaWebhookEvent } from "./port.js";

type Listener = (event: MediaWebhookEvent) => Promise<void> | void;

/**
 * Fans verified LiveKit webhooks out to the modules that react to them (rooms, stage, seats, calls).
 * One per engine. A failing listener is logged by the caller and does not stop the others.
 */
export class MediaWebhookHub {
  private readonly listeners = new Set<Listener>();
  private readonly seen = new Map<string, number>();

  on(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Delivers one event to every listener; a redelivered webhook id is ignored. Returns the listeners' errors. */
  async emit(event: MediaWebhookEvent): Promise<unknown[]> {
    if (event.id) {
      if (this.seen.has(event.id)) return [];
      this.seen.set(event.id, Date.now());
      // Bounded memory: LiveKit retries within seconds, so the oldest ids can go.
      if (this.seen.size > 10_000) {
        const first = this.seen.keys().next().value;
        if (first !== undefined) this.seen.delete(first);
      }
    }
    const errors: unknown[] = [];
    for (const fn of this.listeners) {
      try {
        await fn(event);
      } catch (err) {
        errors.push(err);
      }
    }
    return errors;
  }
}
