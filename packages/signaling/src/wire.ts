/**
 * The one place where wire shapes (snake_case, from @utd-stream/protocol) become the SDK's camelCase
 * types and back. App-supplied data (call `metadata`) passes through untouched.
 */
import type {
  Call,
  CallEndReason,
  CallStatus,
  CallType,
  PlanLimits,
  Presence,
  PresenceStatus,
  PushPlatform,
  PushToken,
  SessionResponse,
  TypingEventData,
  WsSession,
} from "@utd-stream/protocol";

/** Per-plan limits (seed: `UTDPlanLimits`). */
export interface UTDPlanLimits {
  historyDays: number;
  maxGroupMembers: number;
  maxFriends: number;
  maxChatrooms: number;
  /** Members of one signalling room at once. */
  maxRoomMembers: number;
  /** Broadcasts a signalling room may keep for late joiners. */
  roomHistory: number;
  /** Bytes one user may keep in uploads. */
  maxStorageBytesPerUser: number;
  /** Bytes the whole app may keep in uploads. */
  maxStorageBytesPerApp: number;
}

/** A minted session: the user token plus the capability flags and plan limits the engine surfaced. */
export interface UTDSession {
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

/** A 1:1 call. */
export interface UTDCall {
  id: string;
  type: CallType;
  status: CallStatus;
  callerIdentity: string;
  callerName: string | null;
  calleeIdentity: string;
  calleeName: string | null;
  metadata: Record<string, unknown>;
  /** The caller's idempotency key, when one was sent. */
  clientCallId: string | null;
  /** The callee device that answered; another device of the callee sees "answered elsewhere". */
  answeredDeviceId: string | null;
  endReason: CallEndReason | null;
  endedBy: string | null;
  createdAt: Date;
  ringDeadlineAt: Date | null;
  answeredAt: Date | null;
  endedAt: Date | null;
}

/** One identity's presence. */
export interface UTDPresence {
  identity: string;
  status: PresenceStatus;
  lastSeenAt: Date | null;
  devices: string[];
}

/** A typing indicator change. */
export interface UTDTyping {
  identity: string;
  conversationId: string | null;
  expiresAt: Date | null;
}

/** A registered push token. */
export interface UTDPushToken {
  id: string;
  platform: PushPlatform;
  token: string;
  deviceId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const date = (s: string): Date => new Date(s);
const dateOrNull = (s: string | null): Date | null => (s === null ? null : new Date(s));

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

export function sessionFromWire(s: SessionResponse): UTDSession {
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

export function callFromWire(c: Call): UTDCall {
  return {
    id: c.id,
    type: c.type,
    status: c.status,
    callerIdentity: c.caller_identity,
    callerName: c.caller_name,
    calleeIdentity: c.callee_identity,
    calleeName: c.callee_name,
    metadata: c.metadata,
    clientCallId: c.client_call_id,
    answeredDeviceId: c.answered_device_id,
    endReason: c.end_reason,
    endedBy: c.ended_by,
    createdAt: date(c.created_at),
    ringDeadlineAt: dateOrNull(c.ring_deadline_at),
    answeredAt: dateOrNull(c.answered_at),
    endedAt: dateOrNull(c.ended_at),
  };
}

export function presenceFromWire(p: Presence): UTDPresence {
  return { identity: p.identity, status: p.status, lastSeenAt: dateOrNull(p.last_seen_at), devices: p.devices };
}

export function typingFromWire(t: TypingEventData): UTDTyping {
  return { identity: t.identity, conversationId: t.conversation_id, expiresAt: dateOrNull(t.expires_at) };
}

export function pushTokenFromWire(t: PushToken): UTDPushToken {
  return {
    id: t.id,
    platform: t.platform,
    token: t.token,
    deviceId: t.device_id,
    createdAt: date(t.created_at),
    updatedAt: date(t.updated_at),
  };
}
