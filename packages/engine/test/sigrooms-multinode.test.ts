import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RoomLeftData, RoomMember, RoomMembersData, RoomMessageData } from "@utd-stream/protocol";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freshPostgres, redisUrlOrSkip } from "../../../test/helpers/backends.js";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import { WsClient } from "./ws-helpers.js";

const pg = await freshPostgres("signalling rooms multi-node tests");
const redisUrl = pg ? await redisUrlOrSkip("signalling rooms multi-node tests") : undefined;
if (pg && !redisUrl) await pg.drop();

describe.skipIf(!pg || !redisUrl)("signalling rooms across two engine nodes (PostgreSQL + Redis)", () => {
  let n1: RunningEngine;
  let n2: RunningEngine;
  let app: TestApp;
  let basic: string;
  const dirs = [mkdtempSync(join(tmpdir(), "utd-r1-")), mkdtempSync(join(tmpdir(), "utd-r2-"))];
  const open: WsClient[] = [];
  beforeAll(async () => {
    const env = {
      DATABASE_URL: pg?.url as string,
      REDIS_URL: redisUrl as string,
      UTD_TOKEN_SECRET: "shared-token-secret-for-both-nodes-0123456789",
      // The app secret is sealed with the master key: every node must be able to read it.
      UTD_MASTER_KEY: "shared-master-key-for-both-nodes-0123456789",
      UTD_ROOMS_GRACE_S: "0",
      UTD_ROOMS_NODE_LEASE_S: "3",
      UTD_PRESENCE_GRACE_S: "0",
    };
    [n1, n2] = await Promise.all([startEngine({ env, dataDir: dirs[0] }), startEngine({ env, dataDir: dirs[1] })]);
    app = await n1.createApp({ plan: "pro" });
    basic = `Basic ${Buffer.from(`${app.app_id}:${app.app_secret}`).toString("base64")}`;
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await Promise.all([n1?.stop(), n2?.stop()]);
    await pg?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function on(node: RunningEngine, identity: string): Promise<WsClient> {
    const s = await node.session(app, identity);
    const c = await WsClient.connect(node.wsUrl, s.user_token);
    open.push(c);
    return c;
  }
  const rest = <T>(node: RunningEngine, method: string, path: string, body?: unknown) =>
    node.request<T>(method, path, { headers: { authorization: basic }, ...(body === undefined ? {} : { body }) });

  test("members, broadcasts, history, limits and kicks span both nodes", async () => {
    expect((await rest(n1, "PUT", "/api/v1/rooms/party/policy", { policy: "open", max_members: 3, history: 5 })).status).toBe(200);
    const alice = await on(n1, "alice");
    const bob = await on(n2, "bob");
    await alice.request("room.join", { room: "party", data: { seat: 1 } });
    expect(await bob.request("room.join", { room: "party" })).toMatchObject({ ok: true, data: { members: 2 } });
    const snap = (await bob.next((f) => f.type === "room.members")).data as RoomMembersData;
    expect(snap.members.map((m) => [m.identity, m.data])).toEqual([
      ["alice", { seat: 1 }],
      ["bob", null],
    ]);
    await alice.event<{ member: RoomMember }>("room.joined", (d) => d.member.identity === "bob");

    // Broadcasts both ways, socket and REST, with one offset sequence.
    await alice.request("room.publish", { room: "party", data: "from n1" });
    expect((await bob.event<RoomMessageData>("room.message", (d) => d.data === "from n1")).data.offset).toBe(1);
    await bob.request("room.publish", { room: "party", data: "from n2" });
    expect((await alice.event<RoomMessageData>("room.message", (d) => d.data === "from n2")).data.offset).toBe(2);
    const viaRest = await rest<{ offset: number }>(n2, "POST", "/api/v1/rooms/party/broadcast", { data: "backend" });
    expect([viaRest.status, viaRest.body]).toEqual([200, expect.objectContaining({ offset: 3 })]);
    await alice.event<RoomMessageData>("room.message", (d) => d.data === "backend");

    // The member cap holds across nodes; a late joiner on node 1 gets node 2's history.
    const carol = await on(n1, "carol");
    expect(await carol.request("room.join", { room: "party" })).toMatchObject({ ok: true, data: { offset: 3 } });
    expect(carol.frames.filter((f) => f.type === "room.message").map((f) => (f.data as RoomMessageData).data)).toEqual([
      "from n1",
      "from n2",
      "backend",
    ]);
    const dave = await on(n2, "dave");
    expect(await dave.request("room.join", { room: "party" })).toMatchObject({ ok: false, error: { code: "limit_exceeded" } });

    // A kick through node 1 closes bob's membership on node 2.
    expect((await rest(n1, "DELETE", "/api/v1/rooms/party/members/bob")).status).toBe(204);
    await bob.event<{ reason: string }>("room.closed", (d) => d.reason === "kicked");
    await carol.event<RoomLeftData>("room.left", (d) => d.identity === "bob" && d.reason === "kicked");
    expect((await rest<{ members: RoomMember[] }>(n2, "GET", "/api/v1/rooms/party/members")).body.members.map((m) => m.identity)).toEqual([
      "alice",
      "carol",
    ]);
  });

  test("switching signalling off on one node closes rooms on the other", async () => {
    const other = await n1.createApp({ plan: "pro" });
    const s = await n2.session(other, "erin");
    const erin = await WsClient.connect(n2.wsUrl, s.user_token);
    open.push(erin);
    await erin.request("room.join", { room: "quiet" });
    await n1.admin("PATCH", `/admin/v1/apps/${other.app_id}`, { signaling_enabled: false });
    await erin.event<{ reason: string }>("room.closed", (d) => d.reason === "feature_disabled");
    expect(await erin.request("room.join", { room: "quiet" })).toMatchObject({ ok: false, error: { code: "feature_disabled" } });
  });

  test("a node that dies has its members removed by the other after its lease", async () => {
    const frank = await on(n1, "frank");
    const gina = await on(n2, "gina");
    await frank.request("room.join", { room: "crash" });
    await gina.request("room.join", { room: "crash" });
    await n2.stop("SIGKILL");
    const left = await frank.event<RoomLeftData>("room.left", (d) => d.identity === "gina");
    expect(left.data).toMatchObject({ devices: 0, reason: "disconnected" });
  }, 30_000);
});
