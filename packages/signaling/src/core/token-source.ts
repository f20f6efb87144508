import { UTDStreamException } from "@utd-stream/protocol";
import { type ReadableStore, Store } from "../store.js";
import type { UTDAuthSession } from "../wire/session.js";
import { jwtExpiry } from "./jwt.js";

/** A user token and when it stops working; `session` when it came from a session mint (capabilities, limits, WebSocket URL). */
export interface UTDCredentials {
  token: string;
  /** null = unknown (the engine decides; a 401 then asks for a new one). */
  expiresAt: Date | null;
  session?: UTDAuthSession;
}

/** Where new credentials come from: a session mint (app key, plus a backend-signed JWT in signed mode) or your own code. */
export type CredentialsFetcher = () => Promise<UTDCredentials>;

export interface TokenSourceOptions {
  /** How to get fresh credentials. Without it the source can only hand out `initial` (and fails once that is refused). */
  fetch?: CredentialsFetcher;
  /** Credentials already known (a token your backend handed out, or a persisted session). */
  initial?: UTDCredentials;
  /**
   * A token is treated as expired this long before its `expiresAt` (default 30 s, at most a fifth of its
   * lifetime), so a request never leaves with one about to lapse.
   */
  earlyMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

/**
 * The one way any part of the SDKs gets a user token (after livekit's `TokenSource`): it caches the
 * credentials until they expire, shares **one** in-flight fetch among every concurrent caller (so ten
 * requests refused with 401 at once cause one re-mint, not ten), and knows how to get new ones — a session
 * mint with the app key (open mode), the same plus `tokenProvider()`'s identity token (signed mode), or a
 * `tokenFetcher` of yours. The REST client, the WebSocket and the media SDK all read it.
 *
 * @example
 * const tokens = new TokenSource({ fetch: async () => ({ token: await myBackend.userToken(), expiresAt: null }) });
 * const api = new UTDApi({ baseUrl, tokens });
 */
export class TokenSource {
  private current: UTDCredentials | undefined;
  /** When `current` was obtained (its lifetime bounds the early margin). */
  private obtainedAt = 0;
  private inflight: Promise<UTDCredentials> | undefined;
  private readonly sessionStore = new Store<UTDAuthSession | null>(null);
  private readonly fetcher: CredentialsFetcher | undefined;
  private readonly earlyMs: number;
  private readonly now: () => number;

  constructor(opts: TokenSourceOptions = {}) {
    this.fetcher = opts.fetch;
    this.earlyMs = opts.earlyMs ?? 30_000;
    this.now = opts.now ?? Date.now;
    if (opts.initial) this.set(opts.initial);
  }

  /** A source that always hands out `token` (its expiry read from the token when it is a JWT) and cannot renew it. */
  static fixed(token: string): TokenSource {
    return new TokenSource({ initial: { token, expiresAt: jwtExpiry(token) } });
  }

  /** The last minted session (capability flags, plan limits, WebSocket URL); null until one was minted. */
  get session(): ReadableStore<UTDAuthSession | null> {
    return this.sessionStore;
  }

  /** Whether this source can get new credentials by itself. */
  get renewable(): boolean {
    return this.fetcher !== undefined;
  }

  /** The cached token, if any, without fetching (it may have expired). */
  peek(): string | undefined {
    return this.current?.token;
  }

  /** Valid credentials: the cached ones while they last, otherwise fetched (one fetch shared by every caller). */
  async credentials(): Promise<UTDCredentials> {
    const c = this.current;
    if (c && (!this.expired(c) || !this.fetcher)) return c;
    return this.fetchShared();
  }

  /** A valid token (see {@link credentials}). */
  async token(): Promise<string> {
    return (await this.credentials()).token;
  }

  /**
   * New credentials, whatever the cache says: the engine refused `failed` (401, or the socket closed with
   * 4401). When the cached token already differs from `failed`, another caller renewed it meanwhile and
   * that one is returned. Throws `unauthorized` when the source cannot renew.
   */
  async refresh(failed?: string): Promise<string> {
    const c = this.current;
    if (c && failed !== undefined && c.token !== failed && !this.expired(c)) return c.token;
    if (!this.fetcher) {
      throw new UTDStreamException(
        401,
        "unauthorized",
        "the user token was refused and there is no way to get a new one (pass tokenFetcher)",
      );
    }
    return (await this.fetchShared()).token;
  }

  /** Adopts credentials obtained elsewhere (e.g. the `user_token` of a room token mint). */
  set(c: UTDCredentials): void {
    this.current = c;
    this.obtainedAt = this.now();
    if (c.session) this.sessionStore.set(c.session);
  }

  /** Forgets the cached credentials (sign-out); the next `token()` fetches. */
  clear(): void {
    this.current = undefined;
  }

  private expired(c: UTDCredentials): boolean {
    if (c.expiresAt === null) return false;
    const exp = c.expiresAt.getTime();
    const early = Math.min(this.earlyMs, Math.max(0, exp - this.obtainedAt) / 5);
    return exp - early <= this.now();
  }

  private fetchShared(): Promise<UTDCredentials> {
    const fetcher = this.fetcher;
    if (!fetcher) return Promise.reject(new UTDStreamException(401, "unauthorized", "no user token"));
    this.inflight ??= fetcher()
      .then((c) => {
        this.set(c);
        return c;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }
}
