import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import {
  UTDSignaling,
  type UTDSignalingOptions,
  type UTDSignalRoomMessage,
  UTDStreamException,
  type WebSocketConstructor,
} from "../src/index.js";

const WS = WebSocket as unknown as WebSocketConstructor;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("signalling rooms in the SDK (UTDSignaling.room) against a real engine", () => {
  let e: RunningEngine;
  let app: TestApp;
  let basic: string;
  const opened: UTDSignaling[] = [];
  beforeAll(async () => {
    e = await startEngine({ env: { UTD_ROOMS_GRACE_S: "3", UTD_PRESENCE_GRACE_S: "0" } });
    app = await e.createApp({ plan: "pro" });
    basic = `Basic ${Buffer.from(`${app.app_id}:${app.app_secret}`).toString("base64")}`;
  });
  afterAll(async () => {
    for (const s of opened) s.disconnect();
    await e?.stop();
  });

  async function sdk(userId: string, extra: Partial<UTDSignalingOptions> = {}): Promise<UTDSignaling> {
    const s = new UTDSignaling({
      baseUrl: e.url,
      appId: app.app_id,
      appKey: app.app_key,
      userId,
      name: userId.toUpperCase(),
      WebSocket: WS,
      backoff: { initialMs: 50, maxMs: 300 },
      ...extra,
    });
    opened.push(s);
    await s.connect();
    return s;
  }
  const backend = (method: string, path: string, body?: unknown) =>
    e.request(method, path, { headers: { authorization: basic }, ...(body === undefined ? {} : { body }) });

  test("members and joined stores, messages, memberJoined/memberLeft, publish and leave", async () => {
    const alice = await sdk("alice", { deviceId: "a1" });
    const bob = await sdk("bob", { deviceId: "b1" });
    const a = await alice.room("cursor", { data: { color: "red" } });
    expect(a.joined.value).toBe(true);
    expect(a.role).toBe("member");
    expect(a.canPublish).toBe(true);
    expect(a.members.value.map((m) => [m.identity, m.name, m.data])).toEqual([["alice", "ALICE", { color: "red" }]]);
    const joinedEv: string[] = [];
    a.on("memberJoined", (m) => joinedEv.push(m.identity));
    const b = await bob.room("cursor");
    await a.members.when((ms) => ms.length === 2, 5000);
    expect(joinedEv).toEqual(["bob"]);
    expect(b.members.value.map((m) => m.identity)).toEqual(["alice", "bob"]);
    // Asking again returns the same handle.
    expect(await bob.room("cursor")).toBe(b);

    const got: UTDSignalRoomMessage[] = [];
    a.messages.subscribe((m) => got.push(m));
    expect(await b.publish({ x: 1, y: 2 })).toMatchObject({ offset: 1 });
    await a.publish("not to myself");
    for (let i = 0; i < 100 && got.length === 0; i++) await sleep(20);
    expect(got).toEqual([
      expect.objectContaining({ room: "cursor", offset: 1, from: { identity: "bob", name: "BOB" }, data: { x: 1, y: 2 } }),
    ]);
    expect(got[0]?.sentAt).toBeInstanceOf(Date);

    const leftEv: string[] = [];
    a.on("memberLeft", (x) => leftEv.push(`${x.identity}:${x.reason}`));
    await b.leave();
    expect(b.joined.value).toBe(false);
    await a.members.when((ms) => ms.length === 1, 5000);
    expect(leftEv).toEqual(["bob:left"]);
    await expect(b.publish(1)).rejects.toMatchObject({ code: "not_found" });
  });

  test("after a reconnect the room is rejoined without a leave, and missed broadcasts come once from the history", async () => {
    expect((await backend("PUT", "/api/v1/rooms/party/policy", { policy: "open", history: 20 })).status).toBe(200);
    const host = await sdk("host", { deviceId: "h1" });
    const guest = await sdk("guest", { deviceId: "g1" });
    const h = await host.room("party");
    const g = await guest.room("party");
    await h.members.when((ms) => ms.length === 2, 5000);
    const left: string[] = [];
    h.on("memberLeft", (x) => left.push(x.identity));
    const seen: number[] = [];
    g.messages.subscribe((m) => seen.push(m.data as number));
    const gaps: unknown[] = [];
    g.on("gap", (x) => gaps.push(x));
    await h.publish(1);
    for (let i = 0; i < 100 && seen.length < 1; i++) await sleep(20);

    // The guest's socket drops; while it is away the host publishes; it comes back within the grace period.
    guest.client?.reconnect();
    await h.publish(2);
    await h.publish(3);
    await g.joined.when((v) => v, 5000);
    for (let i = 0; i < 100 && seen.length < 3; i++) await sleep(20);
    await h.publish(4);
    for (let i = 0; i < 100 && seen.length < 4; i++) await sleep(20);
    await sleep(200);
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(gaps).toEqual([]);
    expect(left).toEqual([]);
    expect(h.members.value.find((m) => m.identity === "guest")?.devices).toBe(1);
  });

  test("refusals reject with UTDStreamException; a grant function is asked again for the rejoin; a kick closes the handle", async () => {
    expect((await backend("PUT", "/api/v1/rooms/vip/policy", { policy: "token" })).status).toBe(200);
    const carol = await sdk("carol", { deviceId: "c1" });
    const refused = await carol.room("vip").catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(UTDStreamException);
    expect((refused as UTDStreamException).code).toBe("forbidden");
    let asked = 0;
    const grant = async () => {
      asked++;
      return new SignJWT({ room: "vip", role: "guest" })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject("carol")
        .setExpirationTime("2m")
        .sign(new TextEncoder().encode(app.app_secret));
    };
    const v = await carol.room("vip", { grant });
    expect([v.role, asked]).toEqual(["guest", 1]);
    carol.client?.reconnect();
    await sleep(100);
    await v.joined.when((x) => x, 5000);
    expect(asked).toBe(2);

    const closed: string[] = [];
    v.on("closed", (c) => closed.push(c.reason));
    expect((await backend("DELETE", "/api/v1/rooms/vip/members/carol")).status).toBe(204);
    for (let i = 0; i < 100 && closed.length === 0; i++) await sleep(20);
    expect(closed).toEqual(["kicked"]);
    expect(v.joined.value).toBe(false);
    // No rejoin after a kick, even across a reconnect.
    carol.client?.reconnect();
    await sleep(500);
    expect(v.joined.value).toBe(false);
    expect((await backend("GET", "/api/v1/rooms/vip/members")).status).toBe(404);
  });
});
