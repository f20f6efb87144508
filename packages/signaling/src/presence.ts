import { UTDStreamException } from "@utd-stream/protocol";
import type { UTDSignaling } from "./signaling.js";
import { type ReadableStore, Store } from "./store.js";
import type { UTDPresence } from "./wire/presence.js";

/** A live presence view from {@link presenceStore}. */
export interface PresenceSubscription {
  /** identity → presence; an identity appears once its presence is known. */
  readonly presence: ReadableStore<Readonly<Record<string, UTDPresence>>>;
  /** Stops updating the store (the identities stay on the socket's watch list: another view may show them). */
  unsubscribe(): void;
}

/**
 * Live presence of `identities` on a facade, as a store: filled once watched (waiting for the connection
 * when not connected yet), then on every `presenceChanged`, and re-read after a `resync`. Errors of the
 * watch request go to `onError`.
 */
export function presenceStore(
  signaling: UTDSignaling,
  identities: readonly string[],
  onError?: (err: UTDStreamException) => void,
): PresenceSubscription {
  const ids = new Set(identities);
  const store = new Store<Readonly<Record<string, UTDPresence>>>({});
  let closed = false;
  const put = (list: readonly UTDPresence[]) => {
    if (closed) return;
    const next = { ...store.value };
    for (const p of list) if (ids.has(p.identity)) next[p.identity] = p;
    store.set(next);
  };
  const watch = () =>
    signaling.state
      .when((s) => s === "connected" || closed)
      .then(() => (closed ? [] : signaling.watchPresence([...ids])))
      .then(put)
      .catch((err: unknown) => {
        if (err instanceof UTDStreamException) onError?.(err);
      });
  const offs = [signaling.on("presenceChanged", (p) => put([p])), signaling.on("resync", () => void watch())];
  void watch();
  return {
    presence: store,
    unsubscribe: () => {
      closed = true;
      for (const off of offs) off();
    },
  };
}
