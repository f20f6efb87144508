import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import type { ConsoleOperator, ConsoleSession } from "@utd-stream/protocol/schemas";
import { type Clock, iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import type { RateLimiter } from "../../core/rate-limit.js";
import { constantTimeEqual } from "../../core/secrets.js";
import type { Store } from "../../store/port.js";

/** scrypt cost (N = 2^15, r = 8, p = 1: about 32 MiB and tens of ms per hash). */
const SCRYPT = { N: 1 << 15, r: 8, p: 1, keylen: 32, maxmem: 64 * 1024 * 1024 } as const;
/** How long a console session lasts (absolute, from sign-in). */
export const CONSOLE_SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** Sign-in attempts: 5 at once, then one per 12 s, per client address (and per username). */
const LOGIN_BUCKET = { burst: 5, perSecond: 1 / 12 } as const;

function hashPassword(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, SCRYPT.keylen, { N: n, r, p, maxmem: SCRYPT.maxmem }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** `scrypt$N$r$p$salt$hash` of a password (random 16-byte salt). */
export async function sealPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await hashPassword(password, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

/** Whether `password` matches a {@link sealPassword} string (constant time in the hash). */
export async function checkPassword(password: string, sealed: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = sealed.split("$");
  if (kind !== "scrypt" || !n || !r || !p || !salt || !hash) return false;
  const want = Buffer.from(hash, "base64url");
  const got = await hashPassword(password, Buffer.from(salt, "base64url"), Number(n), Number(r), Number(p));
  return got.length === want.length && timingSafeEqual(got, want);
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** What a signed-in request was made with. */
export interface ConsoleCaller {
  username: string | null;
}

/**
 * Console operator accounts and their sessions. The session cookie's value is 32 random bytes; only its
 * sha256 is stored. Each session has a CSRF token that unsafe requests must echo in `x-csrf-token`.
 */
export class ConsoleService {
  /** A hash to check unknown usernames against, so a wrong username costs what a wrong password does. */
  private dummy: Promise<string> | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly limiter: RateLimiter,
    private readonly adminToken: string | undefined,
  ) {}

  /** Creates an operator account; `conflict` when the username is taken. */
  async createOperator(username: string, password: string): Promise<ConsoleOperator> {
    const password_hash = await sealPassword(password);
    const now = this.clock.now();
    const r = await this.store.db
      .insertInto("console_operators")
      .values({ username, password_hash, created_at: now })
      .onConflict((oc) => oc.column("username").doNothing())
      .executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0) === 0) throw ApiError.conflict(`operator ${username} exists`);
    return { username, created_at: iso(now) };
  }

  /** Every operator account, by username. */
  async listOperators(): Promise<ConsoleOperator[]> {
    const rows = await this.store.db.selectFrom("console_operators").select(["username", "created_at"]).orderBy("username").execute();
    return rows.map((r) => ({ username: r.username, created_at: iso(Number(r.created_at)) }));
  }

  /** Removes an account and ends its sessions; `not_found` when there is none. */
  async removeOperator(username: string): Promise<void> {
    await this.store.db.transaction().execute(async (trx) => {
      await trx.deleteFrom("console_sessions").where("username", "=", username).execute();
      const r = await trx.deleteFrom("console_operators").where("username", "=", username).executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) throw ApiError.notFound("operator");
    });
  }

  /**
   * Signs in with a username and password, or the admin token. Attempts are rate-limited per address
   * (and per username); a refusal says `unauthorized` whatever was wrong and opens no session.
   * Resolves to the cookie value (to set, never logged) and the session.
   */
  async signIn(
    req: { username: string; password: string } | { admin_token: string },
    addr: string,
  ): Promise<{ cookie: string; session: ConsoleSession }> {
    await this.charge(`console:login:addr:${addr}`);
    let username: string | null;
    if ("admin_token" in req) {
      if (!this.adminToken || !constantTimeEqual(this.adminToken, req.admin_token)) throw ApiError.unauthorized("invalid admin token");
      username = null;
    } else {
      await this.charge(`console:login:user:${req.username}`);
      const row = await this.store.db
        .selectFrom("console_operators")
        .select(["username", "password_hash"])
        .where("username", "=", req.username)
        .executeTakeFirst();
      this.dummy ??= sealPassword(randomBytes(16).toString("hex"));
      const ok = await checkPassword(req.password, row?.password_hash ?? (await this.dummy));
      if (!row || !ok) throw ApiError.unauthorized("wrong username or password");
      username = row.username;
    }
    const cookie = randomBytes(32).toString("base64url");
    const csrf = randomBytes(24).toString("base64url");
    const now = this.clock.now();
    const expires = now + CONSOLE_SESSION_TTL_MS;
    await this.store.db
      .insertInto("console_sessions")
      .values({ id_hash: sha256(cookie), username, csrf_token: csrf, created_at: now, expires_at: expires })
      .execute();
    // Expired sessions are swept on sign-in (rare, cheap with the index).
    await this.store.db.deleteFrom("console_sessions").where("expires_at", "<=", now).execute();
    return { cookie, session: { username, csrf_token: csrf, expires_at: iso(expires) } };
  }

  /** The live session of a cookie value, or undefined (unknown or expired). */
  async session(cookie: string | undefined): Promise<ConsoleSession | undefined> {
    if (!cookie || cookie.length > 128) return undefined;
    const row = await this.store.db.selectFrom("console_sessions").selectAll().where("id_hash", "=", sha256(cookie)).executeTakeFirst();
    if (!row || Number(row.expires_at) <= this.clock.now()) return undefined;
    return { username: row.username, csrf_token: row.csrf_token, expires_at: iso(Number(row.expires_at)) };
  }

  /**
   * Authorizes a request by its session cookie: `unauthorized` without a live session, `forbidden` when an
   * unsafe method lacks the session's CSRF token.
   */
  async authorize(cookie: string | undefined, method: string, csrfHeader: string | undefined): Promise<ConsoleCaller> {
    const s = await this.session(cookie);
    if (!s) throw ApiError.unauthorized("sign in to the console again (no live session)");
    if (!SAFE_METHODS.has(method.toUpperCase()) && (!csrfHeader || !constantTimeEqual(s.csrf_token, csrfHeader)))
      throw ApiError.forbidden("missing or wrong x-csrf-token");
    return { username: s.username };
  }

  /** Ends the session of a cookie value (idempotent). */
  async signOut(cookie: string | undefined): Promise<void> {
    if (cookie) await this.store.db.deleteFrom("console_sessions").where("id_hash", "=", sha256(cookie)).execute();
  }

  private async charge(key: string): Promise<void> {
    const d = await this.limiter.take(key, LOGIN_BUCKET);
    if (!d.allowed) throw ApiError.rateLimited(Math.max(1, Math.ceil(d.retryAfterS)));
  }
}

const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);
