import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AUTH_MODES, type AuthMode, PLANS, type Plan, type SetFcmCredentialsRequest, type UpdateAppRequest } from "@utd-stream/protocol";
import { type AdminBackend, CliError, httpBackend, storeBackend } from "./cli/backend.js";
import { ensureAdminToken, readAdminToken } from "./core/admin-token.js";
import { ConfigError, type EngineConfig, loadConfig } from "./core/config.js";
import type { AppsService } from "./modules/apps/index.js";

const HELP = `utd — the UTD Stream engine and its admin CLI

Usage:
  utd serve [--port N] [--host H] [--data-dir D] [--database-url URL] [--redis-url URL]
            [--livekit-url URL --livekit-api-key K --livekit-api-secret S]
            [--admin-token T] [--public-url URL] [--call-ring-timeout-s N] [--demo]
  utd app create --name N [--auth open|signed] [--plan free|signaling|pro|enterprise] [--json]
  utd app list [--json]
  utd app show ID [--json]
  utd app rotate-key ID [--secret] [--json]
  utd app update ID [--name N] [--plan P] [--auth open|signed]
                    [--signaling-enabled true|false|plan] [--messaging-enabled true|false|plan]
                    [--auto-busy true|false] [--json]
  utd app usage ID [--month YYYY-MM] [--json]
  utd user ban --app ID --identity X [--reason R]
  utd user unban --app ID --identity X
  utd operator add|remove --app ID --identity X
  utd operator list --app ID [--json]
  utd push set-apns --app ID --key-file K.p8 --key-id KID --team-id TID --bundle-id B [--production]
  utd push set-fcm --app ID --service-account FILE.json
  utd push set-vapid --app ID --public-key PUB --private-key PRIV --subject mailto:…|https://…
  utd push show --app ID [--json]         (credentials are write-only: fingerprints are shown)

The CLI reads the same environment as the server (UTD_PORT, UTD_HOST, UTD_DATA_DIR, DATABASE_URL,
UTD_ADMIN_TOKEN). When an engine answers there, it goes through its admin API (changes apply at once);
otherwise it works on the storage directly.`;

const SERVE_FLAGS: Record<string, string> = {
  port: "UTD_PORT",
  host: "UTD_HOST",
  "data-dir": "UTD_DATA_DIR",
  "database-url": "DATABASE_URL",
  "redis-url": "REDIS_URL",
  "livekit-url": "LIVEKIT_URL",
  "livekit-api-key": "LIVEKIT_API_KEY",
  "livekit-api-secret": "LIVEKIT_API_SECRET",
  "admin-token": "UTD_ADMIN_TOKEN",
  "public-url": "UTD_PUBLIC_URL",
  "call-ring-timeout-s": "UTD_CALL_RING_TIMEOUT_S",
};

type Out = { out: (s: string) => void; err: (s: string) => void };
const std: Out = { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`) };

type Env = Record<string, string | undefined>;

/**
 * Runs the CLI; resolves to the process exit code. `env` is the environment it reads (the process's by
 * default; tests pass their own and run it in-process).
 */
export async function main(argv: string[], io: Out = std, env: Env = process.env): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  try {
    if (!cmd || cmd === "help" || cmd === "--help" || cmd === "-h") {
      io.out(HELP);
      return cmd ? 0 : 2;
    }
    if (cmd === "serve")
      return await serve(
        [sub, ...rest].filter((a): a is string => a !== undefined),
        io,
        env,
      );
    if (cmd === "app" || cmd === "user" || cmd === "operator" || cmd === "push") return await admin(cmd, sub, rest, io, env);
    io.err(`utd: unknown command "${cmd}"\n\n${HELP}`);
    return 2;
  } catch (err) {
    if (err instanceof CliError || err instanceof ConfigError) {
      io.err(`utd: ${err.message}`);
      return 1;
    }
    if (err instanceof TypeError && (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.err(`utd: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

async function serve(args: string[], io: Out, processEnv: Env): Promise<number> {
  const options: Record<string, { type: "string" | "boolean" }> = { demo: { type: "boolean" } };
  for (const f of Object.keys(SERVE_FLAGS)) options[f] = { type: "string" };
  const { values } = parseArgs({ args, options, allowPositionals: false });
  const env = { ...processEnv };
  for (const [flag, name] of Object.entries(SERVE_FLAGS)) {
    const v = values[flag];
    if (typeof v === "string") env[name] = v;
  }
  if (values.demo) env.UTD_DEMO = "1";
  const base = loadConfig(env);
  const config: EngineConfig = { ...base, adminToken: ensureAdminToken(base.dataDir, base.adminToken) };
  // Loaded here, not at the top: the admin commands need only the store, and loading the whole engine
  // (Fastify, LiveKit SDK, Redis…) roughly doubled the start-up time of every `utd app …` call.
  const { createEngine } = await import("./index.js");
  const engine = await createEngine(config);
  const log = engine.http.log;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down: draining requests");
    const force = setTimeout(() => {
      log.warn("shutdown took longer than 10s; exiting");
      process.exit(1);
    }, 10_000);
    force.unref();
    engine.close().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, "error while stopping");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  const url = await engine.listen();
  const demo = config.demo ? await ensureDemoApp(engine.services.apps, config.dataDir) : undefined;
  log.info(
    {
      url,
      metrics_url: engine.metricsUrl,
      storage: engine.store.describe,
      media: config.livekit ? config.livekit.url : null,
      demo_app_id: demo?.app_id,
    },
    "utd engine ready",
  );
  if (demo) {
    io.err(
      [
        "",
        `  UTD Stream engine ready at ${url}`,
        `  Demo app (open mode): app_id=${demo.app_id} app_key=${demo.app_key}`,
        `  API docs: ${url}/docs   OpenAPI: ${url}/openapi.json`,
        `  Storage: ${engine.store.describe}`,
        config.livekit
          ? `  Media: LiveKit at ${config.livekit.url}`
          : '  Media: no LiveKit configured — calls ring and chat works, media endpoints answer media_unavailable.\n         To enable media: scripts/livekit/install.sh && eval "$(scripts/livekit/start.sh)" && npm start',
        "",
      ].join("\n"),
    );
  }
  return new Promise<number>(() => {});
}

/** The demo app `npm start` creates on first run (open mode), remembered in the data dir. */
async function ensureDemoApp(apps: AppsService, dataDir: string): Promise<{ app_id: string; app_key: string }> {
  const file = join(dataDir, "demo-app.json");
  try {
    const saved = JSON.parse(readFileSync(file, "utf8")) as { app_id: string };
    const app = await apps.find(saved.app_id);
    if (app) return { app_id: app.id, app_key: app.key };
  } catch {
    /* first run */
  }
  const created = await apps.create({ name: "Demo", auth_mode: "open", plan: "pro" });
  writeFileSync(file, JSON.stringify({ app_id: created.app_id }), { mode: 0o600 });
  return { app_id: created.app_id, app_key: created.app_key };
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    throw new CliError(`cannot read ${file}`);
  }
}

/** Picks the running engine's admin API when one answers, else the storage. */
async function backend(env: Env): Promise<AdminBackend> {
  const config = loadConfig(env);
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${config.port}`;
  const token = config.adminToken ?? readAdminToken(config.dataDir);
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1500) });
    const body = (await res.json()) as { service?: string };
    if (res.ok && body.service === "utd-stream") {
      if (!token) throw new CliError(`an engine runs at ${url} but no admin token is known: set UTD_ADMIN_TOKEN`);
      return httpBackend(url, token);
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
  }
  return storeBackend(config, env);
}

function bool(flag: string, v: string | undefined): boolean | null | undefined {
  if (v === undefined) return undefined;
  if (v === "true") return true;
  if (v === "false") return false;
  if (v === "plan") return null;
  throw new CliError(`--${flag} must be true, false or plan (follow the plan), got "${v}"`);
}

function oneOf<T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new CliError(`--${flag} must be one of ${allowed.join(", ")}, got "${v}"`);
  return v as T;
}

async function admin(cmd: string, sub: string | undefined, args: string[], io: Out, env: Env): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: "boolean" },
      name: { type: "string" },
      auth: { type: "string" },
      plan: { type: "string" },
      secret: { type: "boolean" },
      month: { type: "string" },
      app: { type: "string" },
      identity: { type: "string" },
      reason: { type: "string" },
      "signaling-enabled": { type: "string" },
      "messaging-enabled": { type: "string" },
      "auto-busy": { type: "string" },
      "key-file": { type: "string" },
      "key-id": { type: "string" },
      "team-id": { type: "string" },
      "bundle-id": { type: "string" },
      production: { type: "boolean" },
      "service-account": { type: "string" },
      "public-key": { type: "string" },
      "private-key": { type: "string" },
      subject: { type: "string" },
    },
  });
  const need = (v: string | undefined, what: string): string => {
    if (!v) throw new CliError(`missing ${what}`);
    return v;
  };
  const print = (data: unknown, human: string) => io.out(values.json ? JSON.stringify(data, null, 2) : human);
  const b = await backend(env);
  try {
    const key = `${cmd} ${sub ?? ""}`;
    switch (key) {
      case "app create": {
        const auth_mode = oneOf<AuthMode>("auth", values.auth, AUTH_MODES) ?? "open";
        const plan = oneOf<Plan>("plan", values.plan, PLANS) ?? "free";
        const app = await b.createApp({ name: need(values.name, "--name"), auth_mode, plan });
        print(
          app,
          `created ${app.app_id} (${app.name}, ${app.auth_mode}, plan ${app.plan})\napp_key:    ${app.app_key}\napp_secret: ${app.app_secret}\n(the secret is shown only now)`,
        );
        return 0;
      }
      case "app list": {
        const apps = await b.listApps();
        print(
          apps,
          apps.length ? apps.map((a) => `${a.app_id}  ${a.plan.padEnd(10)} ${a.auth_mode.padEnd(6)} ${a.name}`).join("\n") : "no apps",
        );
        return 0;
      }
      case "app show": {
        const app = await b.showApp(need(positionals[0], "app id"));
        print(app, JSON.stringify(app, null, 2));
        return 0;
      }
      case "app rotate-key": {
        const app = await b.rotate(need(positionals[0], "app id"), values.secret ? "secret" : "key");
        const secret = "app_secret" in app ? `\napp_secret: ${app.app_secret}\n(the secret is shown only now)` : "";
        print(app, `rotated ${app.app_id}\napp_key:    ${app.app_key}${secret}`);
        return 0;
      }
      case "app update": {
        const req: UpdateAppRequest = {};
        if (values.name !== undefined) req.name = values.name;
        const plan = oneOf<Plan>("plan", values.plan, PLANS);
        if (plan) req.plan = plan;
        const auth = oneOf<AuthMode>("auth", values.auth, AUTH_MODES);
        if (auth) req.auth_mode = auth;
        const sig = bool("signaling-enabled", values["signaling-enabled"]);
        if (sig !== undefined) req.signaling_enabled = sig;
        const msg = bool("messaging-enabled", values["messaging-enabled"]);
        if (msg !== undefined) req.messaging_enabled = msg;
        const autoBusy = bool("auto-busy", values["auto-busy"]);
        if (autoBusy === null) throw new CliError("--auto-busy must be true or false");
        if (autoBusy !== undefined) req.settings = { auto_busy: autoBusy };
        const app = await b.updateApp(need(positionals[0], "app id"), req);
        print(
          app,
          `updated ${app.app_id}: plan ${app.plan}, auth ${app.auth_mode}, signaling ${app.signaling_enabled}, messaging ${app.messaging_enabled}`,
        );
        return 0;
      }
      case "app usage": {
        const u = await b.usage(need(positionals[0], "app id"), values.month);
        print(u, u.months.length ? u.months.map((m) => `${m.month}  MAU ${m.mau}`).join("\n") : "no active users yet");
        return 0;
      }
      case "user ban": {
        const r = await b.ban(need(values.app, "--app"), need(values.identity, "--identity"), values.reason);
        print(r, `banned ${r.identity} in ${r.app_id}`);
        return 0;
      }
      case "user unban": {
        const r = await b.unban(need(values.app, "--app"), need(values.identity, "--identity"));
        print(r, `unbanned ${r.identity} in ${r.app_id}`);
        return 0;
      }
      case "operator add": {
        const r = await b.addOperator(need(values.app, "--app"), need(values.identity, "--identity"));
        print(r, `${r.identity} is an operator of ${values.app}`);
        return 0;
      }
      case "operator remove": {
        const identity = need(values.identity, "--identity");
        await b.removeOperator(need(values.app, "--app"), identity);
        print({ identity, removed: true }, `${identity} is no longer an operator of ${values.app}`);
        return 0;
      }
      case "operator list": {
        const ops = await b.listOperators(need(values.app, "--app"));
        print(ops, ops.length ? ops.map((o) => `${o.identity}  since ${o.created_at}`).join("\n") : "no operators");
        return 0;
      }
      case "push set-apns": {
        const r = await b.setPush(need(values.app, "--app"), "apns", {
          key_p8: readText(need(values["key-file"], "--key-file")),
          key_id: need(values["key-id"], "--key-id"),
          team_id: need(values["team-id"], "--team-id"),
          bundle_id: need(values["bundle-id"], "--bundle-id"),
          production: values.production === true,
        });
        print(r, `APNs credentials set for ${values.app} (fingerprint ${r.fingerprint})`);
        return 0;
      }
      case "push set-fcm": {
        let account: unknown;
        try {
          account = JSON.parse(readText(need(values["service-account"], "--service-account")));
        } catch (err) {
          if (err instanceof CliError) throw err;
          throw new CliError("--service-account must be the service account's JSON file");
        }
        const r = await b.setPush(need(values.app, "--app"), "fcm", account as SetFcmCredentialsRequest);
        print(r, `FCM credentials set for ${values.app} (fingerprint ${r.fingerprint})`);
        return 0;
      }
      case "push set-vapid": {
        const r = await b.setPush(need(values.app, "--app"), "vapid", {
          public_key: need(values["public-key"], "--public-key"),
          private_key: need(values["private-key"], "--private-key"),
          subject: need(values.subject, "--subject"),
        });
        print(r, `VAPID keys set for ${values.app} (fingerprint ${r.fingerprint})`);
        return 0;
      }
      case "push show": {
        const c = await b.pushConfig(need(values.app, "--app"));
        print(
          c,
          [
            ...c.credentials.map(
              (x) =>
                `${x.provider.padEnd(6)} ${x.fingerprint}  ${Object.entries(x.details)
                  .map(([k, v]) => `${k}=${v}`)
                  .join(" ")}`,
            ),
            c.credentials.length ? "" : "no push credentials",
            `message text in pushes: ${c.include_message_text ? "yes" : "no"}`,
          ]
            .filter(Boolean)
            .join("\n"),
        );
        return 0;
      }
      default:
        io.err(`utd: unknown command "${key.trim()}"\n\n${HELP}`);
        return 2;
    }
  } finally {
    await b.close();
  }
}
