import { ROOM_DEFAULT_ROLE, type RoomPolicy, type RoomPolicyKind, type RoomPolicyRequest } from "@utd-stream/protocol";
import type { AppRecord } from "../../core/caller.js";
import { type Clock, iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import type { Store } from "../../store/port.js";

/** A room's policy as the rules use it: limits already capped by the app's plan. */
export interface EffectivePolicy {
  policy: RoomPolicyKind;
  publishRole: string | null;
  maxMembers: number;
  history: number;
  source: "room" | "app";
  updatedAt: number | null;
}

/**
 * Who may join a signalling room and publish in it: a room's own policy (set by the app's backend over
 * REST) or the app's defaults (`settings.room_policy`, the plan's `max_room_members`, no history).
 */
export class RoomPolicies {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** The effective policy of a room. */
  async effective(app: AppRecord, room: string): Promise<EffectivePolicy> {
    const row = await this.store.db
      .selectFrom("signal_room_policies")
      .selectAll()
      .where("app_id", "=", app.id)
      .where("room", "=", room)
      .executeTakeFirst();
    const planMax = app.limits.max_room_members;
    const planHistory = app.limits.room_history;
    if (!row) {
      return {
        policy: app.settings.room_policy ?? "open",
        publishRole: null,
        maxMembers: planMax,
        history: 0,
        source: "app",
        updatedAt: null,
      };
    }
    return {
      policy: row.policy as RoomPolicyKind,
      publishRole: row.publish_role,
      maxMembers: Math.min(planMax, row.max_members ?? planMax),
      history: Math.min(planHistory, row.history ?? 0),
      source: "room",
      updatedAt: row.updated_at,
    };
  }

  /** The allow-list role of `identity` in a room, or undefined when it is not on the list. */
  async allowedRole(appId: string, room: string, identity: string): Promise<string | undefined> {
    const row = await this.store.db
      .selectFrom("signal_room_allowed")
      .select("role")
      .where("app_id", "=", appId)
      .where("room", "=", room)
      .where("identity", "=", identity)
      .executeTakeFirst();
    return row?.role;
  }

  /** The wire view of a room's policy (with its allow-list). */
  async describe(app: AppRecord, room: string): Promise<RoomPolicy> {
    const p = await this.effective(app, room);
    const members = await this.store.db
      .selectFrom("signal_room_allowed")
      .select(["identity", "role"])
      .where("app_id", "=", app.id)
      .where("room", "=", room)
      .orderBy("identity")
      .execute();
    return {
      room,
      policy: p.policy,
      members,
      publish_role: p.publishRole,
      max_members: p.maxMembers,
      history: p.history,
      source: p.source,
      updated_at: p.updatedAt === null ? null : iso(p.updatedAt),
    };
  }

  /**
   * Replaces a room's policy and allow-list in one transaction. Limits above the plan's are refused
   * (`limit_exceeded`), so what is stored is what applies.
   */
  async set(app: AppRecord, room: string, req: RoomPolicyRequest): Promise<RoomPolicy> {
    if (req.max_members != null && req.max_members > app.limits.max_room_members) {
      throw ApiError.limitExceeded("max_room_members", app.limits.max_room_members);
    }
    if (req.history != null && req.history > app.limits.room_history) throw ApiError.limitExceeded("room_history", app.limits.room_history);
    const seen = new Set<string>();
    for (const m of req.members ?? []) {
      if (seen.has(m.identity)) throw ApiError.invalid(`identity "${m.identity}" is listed twice`);
      seen.add(m.identity);
    }
    const now = this.clock.now();
    const row = {
      app_id: app.id,
      room,
      policy: req.policy,
      publish_role: req.publish_role ?? null,
      max_members: req.max_members ?? null,
      history: req.history ?? null,
      updated_at: now,
    };
    await this.store.db.transaction().execute(async (tx) => {
      await tx.deleteFrom("signal_room_allowed").where("app_id", "=", app.id).where("room", "=", room).execute();
      await tx.deleteFrom("signal_room_policies").where("app_id", "=", app.id).where("room", "=", room).execute();
      await tx.insertInto("signal_room_policies").values(row).execute();
      const members = req.members ?? [];
      for (let i = 0; i < members.length; i += 200) {
        await tx
          .insertInto("signal_room_allowed")
          .values(members.slice(i, i + 200).map((m) => ({ app_id: app.id, room, identity: m.identity, role: m.role ?? ROOM_DEFAULT_ROLE })))
          .execute();
      }
    });
    return this.describe(app, room);
  }

  /** Drops a room's own policy (the app's defaults apply again); resolves to whether it had one. */
  async remove(appId: string, room: string): Promise<boolean> {
    const r = await this.store.db
      .deleteFrom("signal_room_policies")
      .where("app_id", "=", appId)
      .where("room", "=", room)
      .executeTakeFirst();
    // SQLite enforces the cascade only with foreign_keys on; delete the allow-list explicitly either way.
    await this.store.db.deleteFrom("signal_room_allowed").where("app_id", "=", appId).where("room", "=", room).execute();
    return Number(r.numDeletedRows) > 0;
  }
}
