/** Why a call reached its terminal status. */
export const CALL_END_REASONS = ["canceled", "declined", "busy", "timeout", "hangup"] as const;
export type CallEndReason = (typeof CALL_END_REASONS)[number];

/** Transitions a participant may ask for (`POST /api/v1/calls/{id}/<action>`). */
export const CALL_ACTIONS = ["ringing", "accept", "reject", "busy", "end"] as const;
export type CallAction = (typeof CALL_ACTIONS)[number];

/** The `call.*` events and which transition sends each (to every device of both parties, `call.incoming` to the callee only). */
export const CALL_EVENTS = {
  incoming: "call.incoming",
  ringing: "call.ringing",
  accepted: "call.accepted",
  rejected: "call.rejected",
  busy: "call.busy",
  missed: "call.missed",
  ended: "call.ended",
} as const;
