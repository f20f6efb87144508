import { type SessionRequest, type SessionResponse, UTDStreamException } from "@utd-stream/protocol";
import { sessionFromWire, type UTDAuthSession } from "../wire/session.js";
import { type CredentialsFetcher, TokenSource } from "./token-source.js";

/** A `fetch` implementation (the global one by default; pass one for older runtimes or tests). */
export type FetchLike = (
  input: string,
  init?: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<{
  status: number;
  text(): Promise<string>;
}>;

/** Bytes to upload: a `Blob`/`File`, an `ArrayBuffer` or a typed array. */
export type UploadData = Blob | ArrayBuffer | Uint8Array;

/** A `fetch` able to PUT binary bodies (the global one by default). */
export type BinaryFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: UploadData },
) => Promise<{ status: number; text(): Promise<string> }>;

export interface UTDApiOptions {
  /** The engine's base URL, e.g. `https://rtc.example.com` (no trailing `/api/v1`). */
  baseUrl: string;
  /** Where user tokens come from (see {@link TokenSource}); or pass `token` for a fixed one. */
  tokens?: TokenSource;
  /** A fixed user token (ignored when `tokens` is given). */
  token?: string;
  fetch?: FetchLike;
  /** A binary-capable fetch for uploads (defaults to `fetch`, else the global one). */
  fetchBinary?: BinaryFetch;
}

/** What a session mint needs (seed: app id + key + user id, plus an identity token in signed mode). */
export interface MintSessionParams {
  appId: string;
  appKey: string;
  identity: string;
  name?: string;
  deviceId?: string;
  /** Signed mode: the JWT your backend signed with the app secret. */
  identityToken?: string;
}

/** Request options of {@link UTDApi.request}. */
export interface RequestOptions {
  /** Send the user token (default true). */
  auth?: boolean;
  /** Another base URL for this call (the media SDK's `tokenBaseUrl`). */
  baseUrl?: string;
}

/**
 * The one REST client of the SDKs: JSON to and from the engine, the user token from a {@link TokenSource}
 * (a request refused with 401 asks the source for a new token once and is retried), and every failure a
 * `UTDStreamException` (`statusCode`, `code`, `isBanned`, `isRateLimited`, `isForbidden`,
 * `isFeatureDisabled`, `isSignalingDisabled`, `isChatDisabled`). Bodies are wire-shaped (snake_case); the
 * domain APIs (`CallsApi`, `ChatApi`, `SupportApi`, `MediaApi`, `UsersApi`) map to and from camelCase.
 *
 * @example
 * const api = new UTDApi({ baseUrl: "http://127.0.0.1:7800" });
 * const session = await api.mintSession({ appId, appKey, identity: "alice" });
 * api.tokens = TokenSource.fixed(session.userToken);
 * const calls = new CallsApi(api);
 */
export class UTDApi {
  readonly baseUrl: string;
  /** Where the user token comes from; undefined = anonymous calls only. */
  tokens: TokenSource | undefined;
  private readonly fetchImpl: FetchLike;
  private readonly fetchBinary: BinaryFetch | undefined;
  private readonly controllers = new Set<AbortController>();

  constructor(opts: UTDApiOptions) {
    this.baseUrl = trimSlash(opts.baseUrl);
    this.tokens = opts.tokens ?? (opts.token !== undefined ? TokenSource.fixed(opts.token) : undefined);
    const global = (globalThis as { fetch?: FetchLike }).fetch;
    // Held as a plain function and called without a receiver: browsers refuse a `fetch` called as a method
    // of another object ("Illegal invocation").
    const f = opts.fetch ?? (global ? (input: string, init?: Parameters<FetchLike>[1]) => global(input, init) : undefined);
    if (!f) throw new Error("UTDApi: no fetch available; pass options.fetch");
    this.fetchImpl = f;
    this.fetchBinary = opts.fetchBinary;
  }

  /** Uses this fixed user token from now on (shorthand for `tokens = TokenSource.fixed(token)`). */
  setToken(token: string | undefined): void {
    this.tokens = token === undefined ? undefined : TokenSource.fixed(token);
  }

  /**
   * Sends a JSON request; resolves to the parsed body, or throws `UTDStreamException`. An authenticated
   * call refused with 401 gets a new token from the source (shared with every concurrent caller) and is
   * sent once more.
   */
  async request<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    const tokens = opts.auth === false ? undefined : this.tokens;
    const token = tokens ? await tokens.token() : undefined;
    try {
      return await this.send<T>(method, path, body, token, opts.baseUrl);
    } catch (err) {
      if (!tokens?.renewable || !(err instanceof UTDStreamException) || err.statusCode !== 401) throw err;
      return this.send<T>(method, path, body, await tokens.refresh(token), opts.baseUrl);
    }
  }

  private async send<T>(method: string, path: string, body: unknown, token: string | undefined, base = this.baseUrl): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const init: Parameters<FetchLike>[1] & { headers: Record<string, string> } = { method, headers };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const ctl = typeof AbortController === "undefined" ? undefined : new AbortController();
    if (ctl) {
      init.signal = ctl.signal;
      this.controllers.add(ctl);
    }
    let res: { status: number; text(): Promise<string> };
    try {
      res = await this.fetchImpl(`${trimSlash(base)}${path}`, init);
    } catch (err) {
      throw UTDStreamException.network(err instanceof Error ? err.message : String(err));
    } finally {
      if (ctl) this.controllers.delete(ctl);
    }
    return parse<T>(res.status, await res.text());
  }

  /** PUTs bytes to a signed upload URL (no bearer: the URL carries its own authorization). */
  async put(url: string, method: string, headers: Record<string, string>, data: UploadData): Promise<void> {
    const global = (globalThis as { fetch?: BinaryFetch }).fetch;
    const f = this.fetchBinary ?? (this.fetchImpl as unknown as BinaryFetch | undefined) ?? global;
    if (!f) throw new Error("UTDApi: no fetch available for uploads");
    let res: { status: number; text(): Promise<string> };
    try {
      res = await f(url, { method, headers, body: data });
    } catch (err) {
      throw UTDStreamException.network(err instanceof Error ? err.message : String(err));
    }
    parse(res.status, await res.text());
  }

  /** `POST /api/v1/auth/session` (no bearer). Does not change this client's token source. */
  async mintSession(p: MintSessionParams): Promise<UTDAuthSession> {
    const body: SessionRequest = { app_id: p.appId, app_key: p.appKey, identity: p.identity };
    if (p.name !== undefined) body.name = p.name;
    if (p.deviceId !== undefined) body.device_id = p.deviceId;
    if (p.identityToken !== undefined) body.identity_token = p.identityToken;
    return sessionFromWire(await this.request<SessionResponse>("POST", "/api/v1/auth/session", body, { auth: false }));
  }

  /** `POST /api/v1/auth/revoke`: signs this user out on every device. */
  async revokeAll(): Promise<void> {
    await this.request("POST", "/api/v1/auth/revoke");
  }

  /** Aborts every request in flight (they fail with `network_error`). */
  abortAll(): void {
    for (const c of this.controllers) c.abort();
    this.controllers.clear();
  }
}

/**
 * Credentials from a session mint: open mode with the app key alone, signed mode with `identityToken()`
 * (a JWT your backend signs with the app secret) called on every mint.
 */
export function sessionCredentials(
  api: UTDApi,
  p: Omit<MintSessionParams, "identityToken"> & { identityToken?: () => Promise<string> },
): CredentialsFetcher {
  return async () => {
    const params: MintSessionParams = { appId: p.appId, appKey: p.appKey, identity: p.identity };
    if (p.name !== undefined) params.name = p.name;
    if (p.deviceId !== undefined) params.deviceId = p.deviceId;
    if (p.identityToken) params.identityToken = await p.identityToken();
    const session = await api.mintSession(params);
    return { token: session.userToken, expiresAt: session.expiresAt, session };
  };
}

/** The bytes of an upload body. */
export function byteLength(data: UploadData): number {
  return data instanceof ArrayBuffer || data instanceof Uint8Array ? data.byteLength : data.size;
}

/** Parses a response body; throws `UTDStreamException` for a status outside 2xx. */
export function parse<T>(status: number, text: string): T {
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (status < 200 || status >= 300) throw UTDStreamException.fromResponse(status, parsed);
  return parsed as T;
}

/** `https://x/` → `https://x`. */
export function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
