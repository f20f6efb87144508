import type { PlanLimits, SessionResponse, WsSession } from "@utd-stream/protocol";
import { date } from "./dates.js";

/** Per-plan limits (seed: `UTDPlanLimits`). */
export interface UTDPlanLimits {
  historyDays: number;
  maxGroupMembers: number;
  maxFriends: number;
  maxChatrooms: number;
  /** Signalling rooms: most members at once. */
  maxRoomMembers: number;
  /** Signalling rooms: broadcasts kept for late joiners. */
  roomHistory: number;
  /** Bytes one user may keep in uploads. */
  maxStorageBytesPerUser: number;
  /** Bytes the whole app may keep in uploads. */
  maxStorageBytesPerApp: number;
}

/**
 * A minted user session (`POST /api/v1/auth/session`): the user token plus the capability flags and plan
 * limits the engine surfaced. (Not to be confused with `UTDSession`, the media SDK's session base class.)
 */
export interface UTDAuthSession {
  userToken: string;
  expiresAt: Date;
  appId: string;
  identity: string;
  name: string | null;
  deviceId: string | null;
  /** null = the engine did not say (treat as unknown, let the server decide). */
  signalingEnabled: boolean | null;
  chatEnabled: boolean | null;
  plan: string;
  planLimits: UTDPlanLimits | null;
  wsUrl: string;
}

/** What the socket's `welcome` says about the session (refreshed on every (re)connect). */
export interface UTDSocketSession {
  appId: string;
  identity: string;
  deviceId: string | null;
  signalingEnabled: boolean;
  chatEnabled: boolean;
  planLimits: UTDPlanLimits;
  expiresAt: Date;
}

/** Wire → SDK: plan limits (null when the engine did not send them). */
export function planLimitsFromWire(p: PlanLimits | null | undefined): UTDPlanLimits | null {
  if (!p) return null;
  return {
    historyDays: p.history_days,
    maxGroupMembers: p.max_group_members,
    maxFriends: p.max_friends,
    maxChatrooms: p.max_chatrooms,
    maxRoomMembers: p.max_room_members,
    roomHistory: p.room_history,
    maxStorageBytesPerUser: p.max_storage_bytes_per_user,
    maxStorageBytesPerApp: p.max_storage_bytes_per_app,
  };
}

/** Wire → SDK: a minted session. */
export function sessionFromWire(s: SessionResponse): UTDAuthSession {
  return {
    userToken: s.user_token,
    expiresAt: date(s.expires_at),
    appId: s.app_id,
    identity: s.user.identity,
    name: s.user.name,
    deviceId: s.device_id,
    signalingEnabled: s.signaling_enabled ?? null,
    chatEnabled: s.messaging_enabled ?? null,
    plan: s.plan,
    planLimits: planLimitsFromWire(s.plan_limits),
    wsUrl: s.ws_url,
  };
}

/** Wire → SDK: the session a `welcome` (or an `auth` reply) describes. */
export function socketSessionFromWire(s: WsSession): UTDSocketSession {
  return {
    appId: s.app_id,
    identity: s.identity,
    deviceId: s.device_id,
    signalingEnabled: s.signaling_enabled,
    chatEnabled: s.messaging_enabled,
    planLimits: planLimitsFromWire(s.plan_limits) as UTDPlanLimits,
    expiresAt: date(s.expires_at),
  };
}
