// `?engine=&app=&key=&me=&mode=live|audio&host=1`: joins a live stream or an audio room on a button and shows
// what the media hooks say (useRoom, useParticipants, useTracks + <VideoTrack>, useStage, useSeats).
import { type UTDAudioRoomSession, type UTDLiveStreamSession, type UTDSession, UTDStreamClient } from "@utd-stream/media";
import {
  CallProvider,
  UTDProvider,
  useParticipants,
  useRoom,
  useSeats,
  useSession,
  useStage,
  useTracks,
  useUTD,
  VideoTrack,
} from "@utd-stream/react";
import { StrictMode, useState } from "react";
import { createRoot } from "react-dom/client";

const q = new URLSearchParams(location.search);
const me = q.get("me") ?? "";
const host = q.get("host") === "1";
const live = q.get("mode") === "live";

function Join() {
  const { media } = useUTD();
  const [session, setSession] = useState<UTDSession | null>(null);
  const join = async () => {
    if (!media) return;
    const o = { identity: me, roomName: live ? "react-stage" : "react-seats", asHost: host };
    setSession(live ? await media.joinLiveStream(o) : await media.joinAudioRoom(host ? { ...o, seatCount: 4, seatMode: "free" } : o));
  };
  return session ? (
    <CallProvider session={session}>
      <Room />
      {live ? <Stage /> : <Seats />}
    </CallProvider>
  ) : (
    <button type="button" data-testid="join" onClick={() => void join()}>
      Join
    </button>
  );
}

function Room() {
  const { connected, canPublish } = useRoom();
  const others = useParticipants();
  const cameras = useTracks({ sources: ["camera"] });
  return (
    <div>
      <p data-testid="room" data-connected={String(connected)} data-can-publish={String(canPublish)}>
        others: <span data-testid="others">{others.map((p) => p.identity).join(",")}</span>
      </p>
      {cameras.map((t) => (
        <div key={`${t.identity}/${t.source}`} data-testid="tile" data-identity={t.identity}>
          <VideoTrack trackRef={t} width={160} />
        </div>
      ))}
    </div>
  );
}

function Stage() {
  const session = useSession<UTDLiveStreamSession>();
  const { members, raisedHands, invite, request } = useStage();
  return (
    <div>
      <button type="button" data-testid="go-live" onClick={() => void session?.goLive()}>
        Go live
      </button>
      <button type="button" data-testid="raise" onClick={() => void request()}>
        Raise hand
      </button>
      <p data-testid="members">{members.map((m) => m.identity).join(",")}</p>
      {raisedHands.map((h) => (
        <button type="button" key={h.identity} data-testid="hand" data-identity={h.identity} onClick={() => void invite(h.identity)}>
          Invite {h.identity}
        </button>
      ))}
    </div>
  );
}

function Seats() {
  const session = useSession<UTDAudioRoomSession>();
  const { seats, take, leave } = useSeats();
  return (
    <div data-testid="seats" data-ready={String(Boolean(session && seats))}>
      {seats?.seats.map((s) => (
        <button
          type="button"
          key={s.index}
          data-testid="seat"
          data-index={s.index}
          data-identity={s.identity ?? ""}
          onClick={() => void take(s.index)}
        >
          {s.index}: {s.identity ?? "empty"}
        </button>
      ))}
      <button type="button" data-testid="stand" onClick={() => void leave()}>
        Stand up
      </button>
    </div>
  );
}

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <UTDProvider
      options={{ baseUrl: q.get("engine") ?? "", appId: q.get("app") ?? "", appKey: q.get("key") ?? "", userId: me }}
      media={(signaling) => new UTDStreamClient({ signaling })}
    >
      <Join />
    </UTDProvider>
  </StrictMode>,
);
