import type { Call, CallEndReason, CallMedia, CallStatus, CallType } from "@utd-stream/protocol";
import { date, dateOrNull } from "./dates.js";

/** A 1:1 call (seed: `UTDCall`). */
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

/** A call's media: the LiveKit token and URL for its room (what each party of an active call joins with). */
export interface UTDCallMedia {
  token: string;
  url: string;
  roomName: string;
  expiresAt: Date;
}

/** Wire → SDK: a call. App `metadata` passes through untouched. */
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

/** Wire → SDK: a call's media. */
export function callMediaFromWire(m: CallMedia): UTDCallMedia {
  return { token: m.token, url: m.url, roomName: m.room_name, expiresAt: date(m.expires_at) };
}
