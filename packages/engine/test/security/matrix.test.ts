import { type Capability, ERROR_CODES, type ErrorCode } from "@utd-stream/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { backends, describeBackends, type FreshStore, freshStore } from "../../../../test/helpers/backends.js";
import { type InProcessEngine, startInProcess } from "../../../../test/helpers/inproc.js";
import { FakeMedia } from "../../src/media/fake.js";
import { type Frame, WsClient } from "../ws-helpers.js";
import { CALLERS, type Caller, type Expect, REST_ROWS, type RestRow, type TokenName, WS_ROWS, type WsRow } from "./matrix-rows.js";
import { buildWorld, stateDigest, type World } from "./world.js";

/**
 * The authorization matrix (issue 11): every route of the OpenAPI document and every WebSocket verb,
 * called by each kind of caller that must be refused — no token, a malformed, expired or revoked token,
 * another app's user, a non-member, a member without the role, a banned user, and the owner of an app
 * whose capability is switched off. Each gets its typed error, and a digest of the whole database read
 * back before and after proves the call changed nothing. A route or verb without a row fails the suite:
 * see matrix-rows.ts for how to add one.
 */

type Reply = { status: number; body: { error?: { code?: string; capability?: string } } };

const op = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

describeBackends(await backends("store"), "authorization matrix", (store) => {
  let e: InProcessEngine;
  let db: FreshStore | undefined;
  let w: World;
  let ops: { key: string; security: "user" | "admin" | "none" }[] = [];
  let wsUrl: string;
  const observers: WsClient[] = [];

  beforeAll(async () => {
    db = await freshStore(store, "authorization matrix on PostgreSQL");
    const media = new FakeMedia();
    e = await startInProcess({ env: db?.env ?? {}, ports: { media } });
    media.deliverWebhooksTo(async (raw, authorization) => {
      await e.request("POST", "/api/v1/livekit/webhook", {
        raw,
        headers: { authorization, "content-type": "application/webhook+json" },
      });
    });
    w = await buildWorld(e, media);
    ({ wsUrl } = await e.listen());
    const doc = await e.request<{ paths: Record<string, Record<string, { security?: Record<string, unknown>[] }>> }>(
      "GET",
      "/openapi.json",
    );
    ops = Object.entries(doc.body.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, o]) => ({
        key: op(method, path),
        security: o.security?.some((s) => "adminToken" in s) ? "admin" : o.security?.some((s) => "userToken" in s) ? "user" : "none",
      })),
    );
    // The owner and the member listen: a refused call must not reach anyone either.
    observers.push(await WsClient.connect(wsUrl, w.tok.own), await WsClient.connect(wsUrl, w.tok.mem));
    expect(await observers[0]?.request("room.join", { room: w.rooms.sig })).toMatchObject({ ok: true });
    await settle();
  }, 120_000);

  /** Waits until the observers have received nothing new for 300 ms (presence of their own connecting, …). */
  async function settle(): Promise<void> {
    let last = -1;
    for (;;) {
      const n = observers.reduce((k, o) => k + o.frames.length, 0);
      if (n === last) return;
      last = n;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  afterAll(async () => {
    for (const o of observers) o.close();
    await e?.close();
    await db?.drop();
  });

  it("has a row for every route of the OpenAPI document and every WebSocket verb (and no stale rows)", () => {
    const routes = ops.map((o) => o.key);
    expect(
      routes.filter((k) => !(k in REST_ROWS)),
      "routes without a row in matrix-rows.ts (see its header)",
    ).toEqual([]);
    expect(
      Object.keys(REST_ROWS).filter((k) => !routes.includes(k)),
      "rows whose route is gone",
    ).toEqual([]);
    const verbs = e.engine.services.realtime.events.verbNames();
    expect(
      verbs.filter((v) => !(v in WS_ROWS)),
      "WebSocket verbs without a row",
    ).toEqual([]);
    expect(
      Object.keys(WS_ROWS).filter((v) => !verbs.includes(v)),
      "rows whose verb is gone",
    ).toEqual([]);
  });

  /** Switches a capability of app A off (or back to the plan's) — the capabilityOff caller's world. */
  async function capability(cap: Capability, off: boolean): Promise<void> {
    const field = cap === "signaling" ? "signaling_enabled" : "messaging_enabled";
    const r = await e.admin("PATCH", `/admin/v1/apps/${w.a.app_id}`, { [field]: off ? false : null });
    expect(r.status).toBe(200);
  }

  function check(where: string, expected: Expect, r: Reply, before: string, after: string, cap?: Capability | null): string[] {
    const bad: string[] = [];
    if (expected === "no-effect") {
      if (r.status >= 500) bad.push(`${where}: ${r.status} ${JSON.stringify(r.body)}`);
    } else if (expected !== "n/a") {
      const code = r.body?.error?.code;
      const status = ERROR_CODES[expected as ErrorCode].status;
      if (r.status !== status || code !== expected)
        bad.push(`${where}: expected ${status} ${expected}, got ${r.status} ${JSON.stringify(r.body)}`);
      if (expected === "feature_disabled" && r.body.error?.capability !== cap)
        bad.push(`${where}: capability ${r.body.error?.capability} ≠ ${cap}`);
    }
    if (before !== after) bad.push(`${where}: the refused call changed the stored state`);
    return bad;
  }

  function restExpect(row: RestRow, caller: Caller, security: string): Expect {
    if (row.public) return "n/a";
    if (caller === "none" || caller === "malformed" || caller === "expired" || caller === "revoked") return "unauthorized";
    if (security === "admin") return caller === "capabilityOff" ? "n/a" : "unauthorized";
    if (caller === "banned") return "banned";
    if (caller === "capabilityOff") return row.cap ? "feature_disabled" : "n/a";
    return row[caller] ?? "n/a";
  }

  function tokenFor(row: RestRow | WsRow, caller: Caller): string | undefined {
    const name: TokenName | undefined = {
      none: undefined,
      malformed: undefined,
      expired: "exp",
      revoked: "rev",
      otherApp: "bob",
      nonMember: row.nonMemberAs ?? "out",
      noRole: row.noRoleAs ?? "mem",
      banned: "ban",
      capabilityOff: row.capAs ?? "own",
    }[caller] as TokenName | undefined;
    if (caller === "malformed") return "not.a.token";
    return name ? w.tok[name] : undefined;
  }

  let restTried = 0;

  it("refuses every REST route to every caller that must be refused, changing nothing", async () => {
    const failures: string[] = [];
    const frames = () => observers.reduce((n, o) => n + o.events().length, 0);
    for (const pass of ["plain", "signaling", "chat"] as const) {
      if (pass !== "plain") await capability(pass, true);
      await settle();
      for (const { key, security } of ops) {
        const row = REST_ROWS[key];
        if (!row) continue;
        const [method] = key.split(" ") as [string];
        const custom = row.custom?.(w);
        const seen = frames();
        for (const caller of CALLERS) {
          // Capability callers run in their capability's pass; everyone else in the plain pass.
          const inPass = caller === "capabilityOff" ? pass === row.cap : pass === "plain";
          if (!inPass) continue;
          const c = custom ? custom[caller] : undefined;
          const expected = custom ? (c?.expect ?? "n/a") : restExpect(row, caller, row.userAuth ? "user" : security);
          if (expected === "n/a") continue;
          const req = c ?? row.req(w);
          const token = custom ? undefined : tokenFor(row, caller);
          const before = await stateDigest(e);
          const r = (await e.request(method, req.path, {
            ...(req.body !== undefined ? { body: req.body } : {}),
            ...(token ? { token } : {}),
            ...(req.headers ? { headers: req.headers } : {}),
          })) as Reply;
          const after = await stateDigest(e);
          failures.push(...check(`${key} as ${caller}`, expected, r, before, after, row.cap));
          restTried++;
        }
        if (frames() !== seen) failures.push(`${key}: a refused call sent events`);
      }
      if (pass !== "plain") await capability(pass, false);
    }
    process.stdout.write(
      `\nauthorization matrix (${store}): REST ${ops.length} routes × ${CALLERS.length} callers — ${restTried} tried, ` +
        `${restTried - failures.length} refused as expected, ${ops.length * CALLERS.length - restTried} not applicable\n`,
    );
    expect(failures).toEqual([]);
  }, 300_000);

  let wsTried = 0;

  it("refuses every WebSocket verb to every caller that must be refused, changing nothing", async () => {
    const failures: string[] = [];
    const verbs = Object.entries(WS_ROWS);
    /**
     * Sends `type` on a socket of `token` (or none) and returns the reply, or the close, with the state
     * digests around the frame (taken once the socket is in: connecting itself announces presence).
     */
    async function attempt(
      token: string | undefined,
      type: string,
      body: Record<string, unknown>,
    ): Promise<Reply & { close?: number; before: string; after: string }> {
      const c = await WsClient.open(wsUrl);
      try {
        if (token) {
          c.send({ type: "hello", token });
          await Promise.race([c.next((f: Frame) => f.type === "welcome" || f.type === "error"), c.closed]);
        }
        const before = await stateDigest(e);
        const id = `m${Math.random().toString(36).slice(2)}`;
        c.send({ type, id, ...body });
        const got = await Promise.race([
          c.next((f: Frame) => f.type === "reply" && f.id === id),
          c.closed.then((x) => ({ type: "closed", code: x.code }) as Frame),
        ]);
        const after = await stateDigest(e);
        if (got.type === "closed") {
          const err = c.frames.find((f) => f.type === "error")?.error as { code?: string } | undefined;
          return { status: 0, close: got.code as number, body: { error: { code: err?.code ?? "" } }, before, after };
        }
        const error = got.error as { code?: string; capability?: string } | undefined;
        const status = got.ok ? 200 : (ERROR_CODES[(error?.code ?? "internal") as ErrorCode]?.status ?? 0);
        return { status, body: error ? { error } : {}, before, after };
      } finally {
        c.close();
      }
    }
    for (const pass of ["plain", "signaling", "chat"] as const) {
      if (pass !== "plain") await capability(pass, true);
      for (const [verb, row] of verbs) {
        for (const caller of CALLERS) {
          const inPass = caller === "capabilityOff" ? pass === row.cap : pass === "plain";
          if (!inPass) continue;
          let expected: Expect;
          if (caller === "none" || caller === "malformed" || caller === "expired" || caller === "revoked") expected = "unauthorized";
          else if (caller === "banned") expected = "banned";
          else if (caller === "capabilityOff") expected = row.cap ? "feature_disabled" : "n/a";
          else expected = row[caller] ?? "n/a";
          if (expected === "n/a") continue;
          const r = await attempt(tokenFor(row, caller), verb, row.frame(w));
          const { before, after } = r;
          // A refused hello closes the socket: 4401 for bad tokens, 4403 for a banned user.
          if (r.close !== undefined) {
            const want = expected === "banned" ? 4403 : 4401;
            if (r.close !== want || r.body.error?.code !== expected)
              failures.push(`${verb} as ${caller}: closed ${r.close} ${r.body.error?.code}`);
            if (before !== after) failures.push(`${verb} as ${caller}: the refused frame changed the stored state`);
          } else failures.push(...check(`${verb} as ${caller}`, expected, r, before, after, row.cap));
          wsTried++;
        }
      }
      if (pass !== "plain") await capability(pass, false);
    }
    process.stdout.write(
      `authorization matrix (${store}): WebSocket ${verbs.length} verbs × ${CALLERS.length} callers — ${wsTried} tried, ` +
        `${wsTried - failures.length} refused as expected, ${verbs.length * CALLERS.length - wsTried} not applicable\n`,
    );
    expect(failures).toEqual([]);
  }, 300_000);
});
