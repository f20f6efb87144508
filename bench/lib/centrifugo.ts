/**
 * Centrifugo v6 as a bench peer: starts the binary that bench/fanout/centrifugo-install.sh built, with a
 * generated config (HMAC connection JWTs, an HTTP API key, channel subscribe allowed for authenticated
 * clients), connects receivers with the `centrifuge` npm client over WebSocket and publishes through
 * the HTTP API (`POST /api/publish`).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Centrifuge } from "centrifuge";
import WebSocket from "ws";
import { freePort, inBatches, post, sleep } from "./load.js";

const HERE = dirname(fileURLToPath(import.meta.url));

/** The built binary's path (building it first when `build`), or the installer's error (quoted by the bench when Centrifugo is missing). */
export function installCentrifugo(opts: { build: boolean }): { bin: string } | { error: string } {
  try {
    const out = execFileSync(join(HERE, "../fanout/centrifugo-install.sh"), {
      env: { ...process.env, ...(opts.build ? {} : { UTD_CENTRIFUGO_NO_BUILD: "1" }) },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 15 * 60_000,
    });
    return { bin: out.trim().split("\n").pop() as string };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return { error: (err.stderr ?? "").trim().split("\n").slice(-6).join("\n") || err.message };
  }
}

const b64url = (s: string | Buffer) => Buffer.from(s).toString("base64url");

/** A running Centrifugo. */
export interface CentrifugoPeer {
  proc: ChildProcess;
  port: number;
  /** An HS256 connection JWT for `user` (what an app backend mints for its users). */
  token(user: string): string;
  /** Publishes `data` to `channel` through the HTTP API. */
  publish(channel: string, data: unknown): Promise<void>;
  /** The same with a pre-serialised body `{"channel":…,"data":…}`. */
  publishRaw(body: string): Promise<void>;
  /** Connects `n` clients (users `u0…`), each subscribed to `channel`; `on` counts publications. */
  receivers(n: number, channel: string, on: () => void): Promise<() => void>;
  stop(): Promise<void>;
}

/** Starts Centrifugo on a free loopback port with a throwaway config. */
export async function startCentrifugo(bin: string): Promise<CentrifugoPeer> {
  const dir = mkdtempSync(join(tmpdir(), "utd-centrifugo-"));
  const port = await freePort();
  const secret = randomBytes(24).toString("hex");
  const apiKey = randomBytes(24).toString("hex");
  const config = {
    http_server: { address: "127.0.0.1", port: String(port) },
    log: { level: "error" },
    client: { token: { hmac_secret_key: secret }, allowed_origins: ["*"] },
    http_api: { key: apiKey },
    channel: { without_namespace: { allow_subscribe_for_client: true } },
  };
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  const proc = spawn(bin, ["--config", join(dir, "config.json")], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const base = `http://127.0.0.1:${port}`;
  const headers = { "x-api-key": apiKey };
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`centrifugo exited ${proc.exitCode}: ${stderr}`);
    try {
      await post(`${base}/api/info`, "{}", headers);
      break;
    } catch (e) {
      if (i > 100) throw new Error(`centrifugo did not come up: ${(e as Error).message} ${stderr}`);
      await sleep(100);
    }
  }
  const token = (user: string) => {
    const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
    const body = b64url(JSON.stringify({ sub: user, exp: Math.floor(Date.now() / 1000) + 3600 }));
    const sig = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
    return `${head}.${body}.${sig}`;
  };
  const publishRaw = async (body: string) => {
    const text = await post(`${base}/api/publish`, body, headers);
    if (text.includes('"error"')) throw new Error(`centrifugo publish: ${text}`);
  };
  return {
    proc,
    port,
    token,
    publishRaw,
    publish: (channel, data) => publishRaw(JSON.stringify({ channel, data })),
    async receivers(n, channel, on) {
      const clients = await inBatches(n, 100, async (i) => {
        const c = new Centrifuge(`ws://127.0.0.1:${port}/connection/websocket`, {
          token: token(`u${i}`),
          websocket: WebSocket,
          minReconnectDelay: 60_000,
        });
        const sub = c.newSubscription(channel);
        sub.on("publication", on);
        const subscribed = new Promise<void>((res, rej) => {
          sub.once("subscribed", () => res());
          sub.once("error", (e) => rej(new Error(JSON.stringify(e))));
          c.once("disconnected", (e) => rej(new Error(`disconnected: ${JSON.stringify(e)}`)));
        });
        sub.subscribe();
        c.connect();
        await subscribed;
        return c;
      });
      return () => {
        for (const c of clients) c.disconnect();
      };
    },
    async stop() {
      proc.kill("SIGTERM");
      if (proc.exitCode === null) await new Promise((r) => proc.once("exit", r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
