import { describe, expect, it } from "vitest";
import { BACKENDS, engineFor, world } from "./chat-world.js";

interface Friend {
  identity: string;
  state: string;
}
interface Err {
  error: { code: string; limit?: string };
}

describe.each(BACKENDS)("friends on %s", (_name, setup) => {
  const suite = engineFor(setup);
  const req = <T>(method: string, path: string, token: string, body?: unknown) => suite.engine.request<T>(method, path, { token, body });
  const list = async (token: string) => (await req<{ friends: Friend[] }>("GET", "/api/v1/friends", token)).body.friends;

  it("request, accept, decline, remove and list", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await world(suite.engine, 3);
    const [a, b, c] = ids as [string, string, string];
    const r = await req<Friend>("POST", "/api/v1/friends/requests", t[a] as string, { identity: b });
    expect(r.body).toMatchObject({ identity: b, state: "outgoing" });
    expect((await req<Friend>("POST", "/api/v1/friends/requests", t[a] as string, { identity: b })).body.state).toBe("outgoing");
    expect(await list(t[b] as string)).toEqual([expect.objectContaining({ identity: a, state: "incoming" })]);
    // Only the addressee accepts.
    expect((await req<Err>("POST", `/api/v1/friends/${b}/accept`, t[a] as string)).status).toBe(404);
    expect((await req<Friend>("POST", `/api/v1/friends/${a}/accept`, t[b] as string)).body.state).toBe("friends");
    expect(await list(t[a] as string)).toEqual([expect.objectContaining({ identity: b, state: "friends" })]);
    // Asking someone who already asked you accepts.
    await req("POST", "/api/v1/friends/requests", t[c] as string, { identity: a });
    expect((await req<Friend>("POST", "/api/v1/friends/requests", t[a] as string, { identity: c })).body.state).toBe("friends");
    // Decline and remove.
    await req("POST", "/api/v1/friends/requests", t[b] as string, { identity: c });
    expect((await req("POST", `/api/v1/friends/${b}/decline`, t[c] as string)).status).toBe(204);
    expect((await req<Err>("POST", `/api/v1/friends/${b}/decline`, t[c] as string)).status).toBe(404);
    expect((await req("DELETE", `/api/v1/friends/${a}`, t[b] as string)).status).toBe(204);
    expect((await list(t[a] as string)).map((f) => [f.identity, f.state])).toEqual([[c, "friends"]]);
    expect((await req<Err>("DELETE", `/api/v1/friends/${b}`, t[a] as string)).status).toBe(404);
  });

  it("refuses bad input, unknown users and other apps' users, changing nothing", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await world(suite.engine, 2);
    const [a] = ids as [string, string];
    const other = await world(suite.engine, 1);
    const cases: [unknown, number][] = [
      [{ identity: a }, 400],
      [{ identity: "" }, 400],
      [{ identity: 7 }, 400],
      [{}, 400],
      [{ identity: "no_such_user" }, 404],
      [{ identity: other.ids[0] }, 404],
    ];
    for (const [body, status] of cases)
      expect((await req<Err>("POST", "/api/v1/friends/requests", t[a] as string, body)).status).toBe(status);
    expect((await req<Err>("POST", `/api/v1/friends/${other.ids[0]}/accept`, t[a] as string)).status).toBe(404);
    expect(await list(t[a] as string)).toEqual([]);
    expect(await list(other.t[other.ids[0] as string] as string)).toEqual([]);
  });

  it("max_friends is enforced for the asker and on accept for both sides", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { app, t, ids } = await world(suite.engine, 5);
    const [a, b, c, d, e] = ids as [string, string, string, string, string];
    expect((await suite.engine.admin("PATCH", `/admin/v1/apps/${app.app_id}`, { limit_overrides: { max_friends: 2 } })).status).toBe(200);
    for (const x of [b, c]) {
      await req("POST", "/api/v1/friends/requests", t[a] as string, { identity: x });
      await req("POST", `/api/v1/friends/${a}/accept`, t[x] as string);
    }
    const over = await req<Err>("POST", "/api/v1/friends/requests", t[a] as string, { identity: d });
    expect(over.status).toBe(403);
    expect(over.body.error).toMatchObject({ code: "limit_exceeded", limit: "max_friends" });
    // d asks a: allowed to ask, but a cannot accept past the limit.
    expect((await req<Friend>("POST", "/api/v1/friends/requests", t[d] as string, { identity: a })).body.state).toBe("outgoing");
    const acc = await req<Err>("POST", `/api/v1/friends/${d}/accept`, t[a] as string);
    expect(acc.body.error).toMatchObject({ code: "limit_exceeded", limit: "max_friends" });
    expect((await list(t[a] as string)).filter((f) => f.state === "friends")).toHaveLength(2);
    await req("DELETE", `/api/v1/friends/${b}`, t[a] as string);
    expect((await req<Friend>("POST", `/api/v1/friends/${d}/accept`, t[a] as string)).body.state).toBe("friends");
    expect((await req<Friend>("POST", "/api/v1/friends/requests", t[e] as string, { identity: b })).body.state).toBe("outgoing");
  });
});
