import { type FetchLike, UTDApi } from "../api.js";
import { UTDSignalClient, type WebSocketConstructor } from "../client.js";
import type { BinaryFetch } from "./api.js";
import { ChatSession } from "./session.js";

export interface GetSessionParams {
  /** Your app's id. */
  appId: string;
  /** The user to act as; everything sent goes out as this user. */
  userId: string;
  /** A user token (`user_token` from `POST /api/v1/auth/session`). Ignored when the registry already has a session. */
  token?: string;
  /** Or mint one here: the publishable app key (open mode) … */
  appKey?: string;
  /** … plus, in signed mode, a function returning an identity token from your backend. */
  identityToken?: () => Promise<string>;
  /** The engine's base URL (default `http://127.0.0.1:7800`). */
  baseUrl?: string;
  deviceId?: string;
  WebSocket?: WebSocketConstructor;
  fetch?: FetchLike & BinaryFetch;
}

interface Entry {
  session: ChatSession;
  client: UTDSignalClient;
}

/**
 * The session registry (TalkJS `getTalkSession`): the same app + user returns the same session object;
 * after an unrecoverable error or `dispose()` the next call makes a fresh one. No module-level state:
 * create one registry per app (or use {@link defaultRegistry}).
 */
export class ChatSessionRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly creating = new Map<string, Promise<ChatSession>>();

  /** Returns the live session for this app + user, creating (and connecting) one when there is none. */
  async getSession(p: GetSessionParams): Promise<ChatSession> {
    const baseUrl = (p.baseUrl ?? "http://127.0.0.1:7800").replace(/\/+$/, "");
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
    const apiOpts: { baseUrl: string; fetch?: FetchLike } = { baseUrl };
    if (p.fetch) apiOpts.fetch = p.fetch;
    const api = new UTDApi(apiOpts);
    let token = p.token;
    let wsUrl = `${baseUrl.replace(/^http/, "ws")}/api/v1/ws`;
    const mint = async (): Promise<string> => {
      if (!p.appKey) throw new Error("getSession: pass token or appKey");
      const s = await api.mintSession({
        appId: p.appId,
        appKey: p.appKey,
        identity: p.userId,
        ...(p.deviceId ? { deviceId: p.deviceId } : {}),
        ...(p.identityToken ? { identityToken: await p.identityToken() } : {}),
      });
      wsUrl = s.wsUrl;
      token = s.userToken;
      return s.userToken;
    };
    if (token) api.setToken(token);
    else await mint();
    if (p.appKey) api.reauthenticate = mint;
    const clientOpts: ConstructorParameters<typeof UTDSignalClient>[0] = { url: wsUrl, token: () => token as string };
    if (p.appKey) clientOpts.refreshToken = mint;
    if (p.deviceId) clientOpts.deviceId = p.deviceId;
    if (p.WebSocket) clientOpts.WebSocket = p.WebSocket;
    const client = new UTDSignalClient(clientOpts);
    const sessionOpts: ConstructorParameters<typeof ChatSession>[0] = { appId: p.appId, userId: p.userId, api, client };
    if (p.fetch) sessionOpts.fetch = p.fetch;
    const session = new ChatSession(sessionOpts);
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

/** A registry for apps that want the TalkJS-style free function. */
export const defaultRegistry = new ChatSessionRegistry();

/** `getSession({ appId, userId, token })` on the {@link defaultRegistry}. */
export function getSession(p: GetSessionParams): Promise<ChatSession> {
  return defaultRegistry.getSession(p);
}
