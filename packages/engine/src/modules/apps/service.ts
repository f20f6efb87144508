import {
  type App,
  type AppSettings,
  type AppWithSecret,
  type AuthMode,
  type CreateAppRequest,
  CreateAppRequestSchema,
  PLAN_DEFAULTS,
  type Plan,
  type PlanLimits,
  type UpdateAppRequest,
  type Usage,
} from "@utd-stream/protocol/schemas";
import type { AppRecord } from "../../core/caller.js";
import { type Clock, iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import type { Hooks } from "../../core/hooks.js";
import { newId, randomSecret } from "../../core/ids.js";
import { seal, unseal } from "../../core/keys.js";
import type { Store } from "../../store/port.js";
import type { AppsTable } from "./migrations.js";

export type { AppSettings } from "@utd-stream/protocol/schemas";

/** Apps, plans and capabilities: the tenancy root of everything else. */
export class AppsService {
  constructor(
    private readonly store: Store,
    private readonly sealKey: Buffer,
    private readonly clock: Clock,
    private readonly hooks: Hooks,
  ) {}

  private toRecord(row: AppsTable): AppRecord {
    const plan = row.plan as Plan;
    const defaults = PLAN_DEFAULTS[plan] ?? PLAN_DEFAULTS.free;
    const overrides = JSON.parse(row.limit_overrides) as Partial<PlanLimits>;
    const sealed = row.secret_sealed;
    const key = this.sealKey;
    return {
      id: row.id,
      name: row.name,
      key: row.app_key,
      authMode: row.auth_mode as AuthMode,
      plan,
      signalingEnabled: row.signaling_enabled === null ? defaults.signaling_enabled : row.signaling_enabled === 1,
      messagingEnabled: row.messaging_enabled === null ? defaults.messaging_enabled : row.messaging_enabled === 1,
      limits: { ...defaults.limits, ...overrides },
      limitOverrides: overrides,
      settings: JSON.parse(row.settings) as AppSettings,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      tokensValidAfter: Number(row.tokens_valid_after ?? 0),
      secret: () => unseal(key, sealed),
    };
  }

  /** The wire view of an app (never the secret). */
  static toWire(app: AppRecord): App {
    return {
      app_id: app.id,
      app_key: app.key,
      name: app.name,
      auth_mode: app.authMode,
      plan: app.plan,
      signaling_enabled: app.signalingEnabled,
      messaging_enabled: app.messagingEnabled,
      plan_limits: app.limits,
      limit_overrides: app.limitOverrides,
      settings: app.settings,
      created_at: iso(app.createdAt),
      updated_at: iso(app.updatedAt),
    };
  }

  async create(input: CreateAppRequest): Promise<AppWithSecret> {
    const req = CreateAppRequestSchema.parse(input);
    const now = this.clock.now();
    const secret = randomSecret("sk");
    const row: AppsTable = {
      id: newId("app", now),
      name: req.name,
      app_key: randomSecret("pk", 18),
      secret_sealed: seal(this.sealKey, secret),
      auth_mode: req.auth_mode,
      plan: req.plan,
      signaling_enabled: null,
      messaging_enabled: null,
      limit_overrides: "{}",
      settings: "{}",
      created_at: now,
      updated_at: now,
      tokens_valid_after: 0,
    };
    await this.store.db.insertInto("apps").values(row).execute();
    return { ...AppsService.toWire(this.toRecord(row)), app_secret: secret };
  }

  async find(id: string): Promise<AppRecord | undefined> {
    const row = await this.store.db.selectFrom("apps").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? this.toRecord(row) : undefined;
  }

  async get(id: string): Promise<AppRecord> {
    const app = await this.find(id);
    if (!app) throw ApiError.notFound("app");
    return app;
  }

  async list(): Promise<AppRecord[]> {
    const rows = await this.store.db.selectFrom("apps").selectAll().orderBy("created_at").orderBy("id").execute();
    return rows.map((r) => this.toRecord(r));
  }

  async update(id: string, req: UpdateAppRequest): Promise<AppRecord> {
    const app = await this.get(id);
    const now = this.clock.now();
    const patch: Partial<AppsTable> = { updated_at: now };
    if (req.name !== undefined) patch.name = req.name;
    if (req.auth_mode !== undefined && req.auth_mode !== app.authMode) {
      patch.auth_mode = req.auth_mode;
      // Sessions minted under the old mode must not survive it (an open-mode token would outlive a switch to signed).
      patch.tokens_valid_after = now + 1;
    }
    if (req.plan !== undefined) patch.plan = req.plan;
    if (req.signaling_enabled !== undefined) patch.signaling_enabled = flag(req.signaling_enabled);
    if (req.messaging_enabled !== undefined) patch.messaging_enabled = flag(req.messaging_enabled);
    if (req.limit_overrides !== undefined) {
      patch.limit_overrides = JSON.stringify({ ...app.limitOverrides, ...req.limit_overrides });
    }
    if (req.settings !== undefined) patch.settings = JSON.stringify({ ...app.settings, ...req.settings });
    await this.store.db.updateTable("apps").set(patch).where("id", "=", id).execute();
    // Waits until this node's open sockets run on the new settings: a capability switched off is refused
    // on the very next frame after the admin call returns (other nodes follow within a bus round trip).
    await this.hooks.emitAndWait("app.updated", { appId: id });
    return this.get(id);
  }

  /**
   * Replaces the publishable key, or the secret (returned once). Either way every user token issued
   * before now stops working and open sockets close with 4401: a leaked credential's sessions go with it.
   */
  async rotate(id: string, which: "key" | "secret"): Promise<AppWithSecret | App> {
    await this.get(id);
    const now = this.clock.now();
    if (which === "key") {
      await this.store.db
        .updateTable("apps")
        .set({ app_key: randomSecret("pk", 18), updated_at: now, tokens_valid_after: now + 1 })
        .where("id", "=", id)
        .execute();
      await this.hooks.emitAndWait("app.updated", { appId: id });
      return AppsService.toWire(await this.get(id));
    }
    const secret = randomSecret("sk");
    await this.store.db
      .updateTable("apps")
      .set({ secret_sealed: seal(this.sealKey, secret), updated_at: now, tokens_valid_after: now + 1 })
      .where("id", "=", id)
      .execute();
    await this.hooks.emitAndWait("app.updated", { appId: id });
    return { ...AppsService.toWire(await this.get(id)), app_secret: secret };
  }

  /** Monthly active users: distinct identities that minted a session, per calendar month (UTC). */
  async usage(id: string, month?: string): Promise<Usage> {
    await this.get(id);
    let q = this.store.db
      .selectFrom("mau")
      .select(["month", (eb) => eb.fn.countAll<number>().as("mau")])
      .where("app_id", "=", id)
      .groupBy("month")
      .orderBy("month", "desc");
    if (month) q = q.where("month", "=", month);
    const rows = await q.execute();
    return { app_id: id, months: rows.map((r) => ({ month: r.month, mau: Number(r.mau) })) };
  }
}

function flag(v: boolean | null): number | null {
  return v === null ? null : v ? 1 : 0;
}
