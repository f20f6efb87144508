import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { UserTokens } from "./tokens.js";

// The engine verifies its own HS256 user tokens with node:crypto (not jose): these pin jose's rules.
const KEY = new Uint8Array(32).fill(7);
const NOW = Date.UTC(2026, 0, 1);
const tokens = new UserTokens(KEY, 3600);
const session = { authMode: "open" as const, sessionStartedAt: NOW };
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
const hmac = (input: string, key: Uint8Array = KEY) => createHmac("sha256", key).update(input).digest("base64url");
const forge = (header: unknown, payload: unknown, key: Uint8Array = KEY) => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${hmac(input, key)}`;
};
const payload = (extra: Record<string, unknown> = {}) => ({
  app: "app1",
  sub: "alice",
  did: null,
  iat_ms: NOW,
  iat: Math.floor(NOW / 1000),
  exp: Math.floor(NOW / 1000) + 60,
  iss: "utd-stream",
  aud: "utd-user",
  am: "open",
  sst: NOW,
  ...extra,
});
const refused = (token: string, message = "invalid user token") =>
  expect(tokens.verify(token, NOW)).rejects.toMatchObject({ code: "unauthorized", message });

describe("user tokens", () => {
  it("a token it signed verifies, with its claims", async () => {
    const { token, expiresAt } = await tokens.sign("app1", "alice", "d1", NOW, session);
    expect(await tokens.verify(token, NOW)).toEqual({
      appId: "app1",
      identity: "alice",
      deviceId: "d1",
      issuedAt: NOW,
      expiresAt,
      authMode: "open",
      sessionStartedAt: NOW,
    });
  });

  it("refuses a token once its exp second is reached", async () => {
    const { token, expiresAt } = await tokens.sign("app1", "alice", null, NOW, session);
    expect((await tokens.verify(token, expiresAt - 1)).identity).toBe("alice");
    await expect(tokens.verify(token, expiresAt)).rejects.toMatchObject({ message: "user token expired" });
  });

  it("refuses tampered, foreign-key, alg none and non-HS256 tokens", async () => {
    const { token } = await tokens.sign("app1", "alice", null, NOW, session);
    const [h, p, s] = token.split(".") as [string, string, string];
    const other = b64({ ...JSON.parse(Buffer.from(p, "base64url").toString()), sub: "mallory" });
    await refused(`${h}.${other}.${s}`);
    await refused(`${h}.${p}.${s.slice(0, -2)}`);
    await refused(`${h}.${p}.${s}=`);
    await refused(`${h}.${p}`);
    await refused(`${h}.${p}.${s}.x`);
    await refused(forge({ alg: "HS256", typ: "JWT" }, payload(), new Uint8Array(32).fill(8)));
    await refused(`${b64({ alg: "none" })}.${b64(payload())}.`);
    await refused(forge({ alg: "none" }, payload()));
    await refused(forge({ alg: "HS512" }, payload()));
    await refused(forge({ alg: "HS256", crit: ["exp"] }, payload()));
    await refused(forge({ alg: "HS256" }, [payload()]));
    await refused("not a token");
  });

  it("refuses a wrong issuer or audience, a future nbf, and malformed claims", async () => {
    await refused(forge({ alg: "HS256" }, payload({ iss: "someone" })));
    await refused(forge({ alg: "HS256" }, payload({ aud: "utd-admin" })));
    await refused(forge({ alg: "HS256" }, payload({ nbf: Math.floor(NOW / 1000) + 10 })));
    await refused(forge({ alg: "HS256" }, payload({ exp: "soon" })));
    await refused(forge({ alg: "HS256" }, payload({ exp: undefined })), "malformed user token");
    await refused(forge({ alg: "HS256" }, payload({ app: 5 })), "malformed user token");
    // An audience list that names ours is accepted, as jose does.
    expect((await tokens.verify(forge({ alg: "HS256" }, payload({ aud: ["x", "utd-user"] })), NOW)).identity).toBe("alice");
  });
});
