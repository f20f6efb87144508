import type { UTDEventMap } from "@utd-stream/widget";
import { useEffect, useRef } from "react";
import { type UTDEventSource, useUTD } from "./context.js";

/**
 * Listens to an app-wide event (the widget's `UTDEvents`: `conversationMessageReceived`, …) while the
 * component is mounted. The bus is the provider's `events`, or `bus`. The latest `handler` is called
 * (no re-subscription when it changes); `name` or bus changes re-subscribe.
 */
export function useUTDEvent<K extends keyof UTDEventMap>(name: K, handler: (data: UTDEventMap[K]) => void, bus?: UTDEventSource): void {
  const fromProvider = useUTD().events;
  const source = bus ?? fromProvider;
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => {
    if (!source) return;
    const sub = source.on(name, (d) => latest.current(d));
    return () => sub.cancel();
  }, [name, source]);
}
