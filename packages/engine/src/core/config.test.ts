import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

describe("configuration from the environment", () => {
  it("has embedded defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 7800,
      host: "127.0.0.1",
      databaseUrl: undefined,
      redisUrl: undefined,
      livekit: undefined,
      callRingTimeoutS: 30,
    });
    expect(c.dataDir.endsWith(".utd")).toBe(true);
  });

  it("reads every documented variable", () => {
    const c = loadConfig({
      UTD_PORT: "9000",
      UTD_HOST: "0.0.0.0",
      UTD_DATA_DIR: "/tmp/x",
      DATABASE_URL: "postgres://db/utd",
      REDIS_URL: "redis://r:6379",
      LIVEKIT_URL: "ws://lk:7880",
      LIVEKIT_API_KEY: "k",
      LIVEKIT_API_SECRET: "s",
      UTD_ADMIN_TOKEN: "adm",
      UTD_CALL_RING_TIMEOUT_S: "5",
      UTD_RATE_SESSION_IDENTITY: "3/0.5",
    });
    expect(c).toMatchObject({
      port: 9000,
      host: "0.0.0.0",
      dataDir: "/tmp/x",
      databaseUrl: "postgres://db/utd",
      redisUrl: "redis://r:6379",
      livekit: { url: "ws://lk:7880", apiKey: "k", apiSecret: "s" },
      adminToken: "adm",
      callRingTimeoutS: 5,
    });
    expect(c.rateLimits.sessionPerIdentity).toEqual({ burst: 3, perSecond: 0.5 });
  });

  it.each([
    [{ UTD_PORT: "http" }, "UTD_PORT"],
    [{ UTD_CALL_RING_TIMEOUT_S: "0" }, "UTD_CALL_RING_TIMEOUT_S"],
    [{ UTD_RATE_SESSION_APP: "lots" }, "UTD_RATE_SESSION_APP"],
    [{ LIVEKIT_URL: "ws://lk" }, "LIVEKIT_API_KEY"],
    [{ UTD_CORS_ORIGINS: "shop.example.com" }, "UTD_CORS_ORIGINS"],
    [{ UTD_SQLITE_SYNC: "OFF" }, "UTD_SQLITE_SYNC"],
  ])("refuses %j with a message naming the variable", (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });
});
