import { describe, expect, it } from "vitest";
import { Store } from "../src/store.js";
import { camelize, snakeBody } from "../src/wire.js";

describe("wire mapping", () => {
  it("camelizes keys deeply, keeps free-form metadata keys, and leaves values alone", () => {
    const wire = {
      room_name: "show",
      user_token: "t",
      permission: { can_publish: false, can_publish_sources: ["microphone"] },
      seats: [{ seat_index: 1, identity: "user_1" }],
      metadata: { app_key_like: 1 },
    };
    expect(camelize(wire)).toEqual({
      roomName: "show",
      userToken: "t",
      permission: { canPublish: false, canPublishSources: ["microphone"] },
      seats: [{ seatIndex: 1, identity: "user_1" }],
      metadata: { app_key_like: 1 },
    });
  });

  it("snake_cases request bodies and drops undefined fields", () => {
    expect(snakeBody({ calleeIdentity: "bob", seatIndex: 0, modeId: undefined, type: "audio_call" })).toEqual({
      callee_identity: "bob",
      seat_index: 0,
      type: "audio_call",
    });
  });
});

describe("Store", () => {
  it("delivers the current value first, then changes only; `when` resolves on a matching value or rejects after the timeout", async () => {
    const s = new Store(false);
    const seen: boolean[] = [];
    const changes: boolean[] = [];
    const off = s.subscribe((v) => seen.push(v));
    const offChanges = s.onChange((v) => changes.push(v));
    s.set(false);
    s.set(true);
    off();
    offChanges();
    s.set(false);
    expect(seen).toEqual([false, true]);
    expect(changes).toEqual([true]);
    // Unsubscribing from inside the first delivery works (the function exists before the listener runs).
    let calls = 0;
    const once: { off?: () => void } = {};
    once.off = s.subscribe(() => {
      calls++;
      once.off?.();
    });
    once.off();
    s.set(true);
    expect(calls).toBe(1);
    const waiting = s.when((v) => v, 1000);
    s.set(true);
    await expect(waiting).resolves.toBe(true);
    await expect(new Store(0).when((v) => v > 0, 20, "a positive value")).rejects.toThrow(/a positive value/);
  });
});
