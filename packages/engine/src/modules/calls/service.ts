import type { Call, CallAction, CallEndReason, CallList, CallStatus, CallType, CreateCallRequest } from "@utd-stream/protocol";
import type { Selectable } from "kysely";
import { type AuthContext, requireCapability } from "../../core/caller.js";
import { type Clock, iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import type { EventSink } from "../../core/events.js";
import { newId } from "../../core/ids.js";
import type { Outbox } from "../../core/outbox.js";
import type { Store } from "../../store/port.js";
import { type CallActor, type CallCommand, transition } from "./machine.js";
import type { CallsTable } from "./migrations.js";

type CallRow = Selectable<CallsTable>;

/** A call changed status. `from` is null when the call was created. */
export interface CallTransition {
  appId: string;
  call: Call;
  from: CallStatus | null;
  to: CallStatus;
  /** The identity that caused it, or null for the engine (timeout). */
  by: string | null;
}

export type CallTransitionListener = (t: CallTransition) => void | Promise<void>;

export interface CallsDeps {
  store: Store;
  clock: Clock;
  events: EventSink;
  ringTimeoutS: number;
  /** Pushes and webhooks a call change causes are written here, in the change's transaction. */
  outbox?: Outbox | undefined;
  log?: { warn(obj: unknown, msg: string): void };
  /** Users' block lists: a callee who blocked the caller is never rung (`403 blocked`). */
  blocks?: { requireNotBlocked(appId: string, caller: string, identity: string): Promise<void> } | undefined;
}

function toWire(r: CallRow): Call {
  return {
    id: r.id,
    type: r.type as CallType,
    status: r.status as CallStatus,
    caller_identity: r.caller_identity,
    caller_name: r.caller_name,
    callee_identity: r.callee_identity,
    callee_name: r.callee_name,
    metadata: JSON.parse(r.metadata) as Call["metadata"],
    client_call_id: r.client_call_id,
    answered_device_id: r.answered_device_id,
    end_reason: r.end_reason as CallEndReason | null,
    ended_by: r.ended_by,
    created_at: iso(r.created_at),
    ring_deadline_at: r.ring_deadline === null ? null : iso(r.ring_deadline),
    answered_at: r.answered_at === null ? null : iso(r.answered_at),
    ended_at: r.ended_at === null ? null : iso(r.ended_at),
  };
}

/**
 * 1:1 call invitations: the server side of the seed's call lifecycle. Every transition goes through
 * the pure {@link transition} function and a conditional update (`where status = <what we read>`), so
 * two devices or two nodes racing cannot both win. The ring timeout is a stored deadline swept by
 * {@link CallsService.sweep}, so it survives a restart.
 */
export class CallsService {
  private readonly listeners: CallTransitionListener[] = [];
  private sweeper: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(private readonly d: CallsDeps) {}

  /**
   * Subscribes to every status change (creation included), after it is stored and its event sent.
   * The media module uses it to open a LiveKit room on `active` and close it on the end. Returns an unsubscribe.
   */
  onTransition(listener: CallTransitionListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  private notify(t: CallTransition): void {
    for (const l of this.listeners) {
      try {
        const p = l(t);
        if (p) p.catch((err: unknown) => this.d.log?.warn({ err }, "calls: transition listener failed"));
      } catch (err) {
        this.d.log?.warn({ err }, "calls: transition listener failed");
      }
    }
  }

  /** `POST /api/v1/calls`: rings every device of the callee, or answers `busy` at once (auto-busy). */
  async create(ctx: AuthContext, req: CreateCallRequest): Promise<Call> {
    requireCapability(ctx.app, "signaling");
    if (req.callee_identity === ctx.identity)
      throw ApiError.invalid("you cannot call yourself", [{ path: "body.callee_identity", message: "is the caller" }]);
    const db = this.d.store.db;
    // Nothing is stored, rung or pushed for a caller the callee blocked.
    await this.d.blocks?.requireNotBlocked(ctx.app.id, ctx.identity, req.callee_identity);
    if (req.client_call_id !== undefined) {
      const again = await this.byClientId(ctx, req.client_call_id);
      if (again) return this.sameInvitation(again, req);
    }
    const now = this.d.clock.now();
    const autoBusy =
      ctx.app.settings.auto_busy !== false &&
      (await db
        .selectFrom("calls")
        .select("id")
        .where("app_id", "=", ctx.app.id)
        .where("status", "=", "active")
        .where((eb) => eb.or([eb("caller_identity", "=", req.callee_identity), eb("callee_identity", "=", req.callee_identity)]))
        .executeTakeFirst()) !== undefined;
    const row: CallRow = {
      id: newId("call", now),
      app_id: ctx.app.id,
      type: req.type,
      status: autoBusy ? "busy" : "initiating",
      caller_identity: ctx.identity,
      caller_name: ctx.user.name,
      caller_device_id: ctx.deviceId,
      callee_identity: req.callee_identity,
      callee_name: req.callee_name ?? null,
      metadata: JSON.stringify(req.metadata ?? {}),
      answered_device_id: null,
      end_reason: autoBusy ? "busy" : null,
      ended_by: autoBusy ? req.callee_identity : null,
      created_at: now,
      updated_at: now,
      ring_deadline: autoBusy ? null : now + this.d.ringTimeoutS * 1000,
      answered_at: null,
      ended_at: autoBusy ? now : null,
      client_call_id: req.client_call_id ?? null,
    };
    const call = toWire(row);
    try {
      await db.transaction().execute(async (trx) => {
        await trx.insertInto("calls").values(row).execute();
        await this.d.outbox?.write(trx, { type: "call.changed", appId: ctx.app.id, data: { call, from: null } });
      });
      this.d.outbox?.wake();
    } catch (err) {
      // Two identical retries racing: the unique (app, caller, client_call_id) index lets one in.
      const again = req.client_call_id === undefined ? undefined : await this.byClientId(ctx, req.client_call_id);
      if (again) return this.sameInvitation(again, req);
      throw err;
    }
    if (autoBusy) this.d.events.toUsers(ctx.app.id, [ctx.identity], "call.busy", { call });
    else this.d.events.toUsers(ctx.app.id, [req.callee_identity], "call.incoming", { call });
    this.notify({ appId: ctx.app.id, call, from: null, to: call.status, by: ctx.identity });
    return call;
  }

  private byClientId(ctx: AuthContext, clientCallId: string): Promise<CallRow | undefined> {
    return this.d.store.db
      .selectFrom("calls")
      .selectAll()
      .where("app_id", "=", ctx.app.id)
      .where("caller_identity", "=", ctx.identity)
      .where("client_call_id", "=", clientCallId)
      .executeTakeFirst();
  }

  /** A retried invitation answers with the call it created; the same key for another invitation is a conflict. */
  private sameInvitation(row: CallRow, req: CreateCallRequest): Call {
    if (row.callee_identity !== req.callee_identity || row.type !== req.type) {
      throw ApiError.conflict("client_call_id was already used for another invitation", row.status);
    }
    return toWire(row);
  }

  private async load(ctx: AuthContext, id: string): Promise<{ row: CallRow; actor: CallActor }> {
    const row = await this.d.store.db
      .selectFrom("calls")
      .selectAll()
      .where("id", "=", id)
      .where("app_id", "=", ctx.app.id)
      .executeTakeFirst();
    // Outsiders get the same answer as for a call that does not exist: ids of others' calls leak nothing.
    if (!row) throw ApiError.notFound("call");
    if (row.caller_identity === ctx.identity) return { row, actor: "caller" };
    if (row.callee_identity === ctx.identity) return { row, actor: "callee" };
    throw ApiError.notFound("call");
  }

  /** `GET /api/v1/calls/{id}` (participants only). */
  async get(ctx: AuthContext, id: string): Promise<Call> {
    requireCapability(ctx.app, "signaling");
    return toWire((await this.load(ctx, id)).row);
  }

  /** `POST /api/v1/calls/{id}/{action}`. Illegal transitions → 409 `conflict` with the current `status`. */
  async act(ctx: AuthContext, id: string, action: CallAction, deviceId: string | null): Promise<Call> {
    requireCapability(ctx.app, "signaling");
    for (let attempt = 0; attempt < 5; attempt++) {
      const { row, actor } = await this.load(ctx, id);
      const r = await this.apply(row, actor, action, deviceId, ctx.identity);
      if (r) return r;
    }
    throw new ApiError("unavailable", "the call changed too often; retry");
  }

  /** A call's state and parties on the engine's own authority (the media join guard); undefined when there is none. */
  async peek(appId: string, id: string): Promise<{ status: string; caller_identity: string; callee_identity: string } | undefined> {
    return this.d.store.db
      .selectFrom("calls")
      .select(["status", "caller_identity", "callee_identity"])
      .where("id", "=", id)
      .where("app_id", "=", appId)
      .executeTakeFirst();
  }

  /**
   * Ends an active call on the engine's own authority (its media room emptied or closed). `by` is the party
   * who left last, or null. Calls in any other state are left alone; repeating is harmless.
   */
  async endActiveBySystem(appId: string, id: string, by: string | null): Promise<Call | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const row = await this.d.store.db.selectFrom("calls").selectAll().where("id", "=", id).where("app_id", "=", appId).executeTakeFirst();
      if (!row) return undefined;
      if (row.status !== "active") return toWire(row);
      const r = await this.apply(row, "system", "end", null, by);
      if (r) return r;
    }
    return undefined;
  }

  /** Applies one transition with a conditional update; undefined when someone else changed the call first. */
  private async apply(
    row: CallRow,
    actor: CallActor,
    command: CallCommand,
    deviceId: string | null,
    by: string | null,
  ): Promise<Call | undefined> {
    const from = row.status as CallStatus;
    const t = transition({ status: from, actor, command, deviceId, answeredDeviceId: row.answered_device_id });
    if (t.kind === "same") return toWire(row);
    if (t.kind === "refuse") {
      if (t.code === "conflict") throw ApiError.conflict(t.message, from);
      throw ApiError.forbidden(t.message);
    }
    const now = this.d.clock.now();
    const terminal = t.endReason !== null;
    const patch: Partial<CallRow> = { status: t.to, updated_at: now };
    if (t.to === "active") {
      patch.answered_device_id = deviceId;
      patch.answered_at = now;
      patch.ring_deadline = null;
    }
    if (terminal) {
      patch.end_reason = t.endReason;
      patch.ended_by = by;
      patch.ended_at = now;
      patch.ring_deadline = null;
    }
    const call = toWire({ ...row, ...patch } as CallRow);
    const won = await this.d.store.db.transaction().execute(async (trx) => {
      const res = await trx.updateTable("calls").set(patch).where("id", "=", row.id).where("status", "=", from).executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) return false;
      await this.d.outbox?.write(trx, { type: "call.changed", appId: row.app_id, data: { call, from } });
      return true;
    });
    if (!won) return undefined;
    this.d.outbox?.wake();
    this.d.events.toUsers(row.app_id, [row.caller_identity, row.callee_identity], t.event, { call });
    this.notify({ appId: row.app_id, call, from, to: t.to, by });
    return call;
  }

  /** `GET /api/v1/calls`: the user's calls (made and received), newest first. */
  async list(ctx: AuthContext, limit: number, before: string | undefined, statuses?: readonly CallStatus[]): Promise<CallList> {
    requireCapability(ctx.app, "signaling");
    let q = this.d.store.db
      .selectFrom("calls")
      .selectAll()
      .where("app_id", "=", ctx.app.id)
      .where((eb) => eb.or([eb("caller_identity", "=", ctx.identity), eb("callee_identity", "=", ctx.identity)]));
    if (before) q = q.where("id", "<", before);
    if (statuses && statuses.length > 0) q = q.where("status", "in", [...statuses]);
    const rows = await q
      .orderBy("id", "desc")
      .limit(limit + 1)
      .execute();
    const page = rows.slice(0, limit);
    return { calls: page.map(toWire), next_before: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null };
  }

  /** Marks every call whose ring deadline has passed as `missed` (also those that came due while no engine ran). */
  async sweep(): Promise<number> {
    const now = this.d.clock.now();
    const due = await this.d.store.db
      .selectFrom("calls")
      .selectAll()
      .where("ring_deadline", "<=", now)
      .where("status", "in", ["initiating", "ringing"])
      .limit(500)
      .execute();
    let n = 0;
    for (const row of due) if (await this.apply(row, "system", "timeout", null, null)) n++;
    return n;
  }

  /** Starts the ring-timeout sweeper (once at start, then every `intervalMs`). */
  start(intervalMs = 1000): void {
    const tick = () => {
      if (this.sweeping) return;
      this.sweeping = this.sweep()
        .then(() => undefined)
        .catch((err: unknown) => this.d.log?.warn({ err }, "calls: sweep failed"))
        .finally(() => {
          this.sweeping = undefined;
        });
    };
    tick();
    this.sweeper = setInterval(tick, intervalMs);
    this.sweeper.unref();
  }

  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.sweeping;
  }
}
