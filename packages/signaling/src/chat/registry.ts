import { UTDStreamException } from "@utd-stream/protocol";
import { UTDSignalClient, type WebSocketConstructor } from "../client.js";
import { type BinaryFetch, type FetchLike, sessionCredentials, trimSlash, UTDApi } from "../core/api.js";
import { jwtExpiry } from "../core/jwt.js";
import { type CredentialsFetcher, TokenSource } from "../core/token-source.js";
import type { OfflineOptions } from "./session.js";
import { ChatSession } from "./session.js";

export interface GetSessionParams {
  /** Your app's id. */
  appId: string;
  /** The user to act as; everything sent goes out as this user. */
  userId: string;
  /** A user token (`user_token` from `POST /api/v1/auth/session`). Ignored when the registry already has a session. */
  token?: string;
  /**
   * With `token`: returns a new user token when it expires or is refused (your backend mints it). Without
   * one, a session whose token expired is marked `failed` and the next `getSession` builds a new one.
   */
  tokenFetcher?: () => Promise<string>;
  /** Or mint one here: the publishable app key (open mode) … */
  appKey?: string;
  /** … plus, in signed mode, a function returning an identity token from your backend. */
  identityToken?: () => Promise<string>;
  /** The engine's base URL (default `http://127.0.0.1:7800`). */
  baseUrl?: string;
  deviceId?: string;
  WebSocket?: WebSocketConstructor;
  fetch?: FetchLike & BinaryFetch;
  /** Keep conversations, recent messages and unsent messages in this storage (offline-first). */
  offline?: OfflineOptions;
}

interface Entry {
  session: ChatSession;
  client: UTDSignalClient;
}

/**
 * The session registry (TalkJS `getTalkSession`): the same app + user returns the same session object;
 * after an unrecoverable error (banned, a token that expired with no way to renew it) or `dispose()` the
 * next call makes a fresh one. No module-level state: create one registry per app (or use
 * {@link defaultRegistry}).
 */
export class ChatSessionRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly creating = new Map<string, Promise<ChatSession>>();

  /** Returns the live session for this app + user, creating (and connecting) one when there is none. */
  async getSession(p: GetSessionParams): Promise<ChatSession> {
    const baseUrl = trimSlash(p.baseUrl ?? "http://127.0.0.1:7800");
    const key = `${baseUrl}\n${p.appId}\n${p.userId}`;
    const e = this.entries.get(key);
    if (e && !e.session.disposed && !e.session.failed) return e.session;
    if (e) this.drop(key, e);
    let pending = this.creating.get(key);
    if (!pending) {
      pending = this.create(key, baseUrl, p).finally(() => this.creating.delete(key));
      this.creating.set(key, pending);
    }
    return pending;
  }

  private async create(key: string, baseUrl: string, p: GetSessionParams): Promise<ChatSession> {
    const apiOpts: ConstructorParameters<typeof UTDApi>[0] = { baseUrl };
    if (p.fetch) {
      apiOpts.fetch = p.fetch;
      apiOpts.fetchBinary = p.fetch;
    }
    const api = new UTDApi(apiOpts);
    const tokens = new TokenSource(tokenOptions(api, p));
    api.tokens = tokens;
    // Minting here (when there is no token) makes a bad key or a ban fail getSession itself.
    await tokens.credentials();
    const clientOpts: ConstructorParameters<typeof UTDSignalClient>[0] = {
      url: () => tokens.session.value?.wsUrl ?? `${baseUrl.replace(/^http/, "ws")}/api/v1/ws`,
      token: () => tokens.token(),
      refreshToken: (failed) => tokens.refresh(failed),
    };
    if (p.deviceId) clientOpts.deviceId = p.deviceId;
    if (p.WebSocket) clientOpts.WebSocket = p.WebSocket;
    const client = new UTDSignalClient(clientOpts);
    const session = new ChatSession({ appId: p.appId, userId: p.userId, api, client, ...(p.offline ? { offline: p.offline } : {}) });
    const dispose = session.dispose.bind(session);
    // Disposing the session also closes the socket the registry opened for it.
    session.dispose = () => {
      dispose();
      client.disconnect();
      if (this.entries.get(key)?.session === session) this.entries.delete(key);
    };
    client.connect();
    this.entries.set(key, { session, client });
    return session;
  }

  private drop(key: string, e: Entry): void {
    this.entries.delete(key);
    e.session.dispose();
    e.client.disconnect();
  }

  /** Disposes every session (e.g. on sign-out). */
  disposeAll(): void {
    for (const [k, e] of [...this.entries]) this.drop(k, e);
  }
}

/** Where a registry session's tokens come from: a session mint (app key), or the given token and your fetcher. */
function tokenOptions(api: UTDApi, p: GetSessionParams): ConstructorParameters<typeof TokenSource>[0] {
  const initial = p.token !== undefined ? { token: p.token, expiresAt: jwtExpiry(p.token) } : undefined;
  let fetch: CredentialsFetcher | undefined;
  if (p.appKey) {
    const mint: Parameters<typeof sessionCredentials>[1] = { appId: p.appId, appKey: p.appKey, identity: p.userId };
    if (p.deviceId) mint.deviceId = p.deviceId;
    if (p.identityToken) mint.identityToken = p.identityToken;
    fetch = sessionCredentials(api, mint);
  } else if (p.tokenFetcher) {
    const fetcher = p.tokenFetcher;
    fetch = async () => {
      const token = await fetcher();
      return { token, expiresAt: jwtExpiry(token) };
    };
  } else if (!initial) {
    throw new UTDStreamException(400, "invalid_argument", "getSession: pass token (and tokenFetcher) or appKey");
  }
  const o: ConstructorParameters<typeof TokenSource>[0] = {};
  if (initial) o.initial = initial;
  if (fetch) o.fetch = fetch;
  return o;
}

/** A registry for apps that want the TalkJS-style free function. */
export const defaultRegistry = new ChatSessionRegistry();

/** `getSession({ appId, userId, token })` on the {@link defaultRegistry}. */
export function getSession(p: GetSessionParams): Promise<ChatSession> {
  return defaultRegistry.getSession(p);
}
