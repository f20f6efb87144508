import {
  type BeforeSendRequest,
  BeforeSendResponseSchema,
  type SendMessageRequest,
  type SetBeforeSendHookRequest,
  SetBeforeSendHookRequestSchema,
} from "@utd-stream/protocol/schemas";
import { Histogram, type Registry } from "prom-client";
import { AppSettingCache, type SettingCacheOptions } from "../../core/app-setting-cache.js";
import { type Clock, iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import { httpRequest } from "../../core/http-client.js";
import { newId } from "../../core/ids.js";
import { seal, unseal } from "../../core/keys.js";
import { guardedLookup, type NetworkClass, refusedUrl } from "../../core/ssrf.js";
import { newWebhookSecret, signedHeaders } from "../../core/standard-webhooks.js";
import type { Store } from "../../store/port.js";

interface HookConfig {
  url: string;
  secret: string;
  timeoutMs: number;
  policy: "fail_open" | "fail_closed";
}

/** The conversation and sender a send is about (what the hook is told besides the message). */
export interface BeforeSendContext {
  appId: string;
  conversationId: string;
  conversationKind: string;
  sender: string;
}

/** The seam in the message send path: returns the message to store, or throws `rejected_by_app`. */
export interface BeforeSendCheck {
  /** Whether this app has a hook (so the send path can skip the idempotency lookup when it has none). */
  has(appId: string): Promise<boolean>;
  check(ctx: BeforeSendContext, req: SendMessageRequest): Promise<SendMessageRequest>;
}

/**
 * The before-send hook: one synchronous URL per app that sees each new message before it is stored and answers
 * allow, reject (the sender gets `403 rejected_by_app` and nothing is stored) or replace. Signed like webhooks.
 * A timeout or failure follows the app's policy: `fail_open` stores the message as sent, `fail_closed` refuses
 * it with `503 unavailable`. Latency goes to `utd_before_send_hook_seconds`.
 */
export class BeforeSendHooks implements BeforeSendCheck {
  /** The app's hook, kept 2 s per node; a change shows on this node at once and on the others through the bus. */
  private readonly hooks: AppSettingCache<HookConfig | null>;
  private readonly latency: Histogram<"outcome"> | undefined;

  constructor(
    private readonly store: Store,
    private readonly sealKey: Buffer,
    private readonly clock: Clock,
    private readonly allow: readonly NetworkClass[],
    metrics?: Registry,
    cache: SettingCacheOptions = {},
  ) {
    this.hooks = new AppSettingCache({ setting: "before_send_hook", clock, ...cache, load: (appId) => this.readHook(appId) });
    this.latency = metrics
      ? new Histogram({
          name: "utd_before_send_hook_seconds",
          help: "Before-send hook round trips by outcome (allow, reject, replace, error)",
          labelNames: ["outcome"],
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
          registers: [metrics],
        })
      : undefined;
  }

  async set(appId: string, input: SetBeforeSendHookRequest) {
    const req = SetBeforeSendHookRequestSchema.parse(input);
    const why = refusedUrl(req.url, this.allow);
    if (why) throw ApiError.invalid(`url refused: ${why}`, [{ path: "body.url", message: why }]);
    const now = this.clock.now();
    const secret = newWebhookSecret();
    const row = {
      app_id: appId,
      url: req.url,
      secret_sealed: seal(this.sealKey, secret),
      timeout_ms: req.timeout_ms,
      policy: req.policy,
      updated_at: now,
    };
    await this.store.db
      .insertInto("before_send_hooks")
      .values(row)
      .onConflict((oc) =>
        oc
          .column("app_id")
          .doUpdateSet({ url: row.url, secret_sealed: row.secret_sealed, timeout_ms: row.timeout_ms, policy: row.policy, updated_at: now }),
      )
      .execute();
    this.hooks.changed(appId);
    return { url: req.url, timeout_ms: req.timeout_ms, policy: req.policy, updated_at: iso(now), secret };
  }

  async get(appId: string) {
    const r = await this.store.db.selectFrom("before_send_hooks").selectAll().where("app_id", "=", appId).executeTakeFirst();
    if (!r) throw ApiError.notFound("before-send hook");
    return { url: r.url, timeout_ms: r.timeout_ms, policy: r.policy as HookConfig["policy"], updated_at: iso(r.updated_at) };
  }

  async remove(appId: string): Promise<void> {
    const r = await this.store.db.deleteFrom("before_send_hooks").where("app_id", "=", appId).executeTakeFirst();
    this.hooks.changed(appId);
    if (Number(r.numDeletedRows) === 0) throw ApiError.notFound("before-send hook");
  }

  private async readHook(appId: string): Promise<HookConfig | null> {
    const r = await this.store.db.selectFrom("before_send_hooks").selectAll().where("app_id", "=", appId).executeTakeFirst();
    return r
      ? { url: r.url, secret: unseal(this.sealKey, r.secret_sealed), timeoutMs: r.timeout_ms, policy: r.policy as HookConfig["policy"] }
      : null;
  }

  async has(appId: string): Promise<boolean> {
    return (await this.hooks.get(appId)) !== null;
  }

  async check(ctx: BeforeSendContext, req: SendMessageRequest): Promise<SendMessageRequest> {
    const hook = await this.hooks.get(ctx.appId);
    if (!hook) return req;
    const now = this.clock.now();
    const payload: BeforeSendRequest = {
      type: "message.before_send",
      timestamp: iso(now),
      data: {
        conversation_id: ctx.conversationId,
        conversation_kind: ctx.conversationKind,
        sender: ctx.sender,
        client_msg_id: req.client_msg_id,
        text: req.text ?? null,
        custom: (req.custom as BeforeSendRequest["data"]["custom"]) ?? null,
        attachments: req.attachments?.length ?? 0,
        reply_to: req.reply_to ?? null,
      },
    };
    const body = JSON.stringify(payload);
    const started = process.hrtime.bigint();
    const observe = (outcome: string) => this.latency?.observe({ outcome }, Number(process.hrtime.bigint() - started) / 1e9);
    let failure: string;
    try {
      const why = refusedUrl(hook.url, this.allow);
      if (why) throw new Error(`refused target: ${why}`);
      const res = await httpRequest(hook.url, {
        method: "POST",
        headers: signedHeaders([hook.secret], newId("hook", now), Math.floor(now / 1000), body),
        body,
        timeoutMs: hook.timeoutMs,
        lookup: guardedLookup(this.allow),
        maxBody: 64 * 1024,
      });
      if (res.status < 200 || res.status >= 300) throw new Error(`hook answered HTTP ${res.status}`);
      const answer = BeforeSendResponseSchema.safeParse(JSON.parse(res.body));
      if (!answer.success)
        throw new Error(`hook answered something else than allow, reject or replace: ${answer.error.issues[0]?.message ?? ""}`);
      const a = answer.data;
      observe(a.action);
      if (a.action === "allow") return req;
      if (a.action === "reject") throw new ApiError("rejected_by_app", `rejected by the app: ${a.reason}`, { reason: a.reason });
      const next: SendMessageRequest = { ...req };
      if (a.text !== undefined) {
        if (a.text === null) delete next.text;
        else next.text = a.text;
      }
      if (a.custom !== undefined) {
        if (a.custom === null) delete next.custom;
        else next.custom = a.custom;
      }
      if (next.text === undefined && next.custom === undefined && !next.attachments?.length)
        throw new Error("hook replaced the message with an empty one");
      return next;
    } catch (err) {
      if (err instanceof ApiError) throw err;
      failure = err instanceof Error ? err.message : String(err);
    }
    observe("error");
    if (hook.policy === "fail_open") return req;
    throw new ApiError("unavailable", `the app's before-send hook failed (${failure}); the message was not stored`);
  }
}
