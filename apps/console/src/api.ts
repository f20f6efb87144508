import type {
  AdminUser,
  AdminUserList,
  App,
  AppWithSecret,
  Ban,
  ConsoleOperator,
  ConsoleOperatorList,
  ConsoleSession,
  Conversation,
  DailyUsage,
  LiveStats,
  Message,
  PushConfig,
  Report,
  ReportAction,
  ReportList,
  UpdateAppRequest,
  Usage,
  UserDevices,
  UserErasure,
  UserRevocation,
  WebhookAttempt,
  WebhookEndpoint,
  WebhookMessage,
} from "@utd-stream/protocol";

/** An error the engine answered with (`{"error":{"code","message"}}`), or a network failure (`network`). */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrf: string | undefined;
/** Told when the session is gone (401), so the page returns to sign-in. */
let onSignedOut: () => void = () => {};

export function whenSignedOut(fn: () => void): void {
  onSignedOut = fn;
}

/**
 * One request to the engine, same origin, with the session cookie; unsafe methods carry the session's
 * CSRF token in `x-csrf-token`.
 */
async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrf) headers["x-csrf-token"] = csrf;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: "same-origin", body: body === undefined ? null : JSON.stringify(body) });
  } catch (err) {
    throw new ApiFailure(0, "network", (err as Error).message);
  }
  const text = await res.text();
  const data = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const e = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
    if (res.status === 401 && !path.startsWith("/console/v1/session")) onSignedOut();
    throw new ApiFailure(res.status, e?.code ?? "internal", e?.message ?? res.statusText);
  }
  return data as T;
}

const enc = encodeURIComponent;
const app = (id: string, tail = "") => `/admin/v1/apps/${enc(id)}${tail}`;

export const api = {
  /** The current session (restores the CSRF token after a reload), or undefined. */
  async session(): Promise<ConsoleSession | undefined> {
    try {
      const s = await call<ConsoleSession>("GET", "/console/v1/session");
      csrf = s.csrf_token;
      return s;
    } catch {
      return undefined;
    }
  },
  async signIn(body: { username: string; password: string } | { admin_token: string }): Promise<ConsoleSession> {
    const s = await call<ConsoleSession>("POST", "/console/v1/session", body);
    csrf = s.csrf_token;
    return s;
  },
  async signOut(): Promise<void> {
    await call("DELETE", "/console/v1/session");
    csrf = undefined;
  },
  apps: () => call<{ apps: App[] }>("GET", "/admin/v1/apps"),
  createApp: (body: { name: string; plan: string; auth_mode: string }) => call<AppWithSecret>("POST", "/admin/v1/apps", body),
  updateApp: (id: string, body: UpdateAppRequest) => call<App>("PATCH", app(id), body),
  rotate: (id: string, which: "key" | "secret") => call<App | AppWithSecret>("POST", app(id, "/rotate-key"), { which }),
  deleteApp: (id: string) => call<unknown>("DELETE", app(id)),
  usage: (id: string) => call<Usage>("GET", app(id, "/usage")),
  daily: (id: string, days: number) => call<DailyUsage>("GET", app(id, `/usage/daily?days=${days}`)),
  live: () => call<LiveStats>("GET", "/admin/v1/live"),
  users: (id: string, q: string) => call<AdminUserList>("GET", app(id, `/users?limit=50${q ? `&q=${enc(q)}` : ""}`)),
  user: (id: string, identity: string) => call<AdminUser>("GET", app(id, `/users/${enc(identity)}`)),
  devices: (id: string, identity: string) => call<UserDevices>("GET", app(id, `/users/${enc(identity)}/devices`)),
  ban: (id: string, identity: string, reason?: string) => call<Ban>("POST", app(id, "/bans"), { identity, ...(reason ? { reason } : {}) }),
  unban: (id: string, identity: string) => call<Ban>("DELETE", app(id, `/bans/${enc(identity)}`)),
  revoke: (id: string, identity: string) => call<UserRevocation>("POST", app(id, `/users/${enc(identity)}/revoke`)),
  erase: (id: string, identity: string) => call<UserErasure>("DELETE", app(id, `/users/${enc(identity)}`)),
  closeConversation: (id: string, conv: string, close: boolean) =>
    call<Conversation>("POST", app(id, `/conversations/${enc(conv)}/${close ? "close" : "reopen"}`)),
  deleteMessage: (id: string, conv: string, msg: string) =>
    call<Message>("DELETE", app(id, `/conversations/${enc(conv)}/messages/${enc(msg)}`)),
  reports: (id: string) => call<ReportList>("GET", app(id, "/reports?state=open&limit=50")),
  resolveReport: (id: string, report: string, action: ReportAction) =>
    call<Report>("POST", app(id, `/reports/${enc(report)}/resolve`), { action }),
  webhooks: (id: string) => call<{ endpoints: WebhookEndpoint[] }>("GET", app(id, "/webhooks")),
  deliveries: (id: string, ep: string) =>
    call<{ messages: WebhookMessage[]; attempts: WebhookAttempt[] }>("GET", app(id, `/webhooks/${enc(ep)}/deliveries?limit=50`)),
  replay: (id: string, ep: string, body: { event_id: string } | { dead: true }) =>
    call<{ replayed: number }>("POST", app(id, `/webhooks/${enc(ep)}/replay`), body),
  push: (id: string) => call<PushConfig>("GET", app(id, "/push")),
  operators: () => call<ConsoleOperatorList>("GET", "/admin/v1/console/operators"),
  createOperator: (username: string, password: string) =>
    call<ConsoleOperator>("POST", "/admin/v1/console/operators", { username, password }),
  removeOperator: (username: string) => call<unknown>("DELETE", `/admin/v1/console/operators/${enc(username)}`),
};
