import type { UTDCallSession, UTDStreamType } from "@utd-stream/media";
import type { ReadableStore, UTDCall } from "@utd-stream/signaling";
import { useCallback, useMemo } from "react";
import { useSession, useUTD } from "./context.js";
import { useStore } from "./store.js";

const NO_CALLS: readonly UTDCall[] = [];

function needMedia(media: unknown, hook: string): asserts media {
  if (!media) throw new Error(`${hook}: give <UTDProvider> a media client (media={(s) => new UTDStreamClient({ signaling: s })})`);
}

/** Calls ringing on this device, and how to answer them. */
export function useIncomingCalls(): {
  calls: readonly UTDCall[];
  /** Accepts on this device: a call session that joins the call's room (needs the provider's media client). */
  accept(call: UTDCall): Promise<UTDCallSession>;
  reject(call: UTDCall): Promise<void>;
} {
  const { signaling, media } = useUTD();
  const calls = useStore(signaling.incomingCalls, NO_CALLS);
  const accept = useCallback(
    async (call: UTDCall) => {
      needMedia(media, "useIncomingCalls().accept");
      const s = media.callSession(call.type as UTDStreamType);
      await s.accept(call.id);
      return s;
    },
    [media],
  );
  const reject = useCallback(
    async (call: UTDCall) => {
      await signaling.reject(call.id);
    },
    [signaling],
  );
  return { calls, accept, reject };
}

/** What {@link useCall} returns. */
export interface UseCall {
  call: UTDCall | null;
  status: UTDCall["status"] | null;
  /** Why it is over for this device (call sessions only: `answered_elsewhere`, `declined` …). */
  endReason: string | null;
  accept(): Promise<void>;
  reject(): Promise<void>;
  end(): Promise<void>;
}

/**
 * One call, live: a call session (given, or the `<CallProvider>`'s) — status, end reason, accept (joins
 * the media room), reject, end (leaves it); or a call without a session (e.g. an incoming one) through
 * the signalling facade.
 */
export function useCall(target?: UTDCallSession | UTDCall | null): UseCall {
  const { signaling } = useUTD();
  const isCall = (t: unknown): t is UTDCall => !!t && typeof t === "object" && "calleeIdentity" in t;
  const scoped = useSession<UTDCallSession>(isCall(target) ? null : target);
  const session = isCall(target) ? null : scoped && "callId" in scoped ? scoped : null;
  const plain = isCall(target) ? target : null;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the store follows the call's id, not each view of it
  const callStore = useMemo<ReadableStore<UTDCall | null> | undefined>(
    () => (plain ? signaling.callState(plain) : session?.call),
    [plain?.id, session, signaling],
  );
  const call = useStore(callStore, null);
  const endReason = useStore(session?.endReason, null);
  const id = call?.id ?? null;
  const accept = useCallback(async () => {
    if (!id) return;
    if (session) await session.accept(id);
    else await signaling.accept(id);
  }, [id, session, signaling]);
  const reject = useCallback(async () => {
    if (!id) return;
    if (session) await session.reject(id);
    else await signaling.reject(id);
  }, [id, session, signaling]);
  const end = useCallback(async () => {
    if (session) await session.end();
    else if (id) await signaling.end(id);
  }, [id, session, signaling]);
  return { call, status: call?.status ?? null, endReason, accept, reject, end };
}

/** Starts calls: `start(calleeId)` rings them and returns the call session (put it in a `<CallProvider>`). */
export function useOutgoingCall(): {
  start(
    calleeIdentity: string,
    opts?: { type?: "audio_call" | "video_call"; calleeName?: string; metadata?: Record<string, unknown> },
  ): Promise<UTDCallSession>;
} {
  const { media } = useUTD();
  const start = useCallback(
    async (
      calleeIdentity: string,
      opts: { type?: "audio_call" | "video_call"; calleeName?: string; metadata?: Record<string, unknown> } = {},
    ) => {
      needMedia(media, "useOutgoingCall().start");
      const s = media.callSession(opts.type ?? "video_call");
      const p: Parameters<UTDCallSession["start"]>[0] = { calleeIdentity };
      if (opts.calleeName !== undefined) p.calleeName = opts.calleeName;
      if (opts.metadata !== undefined) p.metadata = opts.metadata;
      await s.start(p);
      return s;
    },
    [media],
  );
  return { start };
}
