import type {
  UTDAudioRoomSession,
  UTDLiveStreamSession,
  UTDSeats,
  UTDSession,
  UTDSpeakRequest,
  UTDStageMember,
  UTDTrackRef,
} from "@utd-stream/media";
import type { UTDStageRequest } from "@utd-stream/signaling";
import { createElement, type ReactNode, useCallback, useEffect, useMemo, useRef, type VideoHTMLAttributes } from "react";
import { useSession } from "./context.js";
import { useStore } from "./store.js";

const NONE: readonly never[] = [];

/** A media session's room: whether it is connected, whether the server lets this user publish, and the controls. */
export function useRoom(session?: UTDSession | null): {
  session: UTDSession | null;
  connected: boolean;
  canPublish: boolean;
  setMicrophone(on: boolean): Promise<void>;
  setCamera(on: boolean): Promise<void>;
  leave(): Promise<void>;
} {
  const s = useSession(session);
  const connected = useStore(s?.connected, false);
  const canPublish = useStore(s?.canPublish, false);
  return useMemo(
    () => ({
      session: s,
      connected,
      canPublish,
      setMicrophone: async (on: boolean) => s?.setMicrophone(on),
      setCamera: async (on: boolean) => s?.room.setCamera(on),
      leave: async () => s?.leave(),
    }),
    [s, connected, canPublish],
  );
}

/** The other participants of the session's room (LiveKit `RemoteParticipant`s). */
export function useParticipants(session?: UTDSession | null): UTDSession["remoteParticipants"]["value"] {
  const s = useSession(session);
  return useStore(s?.remoteParticipants, NONE as unknown as UTDSession["remoteParticipants"]["value"]);
}

/** This user in the room (undefined while not connected) and their published tracks. */
export function useLocalParticipant(session?: UTDSession | null): {
  participant: UTDSession["localParticipant"];
  tracks: readonly UTDTrackRef[];
} {
  const s = useSession(session);
  const all = useStore(s?.tracks, NONE as readonly UTDTrackRef[]);
  useStore(s?.connected, false);
  const tracks = useMemo(() => all.filter((t) => t.local), [all]);
  return { participant: s?.localParticipant, tracks };
}

/** Every track in the room, local first; `sources` keeps only some (`["camera"]` for video tiles). */
export function useTracks(opts: { session?: UTDSession | null; sources?: readonly string[] } = {}): readonly UTDTrackRef[] {
  const s = useSession(opts.session);
  const all = useStore(s?.tracks, NONE as readonly UTDTrackRef[]);
  const key = opts.sources?.join(",") ?? "";
  return useMemo(() => (key ? all.filter((t) => key.split(",").includes(t.source)) : all), [all, key]);
}

interface Attachable {
  attach(el: HTMLMediaElement): HTMLMediaElement;
  detach(el: HTMLMediaElement): HTMLMediaElement;
}

function useAttached(track: Attachable | undefined) {
  const ref = useRef<HTMLMediaElement | null>(null);
  useEffect(() => {
    const el = ref.current;
    if (!track || !el) return;
    track.attach(el);
    return () => {
      track.detach(el);
    };
  }, [track]);
  return ref;
}

/** A `<video>` showing a LiveKit video track: attached on mount and on track change, detached on unmount. */
export function VideoTrack(props: { trackRef?: UTDTrackRef; track?: Attachable } & VideoHTMLAttributes<HTMLVideoElement>): ReactNode {
  const { trackRef, track, ...rest } = props;
  const t = (track ?? trackRef?.track) as Attachable | undefined;
  const ref = useAttached(t);
  return createElement("video", {
    autoPlay: true,
    playsInline: true,
    muted: true,
    "data-identity": trackRef?.identity,
    "data-local": trackRef ? String(trackRef.local) : undefined,
    ...rest,
    ref,
  });
}

/** An `<audio>` playing a LiveKit audio track (render one per remote microphone track). */
export function AudioTrack(props: { trackRef?: UTDTrackRef; track?: Attachable; volume?: number }): ReactNode {
  const t = (props.track ?? props.trackRef?.track) as Attachable | undefined;
  const ref = useAttached(t);
  useEffect(() => {
    if (ref.current && props.volume !== undefined) ref.current.volume = props.volume;
  }, [props.volume, ref]);
  return createElement("audio", { autoPlay: true, ref });
}

/** A live stream's stage: members, raised hands (hosts see them), and the stage actions. */
export function useStage(session?: UTDLiveStreamSession | null): {
  members: readonly UTDStageMember[];
  raisedHands: readonly UTDStageRequest[];
  invite(identity: string): Promise<void>;
  remove(identity: string): Promise<void>;
  request(): Promise<void>;
  leave(): Promise<void>;
} {
  const s = useSession(session) as UTDLiveStreamSession | null;
  const live = s && "stage" in s ? s : null;
  const members = useStore<readonly UTDStageMember[], readonly UTDStageMember[]>(live?.stage, NONE);
  const raisedHands = useStore(live?.raisedHands, NONE as readonly UTDStageRequest[]);
  const need = useCallback(() => {
    if (!live) throw new Error("useStage: no live stream session");
    return live;
  }, [live]);
  return {
    members,
    raisedHands,
    invite: useCallback((id: string) => need().inviteToStage(id), [need]),
    remove: useCallback((id: string) => need().removeFromStage(id), [need]),
    request: useCallback(() => need().requestStage(), [need]),
    leave: useCallback(() => need().leaveStage(), [need]),
  };
}

/** An audio room's seats, the latest speak request or invitation, and the seat actions. */
export function useSeats(session?: UTDAudioRoomSession | null): {
  seats: UTDSeats | null;
  speakRequest: UTDSpeakRequest | null;
  take(index: number): Promise<void>;
  leave(): Promise<void>;
  requestToSpeak(): Promise<UTDSpeakRequest>;
  approve(requestId: number): Promise<void>;
  invite(identity: string, seatIndex?: number): Promise<void>;
} {
  const s = useSession(session) as UTDAudioRoomSession | null;
  const room = s && "seats" in s ? s : null;
  const seats = useStore(room?.seats, null);
  const speakRequest = useStore(room?.speakEvents, null);
  const need = useCallback(() => {
    if (!room) throw new Error("useSeats: no audio room session");
    return room;
  }, [room]);
  return {
    seats,
    speakRequest,
    take: useCallback((i: number) => need().takeSeat(i), [need]),
    leave: useCallback(() => need().leaveSeat(), [need]),
    requestToSpeak: useCallback(() => need().requestToSpeak(), [need]),
    approve: useCallback((id: number) => need().approveSpeaker(id), [need]),
    invite: useCallback(
      (identity: string, seatIndex?: number) => need().inviteToSpeak(identity, seatIndex === undefined ? {} : { seatIndex }),
      [need],
    ),
  };
}
