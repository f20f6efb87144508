import type { AppSettings, Call, CallStatus, Message, PushData } from "@utd-stream/protocol";
import { type Insertable, type Kysely, type RawBuilder, sql } from "kysely";
import type { Clock } from "../../core/clock.js";
import { newId } from "../../core/ids.js";
import type { OutboxEvent, OutboxWriter } from "../../core/outbox.js";
import type { Database } from "../../store/schema.js";
import type { PushOutboxTable } from "./migrations.js";

const RINGING: readonly CallStatus[] = ["initiating", "ringing"];
/** How long a "stop ringing" push is worth delivering. */
const STOP_TTL_MS = 60_000;
/** A missed-call or message notification is still worth showing for a day. */
const NOTICE_TTL_MS = 24 * 3600_000;

type Db = Kysely<Database>;
type TokenRow = { id: string; identity: string; device_id: string | null; platform: string };

export interface PushTriggerOptions {
  clock: Clock;
  /** Message pushes wait this long so a burst to an offline device collapses into one push. */
  collapseMs: number;
}

/**
 * Decides which pushes an event causes and writes them to the push outbox, inside the event's transaction:
 * - an incoming call to a callee with no connected device: VoIP on iOS (alert when the device has no VoIP
 *   token), a high-priority data message on Android, a `requireInteraction` notification on the web;
 * - when the call stops ringing, a push that stops it on every device that was rung (a pending incoming
 *   push that never went out is simply dropped), and a missed-call notice when it was missed or canceled;
 * - a new message for each member with no connected device who has not muted the conversation (or whom
 *   the message mentions), and who neither blocked nor muted the sender.
 */
export class PushTriggers implements OutboxWriter {
  constructor(private readonly o: PushTriggerOptions) {}

  async write(trx: Db, e: OutboxEvent): Promise<boolean | undefined> {
    if (e.type === "call.changed") await this.onCall(trx, e.appId, e.data.call, e.data.from);
    else if (e.type === "message.new")
      return this.onMessage(trx, e.appId, e.data.message, e.data.conversation_kind, e.data.conversation_name);
    else return false;
    return undefined;
  }

  /**
   * Several events of one transaction. New messages (without mentions) of a conversation first ask one
   * question — has any member an alert token, no live socket and the conversation not muted? — and only when
   * one has is each message handled as `write` would. The usual answer (everyone online, or nobody with a
   * token) then costs one statement per batch instead of one per message, and none when the caller asked it
   * with its members read (`interested`, see `memberInterest`).
   */
  async writeMany(trx: Db, events: readonly OutboxEvent[], _prefetched?: unknown, interested?: boolean): Promise<boolean | undefined> {
    let wrote: boolean | undefined = false;
    const quiet = new Set<string>(); // conversations known to need no message push
    for (const e of events) {
      if (e.type === "message.new" && e.data.message.mentions.length === 0 && e.data.message.sender !== null) {
        if (interested === false) continue;
        const key = `${e.appId}\n${e.data.message.conversation_id}`;
        if (quiet.has(key)) continue;
        if (interested === undefined && !(await this.anyPushable(trx, e.appId, e.data.message.conversation_id))) {
          quiet.add(key);
          continue;
        }
      }
      if ((await this.write(trx, e)) !== false) wrote = undefined;
    }
    return wrote;
  }

  /**
   * The push question of `anyPushable` for one member `cm` (a `conversation_members` row): an alert token, no
   * live socket, the conversation not muted. A batch of messages selects it with its members (see
   * `OutboxWriter.memberInterest`), so the question costs no statement of its own.
   */
  memberInterest(db: Db, appId: string): RawBuilder<unknown> {
    const now = this.o.clock.now();
    const token = db
      .selectFrom("push_tokens as t")
      .select("t.id")
      .where("t.app_id", "=", appId)
      .where("t.identity", "=", sql.ref<string>("cm.identity"))
      .where("t.platform", "!=", "apns_voip");
    const muted = db
      .selectFrom("conversation_mutes as mu")
      .select("mu.identity")
      .where("mu.conversation_id", "=", sql.ref<string>("cm.conversation_id"))
      .where("mu.identity", "=", sql.ref<string>("cm.identity"));
    // Kysely puts each subquery in parentheses (SQLite refuses `exists ((select …))`).
    return sql`(exists ${token} and not exists ${muted} and not exists ${this.liveSocket(db, appId, now)})`;
  }

  /** The live connections of member `cm` (a `conversation_members` row) right now: presence rows are leased per node. */
  private liveSocket(db: Db, appId: string, now: number) {
    return db
      .selectFrom("presence_connections as pc")
      .select("pc.identity")
      .where("pc.app_id", "=", appId)
      .where("pc.identity", "=", sql.ref<string>("cm.identity"))
      .where("pc.closed_at", "is", null)
      .where("pc.expires_at", ">", now);
  }

  /** A new message without mentions gets pushes only for members that meet `memberInterest`. */
  quietForMessages(): boolean {
    return true;
  }

  /** Whether any member of a conversation could get a message push (an alert token, no live socket, not muted). */
  private async anyPushable(trx: Db, appId: string, conversationId: string): Promise<boolean> {
    const now = this.o.clock.now();
    const row = await trx
      .selectFrom("conversation_members as cm")
      .innerJoin("push_tokens as t", (j) => j.on("t.app_id", "=", appId).onRef("t.identity", "=", "cm.identity"))
      .leftJoin("conversation_mutes as mu", (j) =>
        j.onRef("mu.conversation_id", "=", "cm.conversation_id").onRef("mu.identity", "=", "cm.identity"),
      )
      .select("t.id")
      .where("cm.conversation_id", "=", conversationId)
      .where("t.platform", "!=", "apns_voip")
      .where("mu.identity", "is", null)
      .where((eb) => eb.not(eb.exists(this.liveSocket(trx, appId, now))))
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Identities among `identities` holding a live socket right now (presence rows are leased per node). */
  private async connected(trx: Db, appId: string, identities: readonly string[], now: number): Promise<Set<string>> {
    if (identities.length === 0) return new Set();
    const rows = await trx
      .selectFrom("presence_connections")
      .select("identity")
      .distinct()
      .where("app_id", "=", appId)
      .where("identity", "in", [...identities])
      .where("closed_at", "is", null)
      .where("expires_at", ">", now)
      .execute();
    return new Set(rows.map((r) => r.identity));
  }

  private tokens(trx: Db, appId: string, identities: readonly string[]): Promise<TokenRow[]> {
    if (identities.length === 0) return Promise.resolve([]);
    return trx
      .selectFrom("push_tokens")
      .select(["id", "identity", "device_id", "platform"])
      .where("app_id", "=", appId)
      .where("identity", "in", [...identities])
      .orderBy("id")
      .execute();
  }

  private row(
    appId: string,
    t: TokenRow,
    kind: PushData["kind"],
    refId: string,
    data: Omit<PushData, "push_id" | "app_id" | "kind">,
    o: { priority: "high" | "normal"; expiresAt: number; nextAt: number; now: number },
  ): Insertable<PushOutboxTable> {
    return {
      id: newId("push", o.now),
      app_id: appId,
      identity: t.identity,
      token_id: t.id,
      platform: t.platform,
      kind,
      ref_id: refId,
      collapse_key: refId,
      data: JSON.stringify(data),
      priority: o.priority,
      state: "pending",
      attempts: 0,
      next_at: o.nextAt,
      lease_until: null,
      expires_at: o.expiresAt,
      created_at: o.now,
      updated_at: o.now,
      last_error: null,
      count: 1,
    };
  }

  private async onCall(trx: Db, appId: string, call: Call, from: CallStatus | null): Promise<void> {
    const now = this.o.clock.now();
    const callData = {
      call_id: call.id,
      call_type: call.type,
      caller_identity: call.caller_identity,
      ...(call.caller_name ? { caller_name: call.caller_name } : {}),
    };
    if (from === null) {
      if (!RINGING.includes(call.status)) return; // auto-busy: the callee is never rung
      if ((await this.connected(trx, appId, [call.callee_identity], now)).size > 0) return;
      const tokens = await this.tokens(trx, appId, [call.callee_identity]);
      // An iOS device with a VoIP token rings through CallKit; its alert token would only duplicate the ring.
      const voipDevices = new Set(tokens.filter((t) => t.platform === "apns_voip" && t.device_id !== null).map((t) => t.device_id));
      const deadline = call.ring_deadline_at ? Date.parse(call.ring_deadline_at) : now + 30_000;
      const rows = tokens
        .filter((t) => !(t.platform === "apns" && t.device_id !== null && voipDevices.has(t.device_id)))
        .map((t) =>
          this.row(
            appId,
            t,
            "call.incoming",
            call.id,
            {
              ...callData,
              title: call.caller_name ?? call.caller_identity,
              body: `Incoming ${call.type === "video_call" ? "video" : "audio"} call`,
            },
            { priority: "high", expiresAt: deadline, nextAt: now, now },
          ),
        );
      if (rows.length > 0) await trx.insertInto("push_outbox").values(rows).execute();
      return;
    }
    if (!RINGING.includes(from) || RINGING.includes(call.status)) return;
    // The call stopped ringing. Incoming pushes not sent yet are simply dropped.
    await trx
      .updateTable("push_outbox")
      .set({ state: "dropped", last_error: `call ${call.status} before it was pushed`, updated_at: now })
      .where("ref_id", "=", call.id)
      .where("kind", "=", "call.incoming")
      .where("state", "=", "pending")
      .execute();
    const rung = await trx
      .selectFrom("push_outbox as o")
      .innerJoin("push_tokens as t", "t.id", "o.token_id")
      .select(["t.id", "t.identity", "t.device_id", "t.platform"])
      .where("o.ref_id", "=", call.id)
      .where("o.kind", "=", "call.incoming")
      .where("o.state", "in", ["sending", "sent", "failed"])
      .execute();
    const missed = call.status === "missed" || call.end_reason === "canceled";
    const notice = missed && (await this.connected(trx, appId, [call.callee_identity], now)).size === 0;
    const rows: Insertable<PushOutboxTable>[] = [];
    const noticed = new Set<string>();
    if (notice) {
      // A missed-call notice replaces the ringing notification (same collapse key) on Android and the web,
      // and shows on iOS through the alert token.
      for (const t of await this.tokens(trx, appId, [call.callee_identity])) {
        if (t.platform === "apns_voip") continue;
        noticed.add(t.id);
        rows.push(
          this.row(
            appId,
            t,
            "call.missed",
            call.id,
            { ...callData, end_reason: call.end_reason ?? "timeout", title: "Missed call", body: call.caller_name ?? call.caller_identity },
            { priority: "normal", expiresAt: now + NOTICE_TTL_MS, nextAt: now, now },
          ),
        );
      }
    }
    for (const t of rung) {
      if (noticed.has(t.id)) continue;
      // The device that answered knows already.
      if (call.status === "active" && t.device_id !== null && t.device_id === call.answered_device_id) continue;
      rows.push(
        this.row(
          appId,
          t,
          "call.ended",
          call.id,
          { ...callData, end_reason: call.status === "active" ? "answered_elsewhere" : (call.end_reason ?? call.status) },
          { priority: "high", expiresAt: now + STOP_TTL_MS, nextAt: now, now },
        ),
      );
    }
    if (rows.length > 0) await trx.insertInto("push_outbox").values(rows).execute();
  }

  /** Answers whether it wrote (or updated) push rows. */
  private async onMessage(trx: Db, appId: string, m: Message, kind: string, name: string | null): Promise<boolean> {
    if (m.type !== "text" || m.sender === null) return false;
    const now = this.o.clock.now();
    // One statement per message (it runs inside the send's transaction, under the conversation's row lock on
    // PostgreSQL): the alert tokens of the members with no live connection who have not muted the
    // conversation (unless mentioned) and neither blocked nor muted the sender. Usually it finds none.
    const tokens: TokenRow[] = await trx
      .selectFrom("conversation_members as cm")
      .innerJoin("push_tokens as t", (j) => j.on("t.app_id", "=", appId).onRef("t.identity", "=", "cm.identity"))
      .leftJoin("conversation_mutes as mu", (j) =>
        j.onRef("mu.conversation_id", "=", "cm.conversation_id").onRef("mu.identity", "=", "cm.identity"),
      )
      .select(["t.id", "t.identity", "t.device_id", "t.platform"])
      .where("cm.conversation_id", "=", m.conversation_id)
      .where("cm.identity", "!=", m.sender)
      .where("t.platform", "!=", "apns_voip")
      // A muted conversation sends no pushes, except to a member the message mentions.
      .where((eb) =>
        m.mentions.length > 0 ? eb.or([eb("mu.identity", "is", null), eb("cm.identity", "in", m.mentions)]) : eb("mu.identity", "is", null),
      )
      // Nor to a member who blocked or muted the sender.
      .where("cm.identity", "not in", (eb) =>
        eb
          .selectFrom("user_blocks")
          .select("identity")
          .where("app_id", "=", appId)
          .where("target", "=", m.sender as string),
      )
      .where("cm.identity", "not in", (eb) =>
        eb
          .selectFrom("user_mutes")
          .select("identity")
          .where("app_id", "=", appId)
          .where("target", "=", m.sender as string),
      )
      // Nor to a member holding a live socket right now (presence rows are leased per node).
      .where((eb) => eb.not(eb.exists(this.liveSocket(trx, appId, now))))
      .orderBy("t.id")
      .execute();
    if (tokens.length === 0) return false;
    // Read through the transaction: on SQLite a query outside it would wait for it forever.
    const app = await trx.selectFrom("apps").select("settings").where("id", "=", appId).executeTakeFirst();
    const withText = (JSON.parse(app?.settings ?? "{}") as AppSettings).push_include_text !== false;
    const title = kind === "direct" ? m.sender : (name ?? m.sender);
    const text = withText && m.text ? m.text.slice(0, 180) : "New message";
    const body = kind === "direct" || !withText ? text : `${m.sender}: ${text}`;
    const data = { conversation_id: m.conversation_id, message_id: m.id, sender: m.sender, title, body };
    // A burst to one device collapses: while a message push for the conversation waits, it absorbs the next one.
    const waiting = await trx
      .selectFrom("push_outbox")
      .select(["id", "token_id", "count"])
      .where(
        "token_id",
        "in",
        tokens.map((t) => t.id),
      )
      .where("collapse_key", "=", m.conversation_id)
      .where("kind", "=", "message.new")
      .where("state", "=", "pending")
      .execute();
    const byToken = new Map(waiting.map((w) => [w.token_id, w]));
    const rows: Insertable<PushOutboxTable>[] = [];
    for (const t of tokens) {
      const w = byToken.get(t.id);
      if (w) {
        const count = w.count + 1;
        const r = await trx
          .updateTable("push_outbox")
          .set({ data: JSON.stringify({ ...data, count, body: withText ? body : `${count} new messages` }), count, updated_at: now })
          .where("id", "=", w.id)
          .where("state", "=", "pending")
          .executeTakeFirst();
        // Another node started sending it meanwhile: this message gets its own push.
        if (Number(r.numUpdatedRows) === 0)
          rows.push(
            this.row(appId, t, "message.new", m.conversation_id, data, {
              priority: "normal",
              expiresAt: now + NOTICE_TTL_MS,
              nextAt: now + this.o.collapseMs,
              now,
            }),
          );
      } else {
        rows.push(
          this.row(appId, t, "message.new", m.conversation_id, data, {
            priority: "normal",
            expiresAt: now + NOTICE_TTL_MS,
            nextAt: now + this.o.collapseMs,
            now,
          }),
        );
      }
    }
    if (rows.length > 0) await trx.insertInto("push_outbox").values(rows).execute();
    return true;
  }
}
