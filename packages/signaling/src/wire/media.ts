import type {
  MediaRole,
  RoomType,
  SeatMode,
  SeatsState,
  SpeakRequest,
  Stage,
  StageMember,
  StageRequest,
  StageRole,
  TokenResponse,
} from "@utd-stream/protocol";

/** A room token mint's answer (seed: `UTDTokenResponse`): the LiveKit token and URL, and the engine bearer. */
export interface UTDTokenResponse {
  /** LiveKit access token (only needed to join). */
  token: string;
  /** LiveKit WebSocket URL. */
  url: string;
  roomName: string;
  /** The engine bearer for REST calls. */
  userToken: string;
  wsUrl: string | null;
  identity: string;
  type: RoomType;
  role: MediaRole;
  /** When the LiveKit token stops admitting (LiveKit keeps a connected participant in). */
  expiresAt: Date;
}

/** Someone allowed to publish in a live stream (seed: `UTDStageMember`). */
export interface UTDStageMember {
  identity: string;
  name: string | null;
  role: StageRole;
}

/** A viewer's raised hand in a live stream (stored by the engine until invited or gone). */
export interface UTDStageRequest {
  identity: string;
  name: string | null;
  /** When the hand went up (epoch milliseconds). */
  requestedAt: number;
}

/** A live stream's stage: the host and co-hosts, and the raised hands. */
export interface UTDStage {
  roomName: string;
  members: UTDStageMember[];
  /** Raised hands, oldest first. */
  requests: UTDStageRequest[];
}

/** One seat of an audio room. */
export interface UTDSeat {
  index: number;
  /** Who sits here; null when empty. */
  identity: string | null;
  name: string | null;
}

/** A listener's request to speak, or a host's invitation. */
export interface UTDSpeakRequest {
  requestId: number;
  roomName: string;
  identity: string;
  name: string | null;
  kind: SpeakRequest["kind"];
  status: SpeakRequest["status"];
  /** For an invitation: the seat offered, if any. */
  seatIndex: number | null;
}

/** The seat grid, mode and open requests of an audio room. */
export interface UTDSeats {
  roomName: string;
  seatCount: number;
  seatMode: SeatMode;
  modeId: string | null;
  seats: UTDSeat[];
  /** Open requests and invitations (hosts act on them). */
  requests: UTDSpeakRequest[];
}

/** Wire → SDK: a room token mint's answer. */
export function tokenResponseFromWire(t: TokenResponse): UTDTokenResponse {
  return {
    token: t.token,
    url: t.url,
    roomName: t.room_name,
    userToken: t.user_token,
    wsUrl: t.ws_url ?? null,
    identity: t.identity,
    type: t.type,
    role: t.role,
    expiresAt: new Date(t.expires_at),
  };
}

/** Wire → SDK: a stage member. */
export function stageMemberFromWire(m: StageMember): UTDStageMember {
  return { identity: m.identity, name: m.name, role: m.role };
}

/** Wire → SDK: a raised hand. */
export function stageRequestFromWire(r: StageRequest): UTDStageRequest {
  return { identity: r.identity, name: r.name, requestedAt: r.requested_at };
}

/** Wire → SDK: a stage. */
export function stageFromWire(s: Stage): UTDStage {
  return { roomName: s.room_name, members: s.members.map(stageMemberFromWire), requests: (s.requests ?? []).map(stageRequestFromWire) };
}

/** Wire → SDK: a speak request or invitation. */
export function speakRequestFromWire(r: SpeakRequest): UTDSpeakRequest {
  return {
    requestId: r.request_id,
    roomName: r.room_name,
    identity: r.identity,
    name: r.name,
    kind: r.kind,
    status: r.status,
    seatIndex: r.seat_index,
  };
}

/** Wire → SDK: an audio room's seats. */
export function seatsFromWire(s: SeatsState): UTDSeats {
  return {
    roomName: s.room_name,
    seatCount: s.seat_count,
    seatMode: s.seat_mode,
    modeId: s.mode_id,
    seats: s.seats.map((x) => ({ index: x.index, identity: x.identity, name: x.name })),
    requests: s.requests.map(speakRequestFromWire),
  };
}
