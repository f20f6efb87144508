import type { WsEventMap, WsEventType } from "@utd-stream/protocol";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { EventSink } from "../src/core/events.js";
import { checkDeclaredEvent } from "./ws-helpers.js";

// The @ts-expect-error lines are checked by `npm run typecheck`: each must stay a compile error.

describe("EventSink", () => {
  it("takes only the data declared for an event's type", () => {
    const sent: [string, unknown][] = [];
    const sink: EventSink = {
      toUsers: (_app, _to, type, data) => {
        sent.push([type, data]);
      },
    };
    sink.toUsers("app", ["bob"], "typing.stopped", { identity: "alice", conversation_id: null, expires_at: null });
    sink.toUsers("app", ["bob"], "friend.updated", { identity: "alice", state: null });
    sink.toUsers("app", ["bob"], "custom.order_shipped", { order: 7, items: ["a"] });
    // @ts-expect-error the data of friend.updated under typing.stopped
    sink.toUsers("app", ["bob"], "typing.stopped", { identity: "alice", state: null });
    // @ts-expect-error a field missing (conversation_id)
    sink.toUsers("app", ["bob"], "typing.started", { identity: "alice", expires_at: null });
    // @ts-expect-error a wrong field type
    sink.toUsers("app", ["bob"], "friend.updated", { identity: "alice", state: "enemies" });
    // @ts-expect-error an undeclared event type
    sink.toUsers("app", ["bob"], "message.sent", {});
    // @ts-expect-error custom data must be JSON
    sink.toUsers("app", ["bob"], "custom.order_shipped", undefined);
    expect(sent.map(([t]) => t)).toEqual([
      "typing.stopped",
      "friend.updated",
      "custom.order_shipped",
      "typing.stopped",
      "typing.started",
      "friend.updated",
      "message.sent",
      "custom.order_shipped",
    ]);
    expectTypeOf<Parameters<EventSink["toUsers"]>[2]>().toEqualTypeOf<WsEventType>();
    type PublishMessageNew = (appId: string, to: readonly string[], type: "message.new", data: WsEventMap["message.new"]) => void;
    expectTypeOf<EventSink["toUsers"]>().toExtend<PublishMessageNew>();
  });
});

describe("checkDeclaredEvent (the WsClient test helper)", () => {
  const typing = { identity: "alice", conversation_id: null, expires_at: null };
  it("passes events of the declared shape, custom events and non-events", () => {
    expect(() => checkDeclaredEvent({ type: "typing.stopped", seq: 1, data: typing })).not.toThrow();
    expect(() => checkDeclaredEvent({ type: "custom.x", seq: 2, data: [1] })).not.toThrow();
    expect(() => checkDeclaredEvent({ type: "reply", id: "r1", data: { anything: true } })).not.toThrow();
  });
  it("fails an undeclared type, a wrong shape and an undeclared field", () => {
    expect(() => checkDeclaredEvent({ type: "typing.paused", seq: 1, data: typing })).toThrow(/not declared/);
    expect(() => checkDeclaredEvent({ type: "typing.stopped", seq: 1, data: { identity: "alice" } })).toThrow(/does not match/);
    expect(() => checkDeclaredEvent({ type: "typing.stopped", seq: 1, data: { ...typing, extra: 1 } })).toThrow(/does not name/);
  });
});
