import {
  type CallEventData,
  type ConversationEvent,
  type CustomEventData,
  type FriendEvent,
  isWsEvent,
  isWsEventType,
  type KnownWsEventType,
  type MemberEvent,
  type Message,
  type PresenceChangedData,
  type ReactionEvent,
  type ReceiptEvent,
  type SeatsState,
  type SpeakEvent,
  type Stage,
  type StageRequestedEvent,
  type SupportEvent,
  type TypingEventData,
  WS_EVENT_TYPES,
  WS_EVENTS,
  type WsEvent,
  type WsEventMap,
  type WsEventType,
} from "@utd-stream/protocol/schemas";
import { describe, expect, expectTypeOf, it } from "vitest";

// The type assertions below are checked by `npm run typecheck` (tsconfig.tests.json); the `it`s run in `npm test`.

describe("WsEventMap", () => {
  it("holds every event's data type", () => {
    expectTypeOf<WsEventMap["presence.changed"]>().toEqualTypeOf<PresenceChangedData>();
    for (const t of ["incoming", "ringing", "accepted", "rejected", "busy", "missed", "ended"] as const) {
      expectTypeOf<WsEventMap[`call.${typeof t}`]>().toEqualTypeOf<CallEventData>();
    }
    expectTypeOf<WsEventMap["call.incoming"]>().toEqualTypeOf<CallEventData>();
    expectTypeOf<WsEventMap["call.ringing"]>().toEqualTypeOf<CallEventData>();
    expectTypeOf<WsEventMap["call.accepted"]>().toEqualTypeOf<CallEventData>();
    expectTypeOf<WsEventMap["call.rejected"]>().toEqualTypeOf<CallEventData>();
    expectTypeOf<WsEventMap["call.busy"]>().toEqualTypeOf<CallEventData>();
    expectTypeOf<WsEventMap["call.missed"]>().toEqualTypeOf<CallEventData>();
    expectTypeOf<WsEventMap["call.ended"]>().toEqualTypeOf<CallEventData>();
    expectTypeOf<WsEventMap["typing.started"]>().toEqualTypeOf<TypingEventData>();
    expectTypeOf<WsEventMap["typing.stopped"]>().toEqualTypeOf<TypingEventData>();
    expectTypeOf<WsEventMap["message.new"]>().toEqualTypeOf<Message>();
    expectTypeOf<WsEventMap["message.updated"]>().toEqualTypeOf<Message>();
    expectTypeOf<WsEventMap["message.deleted"]>().toEqualTypeOf<Message>();
    expectTypeOf<WsEventMap["reaction.added"]>().toEqualTypeOf<ReactionEvent>();
    expectTypeOf<WsEventMap["reaction.removed"]>().toEqualTypeOf<ReactionEvent>();
    expectTypeOf<WsEventMap["receipt.read"]>().toEqualTypeOf<ReceiptEvent>();
    expectTypeOf<WsEventMap["conversation.updated"]>().toEqualTypeOf<ConversationEvent>();
    expectTypeOf<WsEventMap["member.added"]>().toEqualTypeOf<MemberEvent>();
    expectTypeOf<WsEventMap["member.removed"]>().toEqualTypeOf<MemberEvent>();
    expectTypeOf<WsEventMap["member.updated"]>().toEqualTypeOf<MemberEvent>();
    expectTypeOf<WsEventMap["friend.updated"]>().toEqualTypeOf<FriendEvent>();
    expectTypeOf<WsEventMap["support.updated"]>().toEqualTypeOf<SupportEvent>();
    expectTypeOf<WsEventMap["stage.updated"]>().toEqualTypeOf<Stage>();
    expectTypeOf<WsEventMap["stage.requested"]>().toEqualTypeOf<StageRequestedEvent>();
    expectTypeOf<WsEventMap["seats.updated"]>().toEqualTypeOf<SeatsState>();
    expectTypeOf<WsEventMap["speak.requested"]>().toEqualTypeOf<SpeakEvent>();
    expectTypeOf<WsEventMap["speak.invited"]>().toEqualTypeOf<SpeakEvent>();
    expectTypeOf<WsEventMap["speak.approved"]>().toEqualTypeOf<SpeakEvent>();
    expectTypeOf<WsEventMap["custom.order_shipped"]>().toEqualTypeOf<CustomEventData>();
  });

  it("has no other engine events than those listed above, and WS_EVENT_TYPES names them all", () => {
    type Listed =
      | "presence.changed"
      | `call.${"incoming" | "ringing" | "accepted" | "rejected" | "busy" | "missed" | "ended"}`
      | `typing.${"started" | "stopped"}`
      | `message.${"new" | "updated" | "deleted"}`
      | `reaction.${"added" | "removed"}`
      | "receipt.read"
      | "conversation.updated"
      | "thread.updated"
      | `member.${"added" | "removed" | "updated"}`
      | "friend.updated"
      | "support.updated"
      | `stage.${"updated" | "requested"}`
      | "seats.updated"
      | `speak.${"requested" | "invited" | "approved"}`;
    expectTypeOf<KnownWsEventType>().toEqualTypeOf<Listed>();
    expectTypeOf<(typeof WS_EVENT_TYPES)[number]>().toEqualTypeOf<KnownWsEventType>();
    expectTypeOf<WsEventType>().toEqualTypeOf<Listed | `custom.${string}`>();
    expect([...WS_EVENT_TYPES].sort()).toEqual(Object.keys(WS_EVENTS).sort());
    expect(new Set(WS_EVENT_TYPES).size).toBe(WS_EVENT_TYPES.length);
  });

  it("narrows a WsEvent union by its type", () => {
    const seen: string[] = [];
    const handle = (ev: WsEvent) => {
      switch (ev.type) {
        case "message.new":
          expectTypeOf(ev.data).toEqualTypeOf<Message>();
          seen.push(ev.data.id);
          return;
        case "call.incoming":
          expectTypeOf(ev.data).toEqualTypeOf<CallEventData>();
          seen.push(ev.data.call.id);
          return;
      }
    };
    handle({ type: "call.incoming", seq: 1, data: { call: { id: "call_1" } as CallEventData["call"] } });
    expect(seen).toEqual(["call_1"]);
    expectTypeOf<WsEvent<"seats.updated">>().toEqualTypeOf<{ type: "seats.updated"; seq: number; data: SeatsState }>();
  });
});

describe("isWsEvent", () => {
  it("accepts the declared types and custom.<name>, and nothing else", () => {
    for (const t of WS_EVENT_TYPES) expect(isWsEventType(t)).toBe(true);
    expect(isWsEventType("custom.order_shipped")).toBe(true);
    for (const t of ["message.sent", "custom.", "custom.a b", "welcome", "reply", "", "presence.changed "])
      expect(isWsEventType(t)).toBe(false);
    const raw = { type: "typing.started", seq: 3, data: { identity: "bob", conversation_id: null, expires_at: null } as unknown };
    if (!isWsEvent(raw)) throw new Error("typing.started is declared");
    expectTypeOf(raw).toExtend<WsEvent>();
    expect(isWsEvent({ type: "future.event", seq: 4, data: {} })).toBe(false);
  });
});

describe("WS_EVENTS", () => {
  it("declares a schema, recipients and a meaning for every event", () => {
    for (const [type, def] of Object.entries(WS_EVENTS)) {
      expect(type).toMatch(/^[a-z]+\.[a-z_]+$/);
      expect(def.to.length, type).toBeGreaterThan(3);
      expect(def.doc.length, type).toBeGreaterThan(10);
      expect(typeof def.data.safeParse, type).toBe("function");
    }
  });

  it("refuses data of the wrong shape", () => {
    expect(WS_EVENTS["typing.stopped"].data.safeParse({ identity: "bob", conversation_id: null, expires_at: null }).success).toBe(true);
    expect(WS_EVENTS["typing.stopped"].data.safeParse({ identity: "bob" }).success).toBe(false);
    expect(WS_EVENTS["friend.updated"].data.safeParse({ identity: "bob", state: "enemies" }).success).toBe(false);
  });
});
