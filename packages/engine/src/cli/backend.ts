import type {
  AdminUser,
  AdminUserList,
  App,
  AppDeleteReport,
  AppWithSecret,
  Ban,
  ConsoleOperator,
  CreateAppRequest,
  CreateWebhookRequest,
  ErrorBody,
  Operator,
  PushConfig,
  PushCredentialInfo,
  PushProvider,
  SetApnsCredentialsRequest,
  SetBeforeSendHookRequest,
  SetFcmCredentialsRequest,
  SetVapidCredentialsRequest,
  UpdateAppRequest,
  Usage,
  UserErasure,
  UserExport,
  WebhookAttempt,
  WebhookEndpoint,
  WebhookEndpointWithSecret,
  WebhookMessage,
} from "@utd-stream/protocol";
import { systemClock } from "../core/clock.js";
import type { EngineConfig } from "../core/config.js";
import { Hooks } from "../core/hooks.js";
import { loadKeys } from "../core/keys.js";
import { MemoryRateLimiter } from "../core/rate-limit.js";
import { openFileStore } from "../files/index.js";
import { AppsService } from "../modules/apps/index.js";
import { ConsoleService } from "../modules/console/index.js";
import { migrationsOf } from "../modules/index.js";
import { LifecycleService } from "../modules/lifecycle/index.js";
import { PushCredentials } from "../modules/push/index.js";
import { Operators } from "../modules/support/index.js";
import { UsersService } from "../modules/users/index.js";
import { connectStore } from "../store/db.js";
import type { Store } from "../store/port.js";

/** What the CLI does to apps and users, through a running engine or straight on storage. */
export interface AdminBackend {
  /** Human-readable: "engine at http://…" or "storage sqlite:…". */
  via: string;
  createApp(req: CreateAppRequest): Promise<AppWithSecret>;
  listApps(): Promise<App[]>;
  showApp(id: string): Promise<App>;
  updateApp(id: string, req: UpdateAppRequest): Promise<App>;
  rotate(id: string, which: "key" | "secret"): Promise<App | AppWithSecret>;
  usage(id: string, month?: string): Promise<Usage>;
  ban(appId: string, identity: string, reason?: string): Promise<Ban>;
  /** Users of an app (`utd user list|show`). */
  listUsers(appId: string, opts: { prefix?: string; limit: number; cursor?: string }): Promise<AdminUserList>;
  showUser(appId: string, identity: string): Promise<AdminUser>;
  /** The data lifecycle (`utd user erase|export`, `utd app delete`). */
  eraseUser(appId: string, identity: string): Promise<UserErasure>;
  exportUser(appId: string, identity: string): Promise<UserExport>;
  deleteApp(appId: string): Promise<AppDeleteReport>;
  unban(appId: string, identity: string): Promise<Ban>;
  /** The support operator role (`utd operator add|remove|list`). */
  listOperators(appId: string): Promise<Operator[]>;
  addOperator(appId: string, identity: string): Promise<Operator>;
  /** A web console operator account (`utd operator create`). */
  createConsoleOperator(username: string, password: string): Promise<ConsoleOperator>;
  removeOperator(appId: string, identity: string): Promise<void>;
  /** Push provider credentials (`utd push set-apns|set-fcm|set-vapid|show`). */
  setPush(appId: string, provider: "apns", body: SetApnsCredentialsRequest): Promise<PushCredentialInfo>;
  setPush(appId: string, provider: "fcm", body: SetFcmCredentialsRequest): Promise<PushCredentialInfo>;
  setPush(appId: string, provider: "vapid", body: SetVapidCredentialsRequest): Promise<PushCredentialInfo>;
  pushConfig(appId: string): Promise<PushConfig>;
  /** Webhook endpoints (`utd webhook …`) and the before-send hook (`utd hook …`): engine only (they need its dispatcher). */
  webhook?: {
    add(appId: string, req: CreateWebhookRequest): Promise<WebhookEndpointWithSecret>;
    list(appId: string): Promise<WebhookEndpoint[]>;
    remove(appId: string, id: string): Promise<void>;
    rotate(appId: string, id: string, overlapS: number): Promise<WebhookEndpointWithSecret>;
    enable(appId: string, id: string, enabled: boolean): Promise<WebhookEndpoint>;
    deliveries(appId: string, id: string, state?: string): Promise<{ messages: WebhookMessage[]; attempts: WebhookAttempt[] }>;
    replay(appId: string, id: string, by: { event_id: string } | { dead: true }): Promise<{ replayed: number }>;
    setHook(appId: string, req: SetBeforeSendHookRequest): Promise<{ url: string; policy: string; timeout_ms: number; secret: string }>;
    showHook(appId: string): Promise<{ url: string; policy: string; timeout_ms: number }>;
    removeHook(appId: string): Promise<void>;
  };
  close(): Promise<void>;
}

/** A CLI failure with the engine's error code when there is one. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Talks to a running engine's admin API, so changes take effect at once (a ban closes open sockets). */
export function httpBackend(baseUrl: string, adminToken: string): AdminBackend {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const err = (json as ErrorBody | undefined)?.error;
      throw new CliError(err ? `${err.code}: ${err.message}` : `HTTP ${res.status}`, err?.code);
    }
    return json as T;
  }
  const enc = encodeURIComponent;
  return {
    via: `engine at ${baseUrl}`,
    createApp: (req) => call("POST", "/admin/v1/apps", req),
    listApps: async () => (await call<{ apps: App[] }>("GET", "/admin/v1/apps")).apps,
    showApp: (id) => call("GET", `/admin/v1/apps/${enc(id)}`),
    updateApp: (id, req) => call("PATCH", `/admin/v1/apps/${enc(id)}`, req),
    rotate: (id, which) => call("POST", `/admin/v1/apps/${enc(id)}/rotate-key`, { which }),
    usage: (id, month) => call("GET", `/admin/v1/apps/${enc(id)}/usage${month ? `?month=${enc(month)}` : ""}`),
    ban: (appId, identity, reason) => call("POST", `/admin/v1/apps/${enc(appId)}/bans`, reason ? { identity, reason } : { identity }),
    unban: (appId, identity) => call("DELETE", `/admin/v1/apps/${enc(appId)}/bans/${enc(identity)}`),
    listUsers: (appId, opts) => {
      const q = new URLSearchParams({ limit: String(opts.limit) });
      if (opts.prefix) q.set("q", opts.prefix);
      if (opts.cursor) q.set("cursor", opts.cursor);
      return call("GET", `/admin/v1/apps/${enc(appId)}/users?${q}`);
    },
    showUser: (appId, identity) => call("GET", `/admin/v1/apps/${enc(appId)}/users/${enc(identity)}`),
    eraseUser: (appId, identity) => call("DELETE", `/admin/v1/apps/${enc(appId)}/users/${enc(identity)}`),
    exportUser: (appId, identity) => call("GET", `/admin/v1/apps/${enc(appId)}/users/${enc(identity)}/export`),
    deleteApp: (appId) => call("DELETE", `/admin/v1/apps/${enc(appId)}`),
    listOperators: async (appId) => (await call<{ operators: Operator[] }>("GET", `/admin/v1/apps/${enc(appId)}/operators`)).operators,
    addOperator: (appId, identity) => call("POST", `/admin/v1/apps/${enc(appId)}/operators`, { identity }),
    createConsoleOperator: (username, password) => call("POST", "/admin/v1/console/operators", { username, password }),
    removeOperator: (appId, identity) => call("DELETE", `/admin/v1/apps/${enc(appId)}/operators/${enc(identity)}`),
    setPush: (appId: string, provider: PushProvider, body: unknown) =>
      call<PushCredentialInfo>("PUT", `/admin/v1/apps/${enc(appId)}/push/${provider}`, body),
    pushConfig: (appId) => call("GET", `/admin/v1/apps/${enc(appId)}/push`),
    webhook: {
      add: (appId, req) => call("POST", `/admin/v1/apps/${enc(appId)}/webhooks`, req),
      list: async (appId) => (await call<{ endpoints: WebhookEndpoint[] }>("GET", `/admin/v1/apps/${enc(appId)}/webhooks`)).endpoints,
      remove: (appId, id) => call("DELETE", `/admin/v1/apps/${enc(appId)}/webhooks/${enc(id)}`),
      rotate: (appId, id, overlap_s) => call("POST", `/admin/v1/apps/${enc(appId)}/webhooks/${enc(id)}/rotate-secret`, { overlap_s }),
      enable: (appId, id, enabled) => call("PATCH", `/admin/v1/apps/${enc(appId)}/webhooks/${enc(id)}`, { enabled }),
      deliveries: (appId, id, state) =>
        call("GET", `/admin/v1/apps/${enc(appId)}/webhooks/${enc(id)}/deliveries${state ? `?state=${enc(state)}` : ""}`),
      replay: (appId, id, by) => call("POST", `/admin/v1/apps/${enc(appId)}/webhooks/${enc(id)}/replay`, by),
      setHook: (appId, req) => call("PUT", `/admin/v1/apps/${enc(appId)}/hooks/before-send`, req),
      showHook: (appId) => call("GET", `/admin/v1/apps/${enc(appId)}/hooks/before-send`),
      removeHook: (appId) => call("DELETE", `/admin/v1/apps/${enc(appId)}/hooks/before-send`),
    },
    close: async () => {},
  };
}

/** Works on the storage directly (no engine running): the same services the engine uses. */
export async function storeBackend(config: EngineConfig, env: Record<string, string | undefined> = process.env): Promise<AdminBackend> {
  // Not the engine's openStore: importing index.ts would load the HTTP server and every adapter, which a
  // storage-only command never uses (each `utd` invocation pays for its imports).
  const store: Store = await connectStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }, migrationsOf());
  const hooks = new Hooks();
  const apps = new AppsService(store, loadKeys(config.dataDir, env).sealKey, systemClock, hooks);
  const users = new UsersService(store, systemClock, hooks);
  const operators = new Operators(store, systemClock);
  const keys = loadKeys(config.dataDir, env);
  const tokenKey = config.tokenSecret ? new TextEncoder().encode(config.tokenSecret) : keys.tokenKey;
  const files = await openFileStore({ dataDir: config.dataDir, s3: config.s3, signingKey: tokenKey, clock: systemClock });
  const lifecycle = new LifecycleService(store, files, apps, systemClock, hooks);
  const push = new PushCredentials(store, loadKeys(config.dataDir).sealKey, systemClock);
  const wrap = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      const e = err as { code?: string; message?: string };
      throw new CliError(e.code ? `${e.code}: ${e.message}` : String(e.message ?? err), e.code);
    }
  };
  return {
    via: `storage ${store.describe}`,
    createApp: (req) => wrap(() => apps.create(req)),
    listApps: () => wrap(async () => (await apps.list()).map(AppsService.toWire)),
    showApp: (id) => wrap(async () => AppsService.toWire(await apps.get(id))),
    updateApp: (id, req) => wrap(async () => AppsService.toWire(await apps.update(id, req))),
    rotate: (id, which) => wrap(() => apps.rotate(id, which)),
    usage: (id, month) => wrap(() => apps.usage(id, month)),
    ban: (appId, identity, reason) =>
      wrap(async () => {
        await apps.get(appId);
        return users.ban(appId, identity, reason);
      }),
    unban: (appId, identity) =>
      wrap(async () => {
        await apps.get(appId);
        return users.unban(appId, identity);
      }),
    listUsers: (appId, opts) =>
      wrap(async () => {
        await apps.get(appId);
        return users.list(appId, opts);
      }),
    showUser: (appId, identity) =>
      wrap(async () => {
        await apps.get(appId);
        return users.show(appId, identity);
      }),
    eraseUser: (appId, identity) => wrap(() => lifecycle.eraseUser(appId, identity)),
    exportUser: (appId, identity) => wrap(() => lifecycle.exportUser(appId, identity)),
    deleteApp: (appId) => wrap(() => lifecycle.deleteApp(appId)),
    listOperators: (appId) =>
      wrap(async () => {
        await apps.get(appId);
        return operators.list(appId);
      }),
    createConsoleOperator: (username, password) =>
      wrap(() => new ConsoleService(store, systemClock, new MemoryRateLimiter(systemClock), undefined).createOperator(username, password)),
    addOperator: (appId, identity) =>
      wrap(async () => {
        await apps.get(appId);
        return operators.add(appId, identity);
      }),
    removeOperator: (appId, identity) =>
      wrap(async () => {
        await apps.get(appId);
        await operators.remove(appId, identity);
      }),
    setPush: (appId: string, provider: PushProvider, body: unknown) =>
      wrap(async () => {
        await apps.get(appId);
        if (provider === "apns") return push.setApns(appId, body as SetApnsCredentialsRequest);
        if (provider === "fcm") return push.setFcm(appId, body as SetFcmCredentialsRequest);
        return push.setVapid(appId, body as SetVapidCredentialsRequest);
      }),
    pushConfig: (appId) =>
      wrap(async () => {
        const app = await apps.get(appId);
        return { credentials: await push.info(appId), include_message_text: app.settings.push_include_text !== false };
      }),
    close: () => store.close(),
  };
}
