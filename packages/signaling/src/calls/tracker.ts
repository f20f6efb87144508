import type { CallStatus } from "@utd-stream/protocol";
import { type ReadableStore, Store } from "../store.js";
import type { UTDCall } from "../wire/calls.js";

/** Statuses after which a call never changes. */
export function isTerminalStatus(s: CallStatus): boolean {
  return s === "ended" || s === "rejected" || s === "busy" || s === "missed";
}

/** How far along its lifecycle a call is: what arrives out of order is told apart by this. */
function stage(s: CallStatus): number {
  if (s === "initiating") return 0;
  if (s === "ringing") return 1;
  if (s === "active") return 2;
  return 3;
}

/** How many finished calls are remembered (for late HTTP answers) before the oldest are forgotten. */
const KEEP = 100;

/**
 * The latest known state of every call this user heard about, from two sources that race: the HTTP answer
 * of an action (`invite`, `accept` …) and the `call.*` events on the socket. A callee's `ringing` may reach
 * the caller's socket before the caller's own `POST /calls` has answered; the tracker keeps the furthest
 * state, so whoever asks about the call (the facade, a media call session) sees `ringing`, not the stale
 * `initiating` of the HTTP answer. A finished call never changes again.
 */
export class CallTracker {
  private readonly calls = new Map<string, Store<UTDCall>>();

  /** Takes in a view of a call; returns the one now held (the given one unless it was older). */
  apply(call: UTDCall): UTDCall {
    const s = this.calls.get(call.id);
    if (!s) {
      this.calls.set(call.id, new Store(call));
      this.prune();
      return call;
    }
    const cur = s.value;
    if (isTerminalStatus(cur.status) || stage(call.status) < stage(cur.status)) return cur;
    // Same stage: the newer view may add detail (the answering device, the end reason).
    s.set(call);
    return call;
  }

  /** The call as a store (the current value first, then every change); undefined for a call never heard of. */
  get(id: string): ReadableStore<UTDCall> | undefined {
    return this.calls.get(id);
  }

  /** The call as a store, starting from `call` (or from what is already known, when that is further along). */
  follow(call: UTDCall): ReadableStore<UTDCall> {
    this.apply(call);
    return this.calls.get(call.id) as Store<UTDCall>;
  }

  private prune(): void {
    if (this.calls.size <= KEEP) return;
    for (const [id, s] of this.calls) {
      if (this.calls.size <= KEEP) return;
      if (isTerminalStatus(s.value.status)) this.calls.delete(id);
    }
  }
}
