import type { Call, DailyUsage, LiveStats, Message, WsEventMap, WsEventType } from "@utd-stream/protocol";
import { sql } from "kysely";
import type { AuthContext } from "../../core/caller.js";
import { type Clock, iso } from "../../core/clock.js";
import type { Logger } from "../../core/logger.js";
import type { MediaPort } from "../../media/port.js";
import type { Store } from "../../store/port.js";
import type { Gateway } from "../../ws/gateway.js";

const DAY_MS = 86_400_000;
/** The window messages/s is averaged over. */
const RATE_WINDOW_S = 10;
/** Pending identities kept before a flush is forced (bounds memory under a connection storm). */
const MAX_PENDING_USERS = 10_000;
/** Identities remembered as already written today; past it the memory starts over (a re-insert changes nothing). */
const MAX_WRITTEN_USERS = 200_000;
const CALL_OUTCOME_EVENTS: ReadonlySet<string> = new Set(["call.ended", "call.rejected", "call.busy", "call.missed"]);

interface Pending {
  messages: number;
  callSeconds: number;
  peak: number;
}

/** The UTC day of `ms` (YYYY-MM-DD); the last one is kept, as every socket open and message asks for it. */
let lastDay = { n: Number.NaN, day: "" };
function dayOf(ms: number): string {
  const n = Math.floor(ms / 86_400_000);
  if (n !== lastDay.n) lastDay = { n, day: iso(ms).slice(0, 10) };
  return lastDay.day;
}

/** Adds `value` to the set at `key` (made when missing); true when it was not there yet. */
function addTo(map: Map<string, Set<string>>, key: string, value: string): boolean {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  if (set.has(value)) return false;
  set.add(value);
  return true;
}

/**
 * The daily usage rollup and the live figures. Each node counts what it sees (messages and call seconds
 * where they are published, socket opens and its own peak of open sockets) in memory and adds it to
 * `usage_daily` / `usage_daily_users` every flush; the store holds the cluster's sum (the peak is the
 * highest of any one node).
 */
export class UsageService {
  private pending = new Map<string, Pending>();
  /** Identities active since the last flush: `app\0day` → identities. */
  private users = new Map<string, Set<string>>();
  private pendingUsers = 0;
  /**
   * Identities already written today, by app (not inserted again). The identity strings are the sockets'
   * own: one `app\0day\0identity` key per user cost ~90 bytes a user and a concatenation per socket open.
   */
  private written = new Map<string, Set<string>>();
  private writtenCount = 0;
  private writtenDay = "";
  /** Open sockets by app on this node. */
  private open = new Map<string, number>();
  /** Messages per app per second over the last {@link RATE_WINDOW_S} s: app → (second → count). */
  private recent = new Map<string, Map<number, number>>();
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly gateway: Gateway,
    private readonly media: MediaPort | undefined,
    private readonly log: Logger,
  ) {}

  private bucket(appId: string, day: string): Pending {
    const k = `${appId}\0${day}`;
    let p = this.pending.get(k);
    if (!p) {
      p = { messages: 0, callSeconds: 0, peak: 0 };
      this.pending.set(k, p);
    }
    return p;
  }

  /** The gateway's publish observer: counts messages sent and answered call seconds. */
  readonly observe = <K extends WsEventType>(appId: string, type: K, data: WsEventMap[K]): void => {
    const now = this.clock.now();
    if (type === "message.new") {
      if ((data as Message).type === "system") return;
      this.bucket(appId, dayOf(now)).messages++;
      const sec = Math.floor(now / 1000);
      const per = this.recent.get(appId) ?? new Map<number, number>();
      per.set(sec, (per.get(sec) ?? 0) + 1);
      for (const s of per.keys()) if (s <= sec - RATE_WINDOW_S) per.delete(s);
      this.recent.set(appId, per);
      return;
    }
    if (CALL_OUTCOME_EVENTS.has(type)) {
      const call = (data as { call?: Call }).call;
      if (call?.status !== "ended" || !call.answered_at || !call.ended_at) return;
      const s = (Date.parse(call.ended_at) - Date.parse(call.answered_at)) / 1000;
      if (s > 0) this.bucket(appId, call.ended_at.slice(0, 10)).callSeconds += s;
    }
  };

  /** A socket opened (connection listener): the user is active today; the app's open sockets may peak. */
  connected(ctx: AuthContext): void {
    const appId = ctx.app.id;
    const day = dayOf(this.clock.now());
    const n = (this.open.get(appId) ?? 0) + 1;
    this.open.set(appId, n);
    const p = this.bucket(appId, day);
    p.peak = Math.max(p.peak, n);
    this.active(appId, ctx.identity);
  }

  /** The identity is active today (a session minted, or a socket opened). */
  active(appId: string, identity: string): void {
    const day = dayOf(this.clock.now());
    if (this.writtenDay !== day) {
      this.written.clear();
      this.writtenCount = 0;
      this.writtenDay = day;
    }
    if (this.written.get(appId)?.has(identity)) return;
    if (addTo(this.users, `${appId}\0${day}`, identity)) this.pendingUsers++;
    if (this.pendingUsers >= MAX_PENDING_USERS) void this.flush();
  }

  /** A socket closed. */
  disconnected(ctx: AuthContext): void {
    const n = (this.open.get(ctx.app.id) ?? 1) - 1;
    if (n <= 0) this.open.delete(ctx.app.id);
    else this.open.set(ctx.app.id, n);
  }

  /** Adds what was counted since the last flush to the store (one at a time; a failed flush keeps its counts). */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async write(): Promise<void> {
    const pending = this.pending;
    const users = this.users;
    this.pending = new Map();
    this.users = new Map();
    this.pendingUsers = 0;
    try {
      for (const [k, p] of pending) {
        const [app_id = "", day = ""] = k.split("\0");
        await this.store.db
          .insertInto("usage_daily")
          .values({ app_id, day, messages: p.messages, call_seconds: Math.round(p.callSeconds), peak_sockets: p.peak })
          .onConflict((oc) =>
            oc.columns(["app_id", "day"]).doUpdateSet({
              messages: sql`usage_daily.messages + excluded.messages`,
              call_seconds: sql`usage_daily.call_seconds + excluded.call_seconds`,
              peak_sockets: sql`case when excluded.peak_sockets > usage_daily.peak_sockets then excluded.peak_sockets else usage_daily.peak_sockets end`,
            }),
          )
          .execute()
          .catch((err: unknown) => {
            // An app deleted meanwhile (foreign key): its counts go with it.
            this.log.debug({ err, app_id }, "usage rollup row skipped");
          });
      }
      // Grouped by app and day; each identity is written only while its user row exists, so a flush that lands
      // after a GDPR erase (which deletes the row and pseudonymises this table) cannot write the identity back.
      for (const [g, set] of users) {
        const [app_id = "", day = ""] = g.split("\0");
        const identities = [...set];
        for (let i = 0; i < identities.length; i += 500) {
          const db = this.store.db;
          await db
            .insertInto("usage_daily_users")
            .columns(["app_id", "day", "identity"])
            .expression(
              db
                .selectFrom("users")
                .select(["users.app_id", sql<string>`cast(${day} as text)`.as("day"), "users.identity"])
                .where("users.app_id", "=", app_id)
                .where("users.identity", "in", identities.slice(i, i + 500)),
            )
            .onConflict((oc) => oc.doNothing())
            .execute()
            .catch((err: unknown) => this.log.debug({ err }, "usage users batch skipped"));
        }
      }
      for (const [g, set] of users) {
        const [app_id = "", day = ""] = g.split("\0");
        if (day !== this.writtenDay) continue;
        if (this.writtenCount + set.size > MAX_WRITTEN_USERS) {
          this.written.clear();
          this.writtenCount = 0;
        }
        for (const id of set) if (addTo(this.written, app_id, id)) this.writtenCount++;
      }
    } catch (err) {
      this.log.warn({ err }, "usage rollup flush failed; counts kept for the next one");
      for (const [k, p] of pending) {
        const q = this.pending.get(k);
        if (q) {
          q.messages += p.messages;
          q.callSeconds += p.callSeconds;
          q.peak = Math.max(q.peak, p.peak);
        } else this.pending.set(k, p);
      }
      for (const [g, set] of users) for (const id of set) if (addTo(this.users, g, id)) this.pendingUsers++;
    }
  }

  /** One entry per UTC day of the last `days` days up to today, oldest first, zeros where nothing was counted. */
  async daily(appId: string, days: number): Promise<DailyUsage> {
    const today = Date.parse(`${dayOf(this.clock.now())}T00:00:00Z`);
    const first = dayOf(today - (days - 1) * DAY_MS);
    const db = this.store.db;
    const counters = await db.selectFrom("usage_daily").selectAll().where("app_id", "=", appId).where("day", ">=", first).execute();
    const active = await db
      .selectFrom("usage_daily_users")
      .select(["day", (eb) => eb.fn.countAll<number>().as("n")])
      .where("app_id", "=", appId)
      .where("day", ">=", first)
      .groupBy("day")
      .execute();
    const byDay = new Map(counters.map((r) => [r.day, r]));
    const dau = new Map(active.map((r) => [r.day, Number(r.n)]));
    const out: DailyUsage["days"] = [];
    for (let i = days - 1; i >= 0; i--) {
      const day = dayOf(today - i * DAY_MS);
      const r = byDay.get(day);
      out.push({
        day,
        active_users: dau.get(day) ?? 0,
        messages: Number(r?.messages ?? 0),
        call_minutes: Math.round((Number(r?.call_seconds ?? 0) / 60) * 10) / 10,
        peak_sockets: Number(r?.peak_sockets ?? 0),
      });
    }
    return { app_id: appId, days: out };
  }

  /** What is happening now: sockets and users on this node, messages/s, calls in progress, LiveKit rooms. */
  async live(): Promise<LiveStats> {
    const now = this.clock.now();
    const sec = Math.floor(now / 1000);
    const open = this.gateway.openByApp();
    const calls = await this.store.db
      .selectFrom("calls")
      .select(["app_id", (eb) => eb.fn.countAll<number>().as("n")])
      .where("status", "in", ["initiating", "ringing", "active"])
      .groupBy("app_id")
      .execute();
    const inCall = new Map(calls.map((r) => [r.app_id, Number(r.n)]));
    const rate = (appId: string) => {
      let n = 0;
      for (const [s, c] of this.recent.get(appId) ?? []) if (s > sec - RATE_WINDOW_S) n += c;
      return Math.round((n / RATE_WINDOW_S) * 100) / 100;
    };
    const ids = new Set([...open.keys(), ...inCall.keys(), ...this.recent.keys()]);
    const apps = [...ids].sort().map((app_id) => ({
      app_id,
      sockets: open.get(app_id)?.sockets ?? 0,
      users: open.get(app_id)?.identities.size ?? 0,
      messages_per_s: rate(app_id),
      calls_in_progress: inCall.get(app_id) ?? 0,
    }));
    const sum = (f: (a: (typeof apps)[number]) => number) => apps.reduce((n, a) => n + f(a), 0);
    return {
      at: iso(now),
      sockets: sum((a) => a.sockets),
      users: sum((a) => a.users),
      messages_per_s: Math.round(sum((a) => a.messages_per_s) * 100) / 100,
      calls_in_progress: sum((a) => a.calls_in_progress),
      livekit_rooms: await this.livekitRooms(),
      apps: apps.filter((a) => a.sockets || a.calls_in_progress || a.messages_per_s),
    };
  }

  private async livekitRooms(): Promise<number | null> {
    if (!this.media) return null;
    let timer: NodeJS.Timeout | undefined;
    try {
      const rooms = await Promise.race([
        this.media.listRooms(""),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("LiveKit did not answer in 2 s")), 2000);
          timer.unref();
        }),
      ]);
      return rooms.length;
    } catch (err) {
      this.log.debug({ err }, "LiveKit room count unavailable");
      return null;
    } finally {
      clearTimeout(timer);
    }
  }
}
