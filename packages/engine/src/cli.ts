import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AUTH_MODES,
  type AuthMode,
  ConsolePassword,
  ConsoleUsername,
  type CreateWebhookRequest,
  Identity,
  PLANS,
  type Plan,
  type SetFcmCredentialsRequest,
  type UpdateAppRequest,
} from "@utd-stream/protocol/schemas";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { type AdminBackend, CliError, httpBackend, storeBackend } from "./cli/backend.js";
import { ensureAdminToken, readAdminToken } from "./core/admin-token.js";
import { ConfigError, type EngineConfig, loadConfig } from "./core/config.js";
import { armExitWatchdog } from "./core/exit-watchdog.js";
import { readConfigFile, SETTINGS } from "./core/settings.js";
import type { AppsService } from "./modules/apps/index.js";
import { VERSION } from "./version.js";

/**
 * Exit codes of `utd` (also in its --help and the README):
 * 0 done; 1 the engine or the storage refused (not found, unauthorized, invalid value…);
 * 2 usage: unknown command or option, missing or malformed argument, invalid configuration;
 * 3 no engine answers and no storage was named (--data-dir / --database-url): nothing was done.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, noEngine: 3 } as const;

const EXIT_HELP = `
Exit codes: 0 done · 1 refused by the engine or storage · 2 bad command, argument or configuration ·
            3 no engine answers and no --data-dir/--database-url given (nothing done)

Admin commands go through the running engine's admin API (found at --url, else UTD_URL, else
http://UTD_HOST:UTD_PORT; token from --admin-token, UTD_ADMIN_TOKEN or <UTD_DATA_DIR>/admin-token).
They never create a store on their own: with no engine answering they stop with exit 3, and act on
storage directly only when told to with --data-dir D (an existing directory) or --database-url URL.`;

type Out = {
  out: (s: string) => void;
  err: (s: string) => void;
  /** All of standard input (a password piped in); tests pass their own. */
  stdin?: () => Promise<string>;
};
const std: Out = { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`) };

/** Reads standard input to its end; refuses a terminal (a password typed there would show). */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw new UsageError('pipe the password on standard input, e.g. `printf %s "$PW" | utd operator create NAME --password-stdin`');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

type Env = Record<string, string | undefined>;

/** Options every admin command takes: where to act and how to print. */
interface TargetOptions {
  json?: boolean;
  url?: string;
  adminToken?: string;
  dataDir?: string;
  databaseUrl?: string;
}

/** No engine answered and no storage was named: nothing was done (exit 3). */
class NoEngineError extends Error {}

/** A command used wrongly in a way the parser cannot see (a missing confirmation): exit 2. */
class UsageError extends Error {}

/** "files 3, messages 12, …" (kinds with nothing removed left out). */
function summary(removed: Record<string, number>): string {
  const parts = Object.entries(removed)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`);
  return parts.length ? parts.join(", ") : "nothing";
}

// ----- argument parsers: each refuses a malformed value with a message naming what is expected ---------

function month(v: string): string {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(v)) throw new InvalidArgumentError("expected a calendar month YYYY-MM (01–12).");
  return v;
}

function identity(v: string): string {
  if (!Identity.safeParse(v).success) throw new InvalidArgumentError("expected 1–128 characters without whitespace or control characters.");
  return v;
}

function appId(v: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(v)) throw new InvalidArgumentError("expected an app id such as app_…");
  return v;
}

function boolOrPlan(v: string): boolean | null {
  if (v === "true") return true;
  if (v === "false") return false;
  if (v === "plan") return null;
  throw new InvalidArgumentError("expected true, false or plan (follow the plan).");
}

function bool(v: string): boolean {
  if (v === "true") return true;
  if (v === "false") return false;
  throw new InvalidArgumentError("expected true or false.");
}

const intIn = (min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
  return n;
};

function consoleUsername(v: string): string {
  if (!ConsoleUsername.safeParse(v).success) throw new InvalidArgumentError("expected 3–64 characters: a–z, 0–9, '.', '_' or '-'.");
  return v;
}

function nonEmpty(v: string): string {
  if (!v.trim()) throw new InvalidArgumentError("must not be empty.");
  return v;
}

/**
 * Runs the CLI; resolves to the process exit code (see EXIT). `env` is the environment it reads (the
 * process's by default; tests pass their own and run it in-process).
 */
export async function main(argv: string[], io: Out = std, env: Env = process.env): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, env, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes when asked for; `utd app` alone prints help as a usage error.
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return EXIT.ok;
      return EXIT.usage;
    }
    if (err instanceof NoEngineError) {
      io.err(`utd: ${err.message}`);
      return EXIT.noEngine;
    }
    if (err instanceof ConfigError || err instanceof UsageError) {
      io.err(`utd: ${err.message}`);
      return EXIT.usage;
    }
    if (err instanceof CliError) {
      io.err(`utd: ${err.message}`);
      return EXIT.failed;
    }
    throw err;
  }
}

function buildProgram(io: Out, env: Env, setCode: (c: number) => void): Command {
  const program = new Command("utd")
    .description("the UTD Stream engine and its admin CLI")
    .version(VERSION, "-V, --version", "print the engine version")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, "")),
      writeErr: (s) => io.err(s.replace(/\n$/, "")),
      outputError: (s, write) => write(s.replace(/^error:/, "utd:")),
    })
    .showHelpAfterError("(add --help for usage)")
    .addHelpText("after", EXIT_HELP);

  // ----- serve -----
  const serveCmd = program
    .command("serve")
    .description("run the engine (HTTP API, WebSocket, admin API, /metrics)")
    .option("--config <file>", "settings from a JSON or TOML file (keys as in the README's table, e.g. port, database_url)")
    .option("--demo", "create (once) and print an open-mode demo app, as `npm start` does")
    .addHelpText("after", "\nPrecedence: flag > environment variable > config file > default. Every setting: README, Configuration.");
  // One flag per declared setting (core/settings.ts); `--demo` above is the boolean form of UTD_DEMO.
  for (const st of SETTINGS) if (st.key !== "demo") serveCmd.option(`--${st.flag} <value>`, `${st.doc.replace(/`/g, "")} [env ${st.env}]`);
  serveCmd.action(async (opts: Record<string, string | boolean | undefined>) => {
    await serve(opts, io, env);
  });

  /** Adds the admin-command options and an action that gets a backend and an output helper. */
  const admin = (
    cmd: Command,
    run: (b: AdminBackend, args: string[], opts: Record<string, unknown>, print: (data: unknown, human: string) => void) => Promise<void>,
  ) => {
    cmd
      .option("--json", "print JSON")
      .option("--url <url>", "the engine's URL [env UTD_URL]")
      .option("--admin-token <token>", "admin API bearer [env UTD_ADMIN_TOKEN]")
      .option("--data-dir <dir>", "act on the storage in this directory instead of a running engine")
      .option("--database-url <url>", "act on this PostgreSQL database instead of a running engine")
      .action(async (...all: unknown[]) => {
        const c = all.at(-1) as Command;
        const opts = c.opts<TargetOptions & Record<string, unknown>>();
        const args = c.args;
        const print = (data: unknown, human: string) => io.out(opts.json ? JSON.stringify(data, null, 2) : human);
        const b = await backend(opts, env);
        try {
          await run(b, args, opts, print);
          setCode(EXIT.ok);
        } finally {
          await b.close();
        }
      });
    return cmd;
  };

  // ----- app -----
  const app = program.command("app").description("create, inspect, change and delete apps");
  admin(
    app
      .command("create")
      .description("create an app (its secret is shown only now)")
      .requiredOption("--name <name>", "the app's name", nonEmpty)
      .addOption(new Option("--auth <mode>", "how users get sessions").choices(AUTH_MODES).default("open"))
      .addOption(new Option("--plan <plan>", "the app's plan").choices(PLANS).default("free")),
    async (b, _a, o, print) => {
      const created = await b.createApp({ name: o.name as string, auth_mode: o.auth as AuthMode, plan: o.plan as Plan });
      print(
        created,
        `created ${created.app_id} (${created.name}, ${created.auth_mode}, plan ${created.plan})\napp_key:    ${created.app_key}\napp_secret: ${created.app_secret}\n(the secret is shown only now)`,
      );
    },
  );
  admin(app.command("list").description("list apps"), async (b, _a, _o, print) => {
    const apps = await b.listApps();
    print(
      apps,
      apps.length ? apps.map((a) => `${a.app_id}  ${a.plan.padEnd(10)} ${a.auth_mode.padEnd(6)} ${a.name}`).join("\n") : "no apps",
    );
  });
  admin(app.command("show").description("show an app").argument("<app-id>", "the app", appId), async (b, [id], _o, print) => {
    const a = await b.showApp(id as string);
    print(a, JSON.stringify(a, null, 2));
  });
  admin(
    app
      .command("rotate-key")
      .description("rotate the publishable key, or with --secret the secret (tokens it signed stop working)")
      .argument("<app-id>", "the app", appId)
      .option("--secret", "rotate the secret instead of the key"),
    async (b, [id], o, print) => {
      const r = await b.rotate(id as string, o.secret ? "secret" : "key");
      const secret = "app_secret" in r ? `\napp_secret: ${r.app_secret}\n(the secret is shown only now)` : "";
      print(r, `rotated ${r.app_id}\napp_key:    ${r.app_key}${secret}`);
    },
  );
  admin(
    app
      .command("update")
      .description("change an app's name, plan, auth mode or capabilities")
      .argument("<app-id>", "the app", appId)
      .option("--name <name>", "new name", nonEmpty)
      .addOption(new Option("--plan <plan>", "new plan").choices(PLANS))
      .addOption(new Option("--auth <mode>", "new auth mode").choices(AUTH_MODES))
      .option("--signaling-enabled <v>", "true, false or plan", boolOrPlan)
      .option("--messaging-enabled <v>", "true, false or plan", boolOrPlan)
      .option("--auto-busy <v>", "answer busy when the callee is in a call: true or false", bool),
    async (b, [id], o, print) => {
      const req: UpdateAppRequest = {};
      if (o.name !== undefined) req.name = o.name as string;
      if (o.plan !== undefined) req.plan = o.plan as Plan;
      if (o.auth !== undefined) req.auth_mode = o.auth as AuthMode;
      if (o.signalingEnabled !== undefined) req.signaling_enabled = o.signalingEnabled as boolean | null;
      if (o.messagingEnabled !== undefined) req.messaging_enabled = o.messagingEnabled as boolean | null;
      if (o.autoBusy !== undefined) req.settings = { auto_busy: o.autoBusy as boolean };
      const a = await b.updateApp(id as string, req);
      print(
        a,
        `updated ${a.app_id}: plan ${a.plan}, auth ${a.auth_mode}, signaling ${a.signaling_enabled}, messaging ${a.messaging_enabled}`,
      );
    },
  );
  admin(
    app
      .command("usage")
      .description("monthly active users of one app")
      .argument("<app-id>", "the app", appId)
      .option("--month <YYYY-MM>", "one calendar month only", month),
    async (b, [id], o, print) => {
      const u = await b.usage(id as string, o.month as string | undefined);
      print(u, u.months.length ? u.months.map((m) => `${m.month}  MAU ${m.mau}`).join("\n") : "no active users yet");
    },
  );

  admin(
    app
      .command("delete")
      .description("delete an app and everything of it: users, messages, files (local or S3), devices…")
      .argument("<app-id>", "the app", appId)
      .option("--yes", "really delete (required: there is no undo)"),
    async (b, [id], o, print) => {
      if (!o.yes) throw new UsageError(`app delete removes ${id} and all its data for good: add --yes to confirm`);
      const r = await b.deleteApp(id as string);
      print(r, `deleted ${r.app_id}: ${summary(r.removed)}`);
    },
  );

  // ----- usage (every app) -----
  admin(
    program
      .command("usage")
      .description("monthly active users of every app (one month, default the current one)")
      .option("--month <YYYY-MM>", "the calendar month", month),
    async (b, _a, o, print) => {
      const m = (o.month as string | undefined) ?? new Date().toISOString().slice(0, 7);
      const apps = await b.listApps();
      const rows = [];
      for (const a of apps)
        rows.push({ app_id: a.app_id, name: a.name, plan: a.plan, mau: (await b.usage(a.app_id, m)).months[0]?.mau ?? 0 });
      const total = rows.reduce((n, r) => n + r.mau, 0);
      print(
        { month: m, apps: rows, total_mau: total },
        [`${m}  total MAU ${total}`, ...rows.map((r) => `  ${r.app_id}  ${String(r.mau).padStart(8)}  ${r.name}`)].join("\n"),
      );
    },
  );

  // ----- user -----
  const user = program.command("user").description("an app's users: list, show, erase, export, ban");
  admin(
    user
      .command("list")
      .description("list users in identity order")
      .requiredOption("--app <app-id>", "the app", appId)
      .option("--search <prefix>", "identities starting with this")
      .option("--limit <n>", "page size (1–500)", intIn(1, 500), 100)
      .option("--cursor <identity>", "continue after this identity (next_cursor)"),
    async (b, _a, o, print) => {
      const page = await b.listUsers(o.app as string, {
        limit: o.limit as number,
        ...(o.search ? { prefix: o.search as string } : {}),
        ...(o.cursor ? { cursor: o.cursor as string } : {}),
      });
      const lines = page.users.map(
        (u) => `${u.identity}${u.banned ? "  [banned]" : ""}  last seen ${u.last_seen_at}${u.name ? `  ${u.name}` : ""}`,
      );
      if (page.next_cursor) lines.push(`(more: --cursor ${page.next_cursor})`);
      print(page, lines.length ? lines.join("\n") : "no users");
    },
  );
  admin(
    user
      .command("show")
      .description("show one user")
      .requiredOption("--app <app-id>", "the app", appId)
      .requiredOption("--identity <identity>", "the user", identity),
    async (b, _a, o, print) => {
      const u = await b.showUser(o.app as string, o.identity as string);
      print(u, JSON.stringify(u, null, 2));
    },
  );
  admin(
    user
      .command("erase")
      .description("erase a user's data (GDPR): messages (removed or tombstoned, per the app), files, devices, push tokens, presence")
      .requiredOption("--app <app-id>", "the app", appId)
      .requiredOption("--identity <identity>", "the user", identity)
      .option("--yes", "really erase (required: there is no undo)"),
    async (b, _a, o, print) => {
      if (!o.yes) throw new UsageError(`user erase removes ${o.identity}'s data from ${o.app} for good: add --yes to confirm`);
      const r = await b.eraseUser(o.app as string, o.identity as string);
      print(
        r,
        r.already_erased
          ? `nothing left of ${r.identity} in ${r.app_id} (already erased)`
          : `erased ${r.identity} in ${r.app_id} (messages: ${r.messages}): ${summary(r.removed)}`,
      );
    },
  );
  admin(
    user
      .command("export")
      .description("write everything stored about a user as one JSON document (GDPR access)")
      .requiredOption("--app <app-id>", "the app", appId)
      .requiredOption("--identity <identity>", "the user", identity)
      .option("--out <file>", "write to this file (mode 0600) instead of stdout"),
    async (b, _a, o, print) => {
      const r = await b.exportUser(o.app as string, o.identity as string);
      if (o.out) {
        writeFileSync(o.out as string, `${JSON.stringify(r, null, 2)}\n`, { mode: 0o600 });
        print(
          { file: o.out, messages: r.messages.length, files: r.files.length },
          `wrote ${o.out} (${r.messages.length} messages, ${r.files.length} files)`,
        );
      } else io.out(JSON.stringify(r, null, 2));
    },
  );
  admin(
    user
      .command("ban")
      .description("ban a user: tokens stop working, open sockets close")
      .requiredOption("--app <app-id>", "the app", appId)
      .requiredOption("--identity <identity>", "the user", identity)
      .option("--reason <text>", "why (shown to admins)"),
    async (b, _a, o, print) => {
      const r = await b.ban(o.app as string, o.identity as string, o.reason as string | undefined);
      print(r, `banned ${r.identity} in ${r.app_id}`);
    },
  );
  admin(
    user
      .command("unban")
      .description("lift a ban")
      .requiredOption("--app <app-id>", "the app", appId)
      .requiredOption("--identity <identity>", "the user", identity),
    async (b, _a, o, print) => {
      const r = await b.unban(o.app as string, o.identity as string);
      print(r, `unbanned ${r.identity} in ${r.app_id}`);
    },
  );

  // ----- operator -----
  const operator = program
    .command("operator")
    .description("support operators of an app (add, remove, list) and web console operator accounts (create)");
  admin(
    operator
      .command("create")
      .description("create a web console (/console) operator account; the password is read from standard input")
      .argument("<username>", "3–64 characters: a–z, 0–9, '.', '_' or '-'", consoleUsername)
      .option("--password-stdin", "read the password from standard input (the only way; accepted for clarity in scripts)"),
    async (b, [username], _o, print) => {
      const password = (await (io.stdin ?? readStdin)()).replace(/\r?\n$/, "");
      const checked = ConsolePassword.safeParse(password);
      if (!checked.success) throw new UsageError(`the password must be ${checked.error.issues[0]?.message ?? "12–256 characters"}`);
      const r = await b.createConsoleOperator(username as string, password);
      print(r, `console operator ${r.username} created; sign in at /console`);
    },
  );
  admin(
    operator
      .command("add")
      .description("make a user a support operator")
      .requiredOption("--app <app-id>", "the app", appId)
      .requiredOption("--identity <identity>", "the user", identity),
    async (b, _a, o, print) => {
      const r = await b.addOperator(o.app as string, o.identity as string);
      print(r, `${r.identity} is an operator of ${o.app}`);
    },
  );
  admin(
    operator
      .command("remove")
      .description("remove a support operator")
      .requiredOption("--app <app-id>", "the app", appId)
      .requiredOption("--identity <identity>", "the user", identity),
    async (b, _a, o, print) => {
      const id = o.identity as string;
      await b.removeOperator(o.app as string, id);
      print({ identity: id, removed: true }, `${id} is no longer an operator of ${o.app}`);
    },
  );
  admin(
    operator.command("list").description("list support operators").requiredOption("--app <app-id>", "the app", appId),
    async (b, _a, o, print) => {
      const ops = await b.listOperators(o.app as string);
      print(ops, ops.length ? ops.map((x) => `${x.identity}  since ${x.created_at}`).join("\n") : "no operators");
    },
  );

  // ----- push -----
  const push = program.command("push").description("push provider credentials (write-only: fingerprints are shown)");
  admin(
    push
      .command("set-apns")
      .description("set APNs token-auth credentials")
      .requiredOption("--app <app-id>", "the app", appId)
      .requiredOption("--key-file <file.p8>", "the .p8 signing key")
      .requiredOption("--key-id <kid>", "the key's id", nonEmpty)
      .requiredOption("--team-id <tid>", "the Apple team id", nonEmpty)
      .requiredOption("--bundle-id <id>", "the app's bundle id", nonEmpty)
      .option("--production", "use the production APNs host"),
    async (b, _a, o, print) => {
      const r = await b.setPush(o.app as string, "apns", {
        key_p8: readText(o.keyFile as string),
        key_id: o.keyId as string,
        team_id: o.teamId as string,
        bundle_id: o.bundleId as string,
        production: o.production === true,
      });
      print(r, `APNs credentials set for ${o.app} (fingerprint ${r.fingerprint})`);
    },
  );
  admin(
    push
      .command("set-fcm")
      .description("set FCM HTTP v1 credentials")
      .requiredOption("--app <app-id>", "the app", appId)
      .requiredOption("--service-account <file.json>", "the service account's JSON key file"),
    async (b, _a, o, print) => {
      let account: unknown;
      try {
        account = JSON.parse(readText(o.serviceAccount as string));
      } catch (err) {
        if (err instanceof CliError) throw err;
        throw new CliError("--service-account must be the service account's JSON file");
      }
      const r = await b.setPush(o.app as string, "fcm", account as SetFcmCredentialsRequest);
      print(r, `FCM credentials set for ${o.app} (fingerprint ${r.fingerprint})`);
    },
  );
  admin(
    push
      .command("set-vapid")
      .description("set Web Push VAPID keys")
      .requiredOption("--app <app-id>", "the app", appId)
      .requiredOption("--public-key <key>", "VAPID public key", nonEmpty)
      .requiredOption("--private-key <key>", "VAPID private key", nonEmpty)
      .requiredOption("--subject <mailto-or-https>", "mailto:… or https://…", nonEmpty),
    async (b, _a, o, print) => {
      const r = await b.setPush(o.app as string, "vapid", {
        public_key: o.publicKey as string,
        private_key: o.privateKey as string,
        subject: o.subject as string,
      });
      print(r, `VAPID keys set for ${o.app} (fingerprint ${r.fingerprint})`);
    },
  );
  admin(
    push.command("show").description("show push credential fingerprints").requiredOption("--app <app-id>", "the app", appId),
    async (b, _a, o, print) => {
      const c = await b.pushConfig(o.app as string);
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
    },
  );

  // ----- webhooks and the before-send hook (through a running engine: they need its dispatcher) -----
  const webhook = program.command("webhook").description("outgoing webhook endpoints, their delivery log and replay");
  const hooksOf = (b: AdminBackend) => {
    if (!b.webhook) throw new CliError("webhook and hook commands need a running engine (utd serve), not the storage");
    return b.webhook;
  };
  const events = (v: string): CreateWebhookRequest["events"] =>
    v
      .split(",")
      .map((e) => e.trim())
      .filter(Boolean) as CreateWebhookRequest["events"];
  admin(
    webhook
      .command("add")
      .description("add an endpoint (prints its signing secret once)")
      .requiredOption("--app <app-id>", "the app", appId)
      .requiredOption("--target-url <https-url>", "where deliveries go", nonEmpty)
      .requiredOption("--events <list>", "comma-separated event types (docs/webhooks.md)", nonEmpty),
    async (b, _a, o, print) => {
      const ep = await hooksOf(b).add(o.app as string, { url: o.targetUrl as string, events: events(o.events as string) });
      print(ep, `added ${ep.id} → ${ep.url}\nsecret: ${ep.secret}\n(the secret is shown only now)`);
    },
  );
  admin(
    webhook.command("list").description("list endpoints").requiredOption("--app <app-id>", "the app", appId),
    async (b, _a, o, print) => {
      const eps = await hooksOf(b).list(o.app as string);
      print(
        eps,
        eps.length
          ? eps.map((e) => `${e.id}  ${e.enabled ? "enabled " : "DISABLED"} ${e.url}  ${e.events.join(",")}`).join("\n")
          : "no webhook endpoints",
      );
    },
  );
  for (const [name, what] of [
    ["remove", "remove an endpoint and its queue"],
    ["enable", "enable an endpoint (its queue resumes)"],
    ["disable", "disable an endpoint"],
  ] as const) {
    admin(
      webhook
        .command(name)
        .description(what)
        .requiredOption("--app <app-id>", "the app", appId)
        .requiredOption("--id <endpoint-id>", "the endpoint", nonEmpty),
      async (b, _a, o, print) => {
        const w = hooksOf(b);
        if (name === "remove") {
          await w.remove(o.app as string, o.id as string);
          print({ id: o.id, removed: true }, `removed ${o.id}`);
          return;
        }
        const ep = await w.enable(o.app as string, o.id as string, name === "enable");
        print(ep, `${ep.id} ${ep.enabled ? "enabled" : "disabled"}`);
      },
    );
  }
  admin(
    webhook
      .command("rotate-secret")
      .description("new signing secret; the old one also signs for --overlap-s seconds")
      .requiredOption("--app <app-id>", "the app", appId)
      .requiredOption("--id <endpoint-id>", "the endpoint", nonEmpty)
      .option("--overlap-s <seconds>", "how long the old secret keeps signing (default 86400)", nonEmpty),
    async (b, _a, o, print) => {
      const ep = await hooksOf(b).rotate(o.app as string, o.id as string, Number(o.overlapS ?? 86400));
      print(ep, `rotated ${ep.id}\nsecret: ${ep.secret}\n(the old secret also signs until ${ep.previous_secret_expires_at ?? "now"})`);
    },
  );
  admin(
    webhook
      .command("deliveries")
      .description("the delivery log (state dead = the dead-letter list)")
      .requiredOption("--app <app-id>", "the app", appId)
      .requiredOption("--id <endpoint-id>", "the endpoint", nonEmpty)
      .option("--state <state>", "pending, sending, delivered, dead or replayed", nonEmpty),
    async (b, _a, o, print) => {
      const d = await hooksOf(b).deliveries(o.app as string, o.id as string, o.state as string | undefined);
      print(
        d,
        d.messages
          .map((m) => `${m.event_id}  ${m.type.padEnd(20)} ${m.state.padEnd(9)} attempts ${m.attempts}  ${m.last_error ?? ""}`)
          .join("\n") || "no deliveries",
      );
    },
  );
  admin(
    webhook
      .command("replay")
      .description("send an event again (same webhook-id), or every dead-lettered one")
      .requiredOption("--app <app-id>", "the app", appId)
      .requiredOption("--id <endpoint-id>", "the endpoint", nonEmpty)
      .option("--event <event-id>", "the event to send again", nonEmpty)
      .option("--dead", "every dead-lettered event"),
    async (b, _a, o, print) => {
      if (o.dead !== true && !o.event) throw new CliError("name --event EVT or --dead");
      const by = o.dead === true ? ({ dead: true } as const) : { event_id: o.event as string };
      const r = await hooksOf(b).replay(o.app as string, o.id as string, by);
      print(r, `replayed ${r.replayed}`);
    },
  );
  const hook = program.command("hook").description("the app's before-send hook (allow / reject / replace)");
  admin(
    hook
      .command("set-before-send")
      .description("set the hook (prints its signing secret once)")
      .requiredOption("--app <app-id>", "the app", appId)
      .requiredOption("--target-url <https-url>", "the hook's URL", nonEmpty)
      .option("--timeout-ms <ms>", "how long to wait for the answer (default 2000)", nonEmpty)
      .option("--fail-closed", "refuse messages when the hook fails or times out (default: store them)"),
    async (b, _a, o, print) => {
      const h = await hooksOf(b).setHook(o.app as string, {
        url: o.targetUrl as string,
        policy: o.failClosed === true ? "fail_closed" : "fail_open",
        ...(o.timeoutMs ? { timeout_ms: Number(o.timeoutMs) } : {}),
      });
      print(h, `before-send hook: ${h.url} (${h.policy}, ${h.timeout_ms} ms)\nsecret: ${h.secret}\n(the secret is shown only now)`);
    },
  );
  admin(
    hook.command("show").description("show the hook (not its secret)").requiredOption("--app <app-id>", "the app", appId),
    async (b, _a, o, print) => {
      const h = await hooksOf(b).showHook(o.app as string);
      print(h, `before-send hook: ${h.url} (${h.policy}, ${h.timeout_ms} ms)`);
    },
  );
  admin(
    hook.command("remove").description("remove the hook").requiredOption("--app <app-id>", "the app", appId),
    async (b, _a, o, print) => {
      await hooksOf(b).removeHook(o.app as string);
      print({ removed: true }, "before-send hook removed");
    },
  );

  return program;
}

/** Seconds a stopping node gets, after its unready and drain periods, to finish requests before it is killed. */
const SHUTDOWN_MARGIN_S = 10;

async function serve(opts: Record<string, string | boolean | undefined>, io: Out, processEnv: Env): Promise<void> {
  const file = typeof opts.config === "string" ? await readConfigFile(opts.config) : {};
  // Set (non-empty) environment variables win over the file.
  const env: Env = { ...file };
  for (const [k, v] of Object.entries(processEnv)) if (v !== undefined && v !== "") env[k] = v;
  for (const st of SETTINGS) {
    const v = opts[st.flag.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase())];
    if (typeof v === "string") env[st.env] = v;
  }
  if (opts.demo) env.UTD_DEMO = "1";
  const base = loadConfig(env);
  const config: EngineConfig = { ...base, adminToken: ensureAdminToken(base.dataDir, base.adminToken) };
  // Loaded here, not at the top: the admin commands need only the store, and loading the whole engine
  // (Fastify, LiveKit SDK, Redis…) roughly doubled the start-up time of every `utd app …` call.
  const { createEngine } = await import("./index.js");
  const { stdoutSink } = await import("./http/logger.js");
  const engine = await createEngine(config);
  const log = engine.http.log;
  let stopping = false;
  const exit = async (code: number) => {
    // What the log reader has not taken yet is given a moment, never more (it may have stalled).
    await stdoutSink().waitForReader(1000);
    process.exit(code);
  };
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal (Ctrl-C twice): skip the drain.
      log.warn({ signal }, "second signal: exiting now");
      void exit(1);
      return;
    }
    stopping = true;
    const { unreadyS, drainS } = config.shutdown;
    // The deadline holds even when the event loop is stuck (see armExitWatchdog).
    const deadlineMs = (unreadyS + drainS + SHUTDOWN_MARGIN_S) * 1000;
    armExitWatchdog(deadlineMs);
    const force = setTimeout(() => {
      log.warn(`shutdown took longer than ${deadlineMs / 1000}s; exiting`);
      void exit(1);
    }, deadlineMs - 500);
    force.unref();
    log.info({ signal }, "shutting down: draining sockets, then requests");
    engine
      .drain()
      .then(() => engine.close())
      .then(
        () => {
          log.info("stopped");
          return exit(0);
        },
        (err: unknown) => {
          log.error({ err }, "error while stopping");
          return exit(1);
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
        `  Operator console: ${url}/console/  (create an account: printf %s "$PASSWORD" | npx utd operator create NAME --password-stdin)`,
        `  Storage: ${engine.store.describe}`,
        config.livekit
          ? `  Media: LiveKit at ${config.livekit.url}`
          : '  Media: no LiveKit configured — calls ring and chat works, media endpoints answer media_unavailable.\n         To enable media: scripts/livekit/install.sh && eval "$(scripts/livekit/start.sh)" && npm start',
        "",
      ].join("\n"),
    );
  }
  await new Promise<never>(() => {});
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

/**
 * Picks where an admin command acts: the storage it was explicitly pointed at, else the running engine's
 * admin API. It never opens (and so never creates) a store on its own.
 */
async function backend(opts: TargetOptions, env: Env): Promise<AdminBackend> {
  if (opts.dataDir !== undefined || opts.databaseUrl !== undefined) {
    if (opts.dataDir !== undefined && !statSync(opts.dataDir, { throwIfNoEntry: false })?.isDirectory())
      throw new ConfigError(`--data-dir ${opts.dataDir} is not a directory (the CLI does not create stores; \`utd serve\` does)`);
    if (opts.dataDir === undefined && !(env.UTD_MASTER_KEY && env.UTD_TOKEN_SECRET))
      throw new ConfigError(
        "--database-url also needs the engine's keys: --data-dir D (its keys.json) or UTD_MASTER_KEY and UTD_TOKEN_SECRET",
      );
    const storeEnv: Env = { ...env, DATABASE_URL: opts.databaseUrl ?? "" };
    if (opts.dataDir !== undefined) storeEnv.UTD_DATA_DIR = opts.dataDir;
    return storeBackend(loadConfig(storeEnv), storeEnv);
  }
  const config = loadConfig(env);
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  const url = (opts.url ?? env.UTD_URL ?? `http://${host.includes(":") ? `[${host}]` : host}:${config.port}`).replace(/\/$/, "");
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1500) });
    const body = (await res.json()) as { service?: string };
    if (res.ok && body.service === "utd-stream") {
      const token = opts.adminToken ?? config.adminToken ?? readAdminToken(config.dataDir);
      if (!token) throw new CliError(`an engine runs at ${url} but no admin token is known: pass --admin-token or set UTD_ADMIN_TOKEN`);
      return httpBackend(url, token);
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
  }
  throw new NoEngineError(
    `no UTD Stream engine answers at ${url}. Start one (utd serve), point at it (--url or UTD_URL), or act on storage directly with --data-dir DIR or --database-url URL.`,
  );
}
