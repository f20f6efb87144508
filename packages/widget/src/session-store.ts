/** The subset of the Web Storage API the widget uses (`localStorage`, or anything shaped like it). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * Everything the background listener needs to resume after a reload with no arguments: where the
 * engine is, who the visitor is, the tokens, and the conversation with how far it was read.
 */
export interface PersistedSession {
  /** Format version; anything else is discarded. */
  v: 1;
  baseUrl: string;
  wsUrl: string;
  appId: string;
  appKey: string;
  widgetId: string | null;
  identity: string;
  /** The backend-issued JWT (`identity_token`) the user token was minted with; used again when the user token expires. */
  identityToken: string | null;
  userToken: string;
  /** Epoch ms. */
  userTokenExpiresAt: number;
  deviceId: string;
  /** The visitor's open support conversation, once started. */
  conversationId: string | null;
  /** Contiguous seq watermark of that conversation (see `MessageDeduper`). */
  lastSeq: number;
}

/** The storage key: one live-chat session per origin, so `startBackgroundEvents()` needs no arguments. */
export const SESSION_KEY = "utd-stream.livechat.session";

const STRING_FIELDS = ["baseUrl", "wsUrl", "appId", "appKey", "identity", "userToken", "deviceId"] as const;

/** Parses a stored session; null (never a throw) when it is missing, corrupt or from another format version. */
export function parseSession(text: string | null): PersistedSession | null {
  if (!text) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null) return null;
  const o = v as Record<string, unknown>;
  if (o.v !== 1) return null;
  for (const f of STRING_FIELDS) if (typeof o[f] !== "string" || (o[f] as string).length === 0) return null;
  const nullableString = (x: unknown) => x === null || typeof x === "string";
  if (!nullableString(o.widgetId) || !nullableString(o.identityToken) || !nullableString(o.conversationId)) return null;
  if (typeof o.userTokenExpiresAt !== "number" || !Number.isFinite(o.userTokenExpiresAt)) return null;
  if (typeof o.lastSeq !== "number" || !Number.isInteger(o.lastSeq) || o.lastSeq < 0) return null;
  return {
    v: 1,
    baseUrl: o.baseUrl as string,
    wsUrl: o.wsUrl as string,
    appId: o.appId as string,
    appKey: o.appKey as string,
    widgetId: o.widgetId as string | null,
    identity: o.identity as string,
    identityToken: o.identityToken as string | null,
    userToken: o.userToken as string,
    userTokenExpiresAt: o.userTokenExpiresAt,
    deviceId: o.deviceId as string,
    conversationId: o.conversationId as string | null,
    lastSeq: o.lastSeq,
  };
}

/**
 * The persisted live-chat session. Reads are defensive (a corrupt entry is dropped, never thrown);
 * writes that fail (quota, private mode) leave the in-memory session working for this page.
 */
export class SessionStore {
  private cached: PersistedSession | null | undefined;

  constructor(
    private readonly storage: KeyValueStorage | undefined,
    private readonly key = SESSION_KEY,
  ) {}

  /** The stored session, or null. A corrupt entry is removed. */
  load(): PersistedSession | null {
    if (this.cached !== undefined) return this.cached;
    let text: string | null = null;
    try {
      text = this.storage?.getItem(this.key) ?? null;
    } catch {
      text = null;
    }
    const s = parseSession(text);
    if (!s && text !== null) this.remove();
    this.cached = s;
    return s;
  }

  /** Forgets the in-memory copy so the next `load()` reads storage again (another tab may have written it). */
  invalidate(): void {
    this.cached = undefined;
  }

  save(s: PersistedSession): void {
    this.cached = s;
    try {
      this.storage?.setItem(this.key, JSON.stringify(s));
    } catch {
      /* storage full or unavailable: keep the in-memory session */
    }
  }

  /** Changes some fields of the stored session (no-op without one). */
  update(patch: Partial<Omit<PersistedSession, "v">>): PersistedSession | null {
    const s = this.load();
    if (!s) return null;
    const next = { ...s, ...patch };
    this.save(next);
    return next;
  }

  /** Moves the watermark forward only (never back), for the given conversation. */
  advance(conversationId: string, lastSeq: number): void {
    const s = this.load();
    if (!s || s.conversationId !== conversationId || lastSeq <= s.lastSeq) return;
    this.save({ ...s, lastSeq });
  }

  /** Drops the session (logout, or a token that no longer works). */
  clear(): void {
    this.cached = null;
    this.remove();
  }

  private remove(): void {
    try {
      this.storage?.removeItem(this.key);
    } catch {
      /* nothing to do */
    }
  }
}
