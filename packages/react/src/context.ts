import type { UTDSession, UTDStreamClient } from "@utd-stream/media";
import { type ChatSession, chatSessionStore, UTDSignaling, type UTDSignalingOptions } from "@utd-stream/signaling";
import type { UTDEventMap } from "@utd-stream/widget";
import { createContext, createElement, type ReactNode, useContext, useEffect, useMemo, useRef, useState } from "react";
import { useStore } from "./store.js";

/** An app-wide event bus (the widget's `UTDEvents`, or anything with the same `on`). */
export interface UTDEventSource {
  on<K extends keyof UTDEventMap>(type: K, listener: (data: UTDEventMap[K]) => void): { cancel(): void };
}

/** What `<UTDProvider>` puts in context. */
export interface UTDContextValue {
  signaling: UTDSignaling;
  /** The media client, when the provider was given one (calls, rooms). */
  media: UTDStreamClient | undefined;
  /** The app-wide event bus, when given. */
  events: UTDEventSource | undefined;
}

const UTDContext = createContext<UTDContextValue | null>(null);
const ConversationContext = createContext<string | null>(null);
const SessionContext = createContext<UTDSession | null>(null);

export type UTDProviderProps = {
  children?: ReactNode;
  /**
   * The media client (`new UTDStreamClient({ signaling })`), or a function building it from the
   * signalling facade (called once per facade). Needed by the call and room hooks.
   */
  media?: UTDStreamClient | ((signaling: UTDSignaling) => UTDStreamClient);
  /** The app-wide event bus `useUTDEvent` listens on (the widget's `UTDEvents`). */
  events?: UTDEventSource;
  /** Connect on mount (default true). `connect()` is idempotent, so an app-connected facade is fine too. */
  autoConnect?: boolean;
  /** Called when connecting fails (bad key, banned, both capabilities off …). */
  onError?: (err: unknown) => void;
} & (
  | {
      /** A facade the app built: the provider connects it (unless `autoConnect={false}`) and never disconnects it. */
      signaling: UTDSignaling;
      options?: undefined;
    }
  | {
      /**
       * Options to build the facade here: built once per provider (later changes are ignored: give the
       * provider a new `key` to sign in as someone else), connected on mount, disconnected on unmount.
       */
      options: UTDSignalingOptions;
      signaling?: undefined;
    }
);

/** Facades whose disconnect waits one tick (StrictMode mounts, unmounts and mounts again at once). */
const closing = new WeakMap<UTDSignaling, ReturnType<typeof setTimeout>>();

/**
 * Makes a signed-in user available to the hooks below it. Give it the app's `UTDSignaling` (and media
 * client), or `options` to build one: what it builds it also disconnects on unmount. Under StrictMode
 * the double mount reuses the one socket. Rendering on the server builds nothing that talks to the
 * network: connecting happens in an effect.
 *
 * @example
 * <UTDProvider options={{ baseUrl, appId, appKey, userId: "alice" }} media={(s) => new UTDStreamClient({ signaling: s })}>
 *   <App />
 * </UTDProvider>
 */
export function UTDProvider(props: UTDProviderProps): ReactNode {
  const { options, autoConnect = true, onError } = props;
  // The facade built from options is a handle, not app state: built once, side-effect free until connect().
  const [built] = useState(() => (props.signaling ? undefined : new UTDSignaling(options as UTDSignalingOptions)));
  const signaling = props.signaling ?? (built as UTDSignaling);
  const mediaProp = props.media;
  // A media factory runs once per facade (an inline arrow must not build a client per render).
  const [builtMedia] = useState(() => new WeakMap<UTDSignaling, UTDStreamClient>());
  let media: UTDStreamClient | undefined;
  if (typeof mediaProp === "function") {
    media = builtMedia.get(signaling);
    if (!media) {
      media = mediaProp(signaling);
      builtMedia.set(signaling, media);
    }
  } else media = mediaProp;
  const errorRef = useRef(onError);
  errorRef.current = onError;
  const owned = signaling === built;
  useEffect(() => {
    const t = closing.get(signaling);
    if (t) {
      clearTimeout(t);
      closing.delete(signaling);
    }
    if (autoConnect) signaling.connect().catch((err: unknown) => errorRef.current?.(err));
    return () => {
      if (!owned) return;
      closing.set(
        signaling,
        setTimeout(() => {
          closing.delete(signaling);
          signaling.disconnect();
        }, 0),
      );
    };
  }, [signaling, owned, autoConnect]);
  const value = useMemo(() => ({ signaling, media, events: props.events }), [signaling, media, props.events]);
  return createElement(UTDContext.Provider, { value }, props.children);
}

/** The provider's facade, media client and event bus; throws outside `<UTDProvider>`. */
export function useUTD(): UTDContextValue {
  const v = useContext(UTDContext);
  if (!v) throw new Error("@utd-stream/react: this hook needs a <UTDProvider> above it");
  return v;
}

/** The signed-in user's `UTDSignaling`. */
export function useSignaling(): UTDSignaling {
  return useUTD().signaling;
}

/** The chat session on the provider's socket (null until connected). */
export function useChatSession(): ChatSession | null {
  return useStore(chatSessionStore(useSignaling()));
}

/** Scopes a subtree to one conversation: the chat hooks below it default to `id`. */
export function ConversationProvider(props: { id: string; children?: ReactNode }): ReactNode {
  return createElement(ConversationContext.Provider, { value: props.id }, props.children);
}

/** The conversation id given, else the one of the nearest `<ConversationProvider>` (null when neither). */
export function useConversationId(id?: string | null): string | null {
  const scoped = useContext(ConversationContext);
  return id ?? scoped;
}

/**
 * Scopes a subtree to one media session (a `UTDCallSession`, `UTDLiveStreamSession` or
 * `UTDAudioRoomSession`): the call and media hooks below it default to it.
 */
export function CallProvider(props: { session: UTDSession | null; children?: ReactNode }): ReactNode {
  return createElement(SessionContext.Provider, { value: props.session }, props.children);
}

/** The session given, else the nearest `<CallProvider>`'s (null when neither). */
export function useSession<S extends UTDSession = UTDSession>(session?: S | null): S | null {
  const scoped = useContext(SessionContext);
  return (session ?? scoped) as S | null;
}
