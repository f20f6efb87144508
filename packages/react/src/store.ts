import type { ReadableStore } from "@utd-stream/signaling";
import { useCallback, useRef, useSyncExternalStore } from "react";

const noop = (): void => {};

/**
 * Reads an SDK store (`value` + `subscribe`) with `useSyncExternalStore`: the component renders the
 * store's value and re-renders on every change. A missing store reads as `fallback`. On the server the
 * current value is rendered and nothing is subscribed.
 */
export function useStore<T>(store: ReadableStore<T>): T;
export function useStore<T, F>(store: ReadableStore<T> | null | undefined, fallback: F): T | F;
export function useStore<T, F>(store: ReadableStore<T> | null | undefined, fallback?: F): T | F {
  const subscribe = useCallback((notify: () => void) => (store ? store.subscribe(() => notify()) : noop), [store]);
  const read = (): T | F => (store ? store.value : (fallback as F));
  return useSyncExternalStore(subscribe, read, read);
}

/** A subscription the SDK hands out (a live list, a message window …): a store and a way to stop it. */
export interface Live<T> {
  readonly store: ReadableStore<T>;
  close(): void;
}

interface Entry {
  live: Live<unknown>;
  refs: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Open SDK subscriptions, per owner (a chat session, a conversation) and key; shared by every component using them. */
const open = new WeakMap<object, Map<string, Entry>>();

function peek(owner: object, key: string): Entry | undefined {
  return open.get(owner)?.get(key);
}

function acquire(owner: object, key: string, make: () => Live<unknown>): Entry {
  let byKey = open.get(owner);
  if (!byKey) {
    byKey = new Map();
    open.set(owner, byKey);
  }
  let e = byKey.get(key);
  if (!e) {
    e = { live: make(), refs: 0, timer: undefined };
    byKey.set(key, e);
  }
  if (e.timer) clearTimeout(e.timer);
  e.timer = undefined;
  e.refs++;
  return e;
}

function release(owner: object, key: string, e: Entry): void {
  e.refs--;
  if (e.refs > 0) return;
  // Closed a tick later: React StrictMode's unmount-and-mount-again (and a component moving in the tree)
  // picks the same subscription up again instead of opening a second one.
  e.timer = setTimeout(() => {
    if (e.refs > 0) return;
    open.get(owner)?.delete(key);
    e.live.close();
  }, 0);
}

/**
 * Opens an SDK subscription (`make`) while a component shows it, shares it with every other component
 * asking for the same `owner` + `key`, and reads its store. `initial` (a constant) is rendered until it
 * is open and on the server.
 */
export function useLive<T, L extends Live<T>>(
  owner: object | null | undefined,
  key: string,
  make: () => L,
  initial: T,
): { value: T; live: L | undefined } {
  // `make` is read when subscribing; the subscription follows `owner` and `key` only.
  const makeRef = useRef(make);
  makeRef.current = make;
  const subscribe = useCallback(
    (notify: () => void) => {
      if (!owner) return noop;
      const e = acquire(owner, key, makeRef.current as () => Live<unknown>);
      const off = e.live.store.subscribe(() => notify());
      return () => {
        off();
        release(owner, key, e);
      };
    },
    [owner, key],
  );
  const read = (): T => (owner ? ((peek(owner, key)?.live.store.value as T | undefined) ?? initial) : initial);
  const value = useSyncExternalStore(subscribe, read, () => initial);
  return { value, live: owner ? (peek(owner, key)?.live as L | undefined) : undefined };
}
