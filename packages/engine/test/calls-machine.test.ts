import { CALL_STATUSES, type CallStatus, TERMINAL_CALL_STATUSES } from "@utd-stream/protocol";
import { describe, expect, test } from "vitest";
import { type CallActor, type CallCommand, transition } from "../src/modules/calls/machine.js";

const t = (
  status: CallStatus,
  actor: CallActor,
  command: CallCommand,
  deviceId: string | null = "d1",
  answeredDeviceId: string | null = null,
) => transition({ status, actor, command, deviceId, answeredDeviceId });

describe("call state machine", () => {
  test("the happy path: initiating → ringing → active → ended", () => {
    expect(t("initiating", "callee", "ringing")).toEqual({ kind: "change", to: "ringing", endReason: null, event: "call.ringing" });
    expect(t("ringing", "callee", "accept")).toEqual({ kind: "change", to: "active", endReason: null, event: "call.accepted" });
    expect(t("active", "caller", "end")).toEqual({ kind: "change", to: "ended", endReason: "hangup", event: "call.ended" });
    expect(t("active", "callee", "end")).toMatchObject({ kind: "change", to: "ended", endReason: "hangup" });
  });

  test("accept straight from initiating; reject, busy, cancel, decline-by-end", () => {
    expect(t("initiating", "callee", "accept")).toMatchObject({ to: "active" });
    expect(t("ringing", "callee", "reject")).toMatchObject({ to: "rejected", endReason: "declined", event: "call.rejected" });
    expect(t("initiating", "callee", "busy")).toMatchObject({ to: "busy", endReason: "busy", event: "call.busy" });
    expect(t("ringing", "caller", "end")).toMatchObject({ to: "ended", endReason: "canceled", event: "call.ended" });
    expect(t("ringing", "callee", "end")).toMatchObject({ to: "rejected", endReason: "declined" });
  });

  test("timeout: only the engine, only while ringing", () => {
    expect(t("initiating", "system", "timeout")).toMatchObject({ to: "missed", endReason: "timeout", event: "call.missed" });
    expect(t("ringing", "system", "timeout")).toMatchObject({ to: "missed" });
    expect(t("active", "system", "timeout")).toEqual({ kind: "same" });
    expect(t("ringing", "caller", "timeout")).toMatchObject({ kind: "refuse", code: "forbidden" });
    expect(t("ringing", "system", "accept")).toMatchObject({ kind: "refuse", code: "forbidden" });
  });

  test("the engine may end only an active call (its media room emptied), and nothing else", () => {
    expect(t("active", "system", "end")).toMatchObject({ to: "ended", endReason: "hangup", event: "call.ended" });
    for (const s of ["initiating", "ringing", "ended", "rejected", "busy", "missed"] as const)
      expect(t(s, "system", "end")).toEqual({ kind: "same" });
    for (const c of ["ringing", "accept", "reject", "busy"] as const) expect(t("ringing", "system", c)).toMatchObject({ kind: "refuse" });
  });

  test("only the callee may acknowledge, accept, reject or answer busy", () => {
    for (const c of ["ringing", "accept", "reject", "busy"] as const) {
      expect(t("initiating", "caller", c)).toMatchObject({ kind: "refuse", code: "forbidden" });
      expect(t("ringing", "caller", c)).toMatchObject({ kind: "refuse", code: "forbidden" });
    }
  });

  test("repeats are harmless: end after the end, a second device ringing, accept again from the same device", () => {
    for (const s of TERMINAL_CALL_STATUSES) {
      expect(t(s, "caller", "end")).toEqual({ kind: "same" });
      expect(t(s, "callee", "end")).toEqual({ kind: "same" });
    }
    expect(t("ringing", "callee", "ringing")).toEqual({ kind: "same" });
    expect(t("active", "callee", "accept", "d1", "d1")).toEqual({ kind: "same" });
    expect(t("rejected", "callee", "reject")).toEqual({ kind: "same" });
    expect(t("busy", "callee", "busy")).toEqual({ kind: "same" });
  });

  test("illegal transitions are conflicts", () => {
    expect(t("active", "callee", "accept", "d2", "d1")).toMatchObject({ kind: "refuse", code: "conflict" });
    expect(t("active", "callee", "ringing")).toMatchObject({ kind: "refuse", code: "conflict" });
    expect(t("active", "callee", "reject")).toMatchObject({ kind: "refuse", code: "conflict" });
    expect(t("active", "callee", "busy")).toMatchObject({ kind: "refuse", code: "conflict" });
    for (const s of ["ended", "missed", "busy"] as const)
      expect(t(s, "callee", "accept")).toMatchObject({ kind: "refuse", code: "conflict" });
    expect(t("missed", "callee", "ringing")).toMatchObject({ kind: "refuse", code: "conflict" });
    expect(t("ended", "callee", "reject")).toMatchObject({ kind: "refuse", code: "conflict" });
  });

  test("every status × actor × command has an answer, and changes only lead to statuses of the lifecycle", () => {
    for (const status of CALL_STATUSES)
      for (const actor of ["caller", "callee", "system"] as const)
        for (const command of ["ringing", "accept", "reject", "busy", "end", "timeout"] as const) {
          const r = t(status, actor, command);
          if (r.kind === "change") {
            expect(CALL_STATUSES).toContain(r.to);
            expect(TERMINAL_CALL_STATUSES.includes(status)).toBe(false);
          }
        }
  });
});
