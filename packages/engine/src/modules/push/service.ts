import { createHash } from "node:crypto";
import { PUSH_MAX_TOKENS_PER_USER, type PushPlatform, type PushToken, type RegisterPushTokenRequest } from "@utd-stream/protocol";
import type { Selectable } from "kysely";
import type { AuthContext } from "../../core/caller.js";
import { type Clock, iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import type { Hooks } from "../../core/hooks.js";
import { newId } from "../../core/ids.js";
import type { Store } from "../../store/port.js";
import type { PushTokensTable } from "./migrations.js";

type Row = Selectable<PushTokensTable>;

function toWire(r: Row): PushToken {
  return {
    id: r.id,
    platform: r.platform as PushPlatform,
    token: r.token,
    device_id: r.device_id,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
  };
}

/**
 * Push-token registry (sending pushes is a later module). Deduplicated per app + platform + token;
 * one token per device and platform (a rotated token replaces the old one); at most
 * `PUSH_MAX_TOKENS_PER_USER` per user; all of a user's tokens go on sign-out-everywhere and on a ban.
 */
export class PushService {
  private readonly unsubs: (() => void)[];

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    hooks: Hooks,
    private readonly log?: { warn(obj: unknown, msg: string): void },
  ) {
    // Returned, so a ban or sign-out-everywhere answers only once the tokens are gone (Hooks.emitAndWait).
    const drop = (e: { appId: string; identity: string }) =>
      this.removeAll(e.appId, e.identity).then(
        () => {},
        (err: unknown) => this.log?.warn({ err }, "push: cleanup failed"),
      );
    this.unsubs = [hooks.on("user.revoked", drop), hooks.on("user.banned", drop)];
  }

  /** `POST /api/v1/push/tokens` */
  async register(ctx: AuthContext, req: RegisterPushTokenRequest): Promise<PushToken> {
    const now = this.clock.now();
    const db = this.store.db;
    const hash = createHash("sha256").update(req.token).digest("hex");
    const deviceId = req.device_id ?? ctx.deviceId;
    await db
      .insertInto("push_tokens")
      .values({
        id: newId("pt", now),
        app_id: ctx.app.id,
        identity: ctx.identity,
        device_id: deviceId,
        platform: req.platform,
        token: req.token,
        token_hash: hash,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc.columns(["app_id", "platform", "token_hash"]).doUpdateSet({ identity: ctx.identity, device_id: deviceId, updated_at: now }),
      )
      .execute();
    if (deviceId !== null) {
      await db
        .deleteFrom("push_tokens")
        .where("app_id", "=", ctx.app.id)
        .where("identity", "=", ctx.identity)
        .where("device_id", "=", deviceId)
        .where("platform", "=", req.platform)
        .where("token_hash", "!=", hash)
        .execute();
    }
    const all = await this.rows(ctx);
    const excess = all.slice(PUSH_MAX_TOKENS_PER_USER);
    if (excess.length > 0)
      await db
        .deleteFrom("push_tokens")
        .where(
          "id",
          "in",
          excess.map((r) => r.id),
        )
        .execute();
    const row = await db
      .selectFrom("push_tokens")
      .selectAll()
      .where("app_id", "=", ctx.app.id)
      .where("platform", "=", req.platform)
      .where("token_hash", "=", hash)
      .executeTakeFirstOrThrow();
    return toWire(row);
  }

  private rows(ctx: AuthContext): Promise<Row[]> {
    return this.store.db
      .selectFrom("push_tokens")
      .selectAll()
      .where("app_id", "=", ctx.app.id)
      .where("identity", "=", ctx.identity)
      .orderBy("updated_at", "desc")
      .orderBy("id", "desc")
      .execute();
  }

  /** `GET /api/v1/push/tokens`: the caller's tokens, most recently registered first. */
  async list(ctx: AuthContext): Promise<PushToken[]> {
    return (await this.rows(ctx)).map(toWire);
  }

  /** `DELETE /api/v1/push/tokens/{id}` (own tokens only; others' look absent). */
  async remove(ctx: AuthContext, id: string): Promise<void> {
    const r = await this.store.db
      .deleteFrom("push_tokens")
      .where("id", "=", id)
      .where("app_id", "=", ctx.app.id)
      .where("identity", "=", ctx.identity)
      .executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw ApiError.notFound("push token");
  }

  /** `POST /api/v1/push/tokens/unregister`: by token value and/or every token of a device (the caller's only). */
  async unregister(ctx: AuthContext, by: { token?: string | undefined; device_id?: string | undefined }): Promise<number> {
    let q = this.store.db.deleteFrom("push_tokens").where("app_id", "=", ctx.app.id).where("identity", "=", ctx.identity);
    if (by.token !== undefined) q = q.where("token_hash", "=", createHash("sha256").update(by.token).digest("hex"));
    if (by.device_id !== undefined) q = q.where("device_id", "=", by.device_id);
    return Number((await q.executeTakeFirst()).numDeletedRows);
  }

  async removeAll(appId: string, identity: string): Promise<void> {
    await this.store.db.deleteFrom("push_tokens").where("app_id", "=", appId).where("identity", "=", identity).execute();
  }

  close(): void {
    for (const u of this.unsubs) u();
  }
}
