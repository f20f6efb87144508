import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import { type ApnsServer, apnsKeys, selfSignedTls, startApnsServer } from "../../../test/helpers/push-servers.js";
import { sleep } from "./ws-helpers.js";

/**
 * `kill -9` of the engine between the events and their pushes, and in the middle of sending them: no push is
 * lost, and the only repeats are of pushes that were in flight at the kill, under the same apns-id and
 * collapse id (so the device shows one). The counts are printed.
 */
describe("push outbox survives kill -9", () => {
  const tls = selfSignedTls();
  const keys = apnsKeys();
  let apns: ApnsServer;
  let e: RunningEngine;
  let app: TestApp;
  const N = 20;
  // Our own data dir: the helper deletes the dirs it owns when their process exits, and kill -9 is an exit.
  const dataDir = mkdtempSync(join(tmpdir(), "utd-push-kill-"));
  const start = () =>
    startEngine({
      dataDir,
      env: { UTD_APNS_HOST: apns.host, UTD_PUSH_CA_FILE: tls.caFile, UTD_PUSH_LEASE_MS: "1500", UTD_CALL_RING_TIMEOUT_S: "600" },
    });

  beforeAll(async () => {
    apns = await startApnsServer(tls, keys);
    e = await start();
    app = await e.createApp({ plan: "pro" });
    const r = await e.admin("PUT", `/admin/v1/apps/${app.app_id}/push/apns`, {
      key_p8: keys.keyP8,
      key_id: keys.keyId,
      team_id: keys.teamId,
      bundle_id: keys.bundleId,
    });
    expect(r.status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await e?.stop("SIGKILL");
    await apns?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function ringMany(prefix: string): Promise<string[]> {
    const caller = await e.session(app, `${prefix}-caller`);
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const callee = await e.session(app, `${prefix}-callee-${i}`);
      const t = await e.request("POST", "/api/v1/push/tokens", {
        token: callee.user_token,
        body: { platform: "apns_voip", token: `${prefix === "a" ? "a" : "b"}${i.toString(16).padStart(4, "0")}`, device_id: "phone" },
      });
      expect(t.status).toBe(200);
    }
    for (let i = 0; i < N; i++) {
      const c = await e.request<{ id: string }>("POST", "/api/v1/calls", {
        token: caller.user_token,
        body: { callee_identity: `${prefix}-callee-${i}`, type: "audio_call" },
      });
      expect(c.status).toBe(201);
      ids.push(c.body.id);
    }
    return ids;
  }

  function count(ids: string[]) {
    const mine = apns.pushes.filter((p) => ids.includes(p.headers["apns-collapse-id"] ?? ""));
    const distinct = new Set(mine.map((p) => p.headers["apns-collapse-id"]));
    const apnsIds = new Map<string, Set<string>>();
    for (const p of mine) {
      const k = p.headers["apns-collapse-id"] as string;
      apnsIds.set(k, (apnsIds.get(k) ?? new Set()).add(p.headers["apns-id"] as string));
    }
    return {
      received: mine.length,
      distinct: distinct.size,
      lost: ids.length - distinct.size,
      duplicates: mine.length - distinct.size,
      sameIds: [...apnsIds.values()].every((s) => s.size === 1),
    };
  }

  async function untilAll(ids: string[], ms = 20_000) {
    const end = Date.now() + ms;
    while (count(ids).distinct < ids.length && Date.now() < end) await sleep(100);
    await sleep(500); // anything late would show up as a duplicate
    return count(ids);
  }

  test("killed after the events were stored, before any push got through", async () => {
    apns.failWith = 503;
    const ids = await ringMany("a");
    expect(count(ids).received).toBe(0);
    await e.stop("SIGKILL");
    apns.failWith = undefined;
    e = await start();
    const c = await untilAll(ids);
    console.log(`push kill -9 before send: events=${ids.length} delivered=${c.distinct} lost=${c.lost} duplicates=${c.duplicates}`);
    expect(c).toMatchObject({ distinct: N, lost: 0, duplicates: 0 });
  }, 120_000);

  test("killed in the middle of sending a burst", async () => {
    apns.delayMs = 150;
    const ids = await ringMany("b");
    const end = Date.now() + 10_000;
    while (count(ids).received < 3 && Date.now() < end) await sleep(10);
    await e.stop("SIGKILL");
    const atKill = count(ids).received;
    apns.delayMs = 0;
    e = await start();
    const c = await untilAll(ids);
    console.log(
      `push kill -9 mid-send: events=${ids.length} received-before-kill=${atKill} delivered=${c.distinct} lost=${c.lost} repeats-of-in-flight=${c.duplicates} (same apns-id and collapse id: ${c.sameIds})`,
    );
    expect(c.lost).toBe(0);
    expect(c.distinct).toBe(N);
    // A repeat can only be a push that was in flight when the process died, and it carries the same ids.
    expect(c.sameIds).toBe(true);
    expect(c.duplicates).toBeLessThanOrEqual(atKill);
  }, 120_000);
});
