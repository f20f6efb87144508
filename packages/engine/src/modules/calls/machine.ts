import type { CallAction, CallEndReason, CallStatus } from "@utd-stream/protocol";

/** Who asks for a transition: a party of the call, or the engine itself (ring timeout). */
export type CallActor = "caller" | "callee" | "system";

/** Everything a transition may be asked for: the participants' actions and the engine's `timeout`. */
export type CallCommand = CallAction | "timeout";

/** The `call.*` event a transition sends. */
export type CallEventType = "call.ringing" | "call.accepted" | "call.rejected" | "call.busy" | "call.missed" | "call.ended";

export interface TransitionInput {
  status: CallStatus;
  actor: CallActor;
  command: CallCommand;
  /** The device asking (callee actions), and the device that accepted, if any. */
  deviceId: string | null;
  answeredDeviceId: string | null;
}

export type TransitionResult =
  /** Apply: new status, why it ended (terminal statuses), and the event to send. */
  | { kind: "change"; to: CallStatus; endReason: CallEndReason | null; event: CallEventType }
  /** A repeat of what already happened (duplicate end, a second device acknowledging): answer with the call, change nothing. */
  | { kind: "same" }
  /** Refused: `forbidden` (wrong party) or `conflict` (illegal from this status). */
  | { kind: "refuse"; code: "forbidden" | "conflict"; message: string };

const RINGING_STATES: readonly CallStatus[] = ["initiating", "ringing"];
const CALLEE_ONLY: readonly CallCommand[] = ["ringing", "accept", "reject", "busy"];

/**
 * The 1:1 call state machine (seed lifecycle `initiating → ringing → active → ended`, or `rejected`,
 * `busy`, `missed`). Pure: the service loads the call, asks this, and applies the answer with a
 * conditional update.
 *
 * - `ringing` (callee device acknowledges): initiating → ringing; more devices acknowledging change nothing.
 * - `accept` (callee): initiating|ringing → active; repeating it from the device that accepted changes nothing.
 * - `reject` (callee): initiating|ringing → rejected. `busy` (callee): → busy.
 * - `end` (either): caller before an answer → ended (canceled); callee before an answer → rejected (declined);
 *   active → ended (hangup); after the end → nothing (idempotent).
 * - `timeout` (engine): initiating|ringing → missed.
 * - `end` (engine, when the call's media room emptied): active → ended (hangup); otherwise nothing.
 */
export function transition(i: TransitionInput): TransitionResult {
  const { status, actor, command } = i;
  if (command === "timeout") {
    if (actor !== "system") return { kind: "refuse", code: "forbidden", message: "only the engine times calls out" };
    return RINGING_STATES.includes(status)
      ? { kind: "change", to: "missed", endReason: "timeout", event: "call.missed" }
      : { kind: "same" };
  }
  if (actor === "system") {
    // The engine ends an answered call whose media room emptied; everything else is the parties' to do.
    if (command !== "end") return { kind: "refuse", code: "forbidden", message: "not a participant action" };
    return status === "active" ? { kind: "change", to: "ended", endReason: "hangup", event: "call.ended" } : { kind: "same" };
  }
  if (CALLEE_ONLY.includes(command) && actor !== "callee") {
    return { kind: "refuse", code: "forbidden", message: `only the callee may ${command === "ringing" ? "acknowledge" : command} a call` };
  }
  const ringing = RINGING_STATES.includes(status);
  const illegal = (): TransitionResult => ({ kind: "refuse", code: "conflict", message: `cannot ${command} a call that is ${status}` });
  switch (command) {
    case "ringing":
      if (status === "initiating") return { kind: "change", to: "ringing", endReason: null, event: "call.ringing" };
      return status === "ringing" ? { kind: "same" } : illegal();
    case "accept":
      if (ringing) return { kind: "change", to: "active", endReason: null, event: "call.accepted" };
      if (status === "active" && i.deviceId === i.answeredDeviceId) return { kind: "same" };
      return illegal();
    case "reject":
      if (ringing) return { kind: "change", to: "rejected", endReason: "declined", event: "call.rejected" };
      return status === "rejected" ? { kind: "same" } : illegal();
    case "busy":
      if (ringing) return { kind: "change", to: "busy", endReason: "busy", event: "call.busy" };
      return status === "busy" ? { kind: "same" } : illegal();
    case "end":
      if (ringing && actor === "caller") return { kind: "change", to: "ended", endReason: "canceled", event: "call.ended" };
      if (ringing) return { kind: "change", to: "rejected", endReason: "declined", event: "call.rejected" };
      if (status === "active") return { kind: "change", to: "ended", endReason: "hangup", event: "call.ended" };
      return { kind: "same" };
  }
}
