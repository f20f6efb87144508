import {
  isSignalRoomFrame,
  RoomJoinFrameSchema,
  RoomPolicyRequestSchema,
  SIGNAL_ROOM_FRAME_DEFS,
  SIGNAL_ROOM_FRAME_TYPES,
  type SignalRoomFrameMap,
  type SignalRoomFrameType,
  WS_EVENTS,
} from "@utd-stream/protocol/schemas";
import { describe, expect, expectTypeOf, it } from "vitest";

describe("signalling-room frames", () => {
  it("SIGNAL_ROOM_FRAME_TYPES names every declared frame, none of which is a stream event", () => {
    expectTypeOf<(typeof SIGNAL_ROOM_FRAME_TYPES)[number]>().toEqualTypeOf<SignalRoomFrameType>();
    expect([...SIGNAL_ROOM_FRAME_TYPES].sort()).toEqual(Object.keys(SIGNAL_ROOM_FRAME_DEFS).sort());
    for (const t of SIGNAL_ROOM_FRAME_TYPES) expect(Object.hasOwn(WS_EVENTS, t)).toBe(false);
    expectTypeOf<SignalRoomFrameMap["room.left"]["reason"]>().toEqualTypeOf<
      "left" | "disconnected" | "kicked" | "banned" | "feature_disabled"
    >();
  });

  it("isSignalRoomFrame narrows by type and refuses stream events and unknown types", () => {
    const f: { type: string; data?: unknown; seq?: unknown } = {
      type: "room.left",
      data: { room: "r", identity: "a", devices: 0, reason: "left" },
    };
    expect(isSignalRoomFrame(f)).toBe(true);
    if (isSignalRoomFrame(f) && f.type === "room.left") expectTypeOf(f.data.devices).toEqualTypeOf<number>();
    expect(isSignalRoomFrame({ type: "room.left", seq: 3, data: {} })).toBe(false);
    expect(isSignalRoomFrame({ type: "room.unknown", data: {} })).toBe(false);
    expect(isSignalRoomFrame({ type: "room.message" })).toBe(false);
  });

  it("verbs and policies refuse bad input", () => {
    expect(RoomJoinFrameSchema.safeParse({ type: "room.join", room: "lobby" }).success).toBe(true);
    expect(RoomJoinFrameSchema.safeParse({ type: "room.join", room: "a b" }).success).toBe(false);
    expect(RoomJoinFrameSchema.safeParse({ type: "room.join", room: "lobby", data: { x: "y".repeat(2000) } }).success).toBe(false);
    expect(RoomJoinFrameSchema.safeParse({ type: "room.join", room: "lobby", since: { epoch: "e", offset: -1 } }).success).toBe(false);
    expect(RoomJoinFrameSchema.safeParse({ type: "room.join", room: "lobby", extra: 1 }).success).toBe(false);
    expect(RoomPolicyRequestSchema.safeParse({ policy: "everyone" }).success).toBe(false);
    expect(RoomPolicyRequestSchema.safeParse({ policy: "members", members: [{ identity: "a", role: "bad role" }] }).success).toBe(false);
    expect(RoomPolicyRequestSchema.safeParse({ policy: "open", max_members: 0 }).success).toBe(false);
  });
});
