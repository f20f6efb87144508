// UTDCallSession follows its call on the signalling socket, on both sides and through every end. Only
// REST and the socket are used (no LiveKit), so it runs under Node against a real engine.

import { type FetchLike, type UTDCall, UTDSignaling } from "@utd-stream/signaling";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import { type UTDCallSession, UTDStreamClient } from "../src/index.js";

const WAIT = 10_000;

describe("UTDCallSession on the signalling socket (no polling)", () => {
  let engine: RunningEngine;
  let app: TestApp;
  const open: { disconnect(): void }[] = [];
  beforeAll(async () => {
    engine = await startEngine({ env: { UTD_CALL_RING_TIMEOUT_S: "2" } });
    app = await engine.createApp({ plan: "pro" });
  });
  afterAll(async () => {
    for (const c of open) c.disconnect();
    await engine?.stop();
  });

  /** A user's media client; `requests` counts the REST calls it makes. */
  function media(identity: string, deviceId = `${identity}-dev`) {
    const requests: string[] = [];
    const fetch: FetchLike = (url, init) => {
      requests.push(`${init?.method ?? "GET"} ${new URL(url).pathname}`);
      return globalThis.fetch(url, init);
    };
    const client = new UTDStreamClient({ appId: app.app_id, appKey: app.app_key, baseUrl: engine.url, WebSocket, fetch });
    open.push(client);
    return { client, requests, auth: () => client.authenticate({ identity, deviceId }) };
  }

  /** A user on the signalling facade, with the calls ringing on this device. */
  async function user(identity: string, deviceId = `${identity}-dev`, autoAcknowledgeCalls = true): Promise<UTDSignaling> {
    const s = new UTDSignaling({
      baseUrl: engine.url,
      appId: app.app_id,
      appKey: app.app_key,
      userId: identity,
      deviceId,
      WebSocket,
      autoAcknowledgeCalls,
    });
    open.push(s);
    await s.connect();
    return s;
  }

  const ringing = (s: UTDSignaling): Promise<UTDCall> =>
    s.incomingCalls.when((calls) => calls.length > 0, WAIT, "an incoming call").then((calls) => calls[0] as UTDCall);

  async function ends(session: UTDCallSession, status: string, reason: string): Promise<void> {
    await session.status.when((s) => s === status, WAIT, `status ${status}`);
    expect(session.endReason.value).toBe(reason);
  }

  it("the callee's session leaves `ringing` when the caller cancels (an incoming-call screen clears)", async () => {
    const caller = await user("cancel-alice");
    const calleeDevice = await user("cancel-bob");
    const callee = media("cancel-bob");
    await callee.auth();
    const invite = caller.invite("cancel-bob", { type: "audio_call" });
    const incoming = await ringing(calleeDevice);
    const session = callee.client.callSession("audio_call");
    await session.ringing(incoming.id);
    expect(session.status.value).toBe("ringing");
    await caller.end((await invite).id);
    await session.status.when((s) => s === "ended", WAIT, "the cancelled call to end on the callee's side");
    expect(session.endReason.value).toBe("canceled");
  });

  it("the caller follows ringing → rejected, busy and missed from socket events, without polling", async () => {
    const bob = await user("ends-bob");
    const alice = media("ends-alice");
    await alice.auth();

    const rejected = alice.client.callSession("audio_call");
    await rejected.start({ calleeIdentity: "ends-bob" });
    await rejected.status.when((s) => s === "ringing", WAIT, "ringing (bob's device acknowledged)");
    const before = alice.requests.length;
    await bob.reject((await ringing(bob)).id);
    await ends(rejected, "rejected", "declined");
    // Between the invite and the end, the caller asked the engine nothing: the socket told it.
    expect(alice.requests.slice(before)).toEqual([]);
    await bob.incomingCalls.when((c) => c.length === 0, WAIT);

    const busy = alice.client.callSession("video_call");
    await busy.start({ calleeIdentity: "ends-bob" });
    await bob.busy((await ringing(bob)).id);
    await ends(busy, "busy", "busy");
    await bob.incomingCalls.when((c) => c.length === 0, WAIT);

    const missed = alice.client.callSession("audio_call");
    await missed.start({ calleeIdentity: "ends-bob" });
    await ends(missed, "missed", "timeout"); // UTD_CALL_RING_TIMEOUT_S=2
  });

  it("answered: the caller's session goes active (and says the engine has no media), then ends on the callee's hang-up", async () => {
    const bob = await user("active-bob");
    const alice = media("active-alice");
    await alice.auth();
    const session = alice.client.callSession("audio_call");
    await session.start({ calleeIdentity: "active-bob" });
    const call = await ringing(bob);
    await bob.accept(call.id);
    await session.status.when((s) => s === "active", WAIT, "active");
    // Joining the room needs LiveKit, which this engine has not: the error is kept, the call stays up.
    await session.mediaError.when((e) => e !== null, WAIT, "the media error");
    expect(session.mediaError.value?.code).toBe("media_unavailable");
    expect(session.endReason.value).toBeNull();
    await bob.end(call.id);
    await ends(session, "ended", "hangup");
  });

  it("answered elsewhere: a second device of the callee watching the call sees it end for itself", async () => {
    const alice = await user("elsewhere-alice");
    const phone = await user("elsewhere-bob", "bob-phone");
    const laptop = media("elsewhere-bob", "bob-laptop");
    await laptop.auth();
    const laptopSignaling = laptop.client.signaling as UTDSignaling;
    await laptopSignaling.connect();
    await alice.invite("elsewhere-bob", { type: "audio_call" });
    const incoming = await ringing(laptopSignaling);
    const session = laptop.client.callSession("audio_call");
    session.watch(incoming);
    await phone.accept((await ringing(phone)).id);
    await session.endReason.when((r) => r !== null, WAIT, "an end reason");
    expect(session.endReason.value).toBe("answered_elsewhere");
    expect(session.status.value).toBe("active");
    await alice.end(incoming.id);
  });

  it("one session per user: a media client on a connected UTDSignaling reuses its token and socket", async () => {
    const bob = await user("shared-bob");
    const alice = await user("shared-alice");
    const client = new UTDStreamClient({ signaling: alice });
    const before = alice.tokens.peek();
    const session = client.callSession("video_call");
    await session.start({ calleeIdentity: "shared-bob" });
    await bob.reject((await ringing(bob)).id);
    await ends(session, "rejected", "declined");
    expect(alice.tokens.peek()).toBe(before);
    expect(client.signaling).toBe(alice);
  });
});
