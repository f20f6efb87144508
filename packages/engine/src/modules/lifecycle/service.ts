import { randomBytes } from "node:crypto";
import type { AppDeleteReport, EraseMode, UserErasure, UserExport } from "@utd-stream/protocol";
import { sql } from "kysely";
import { type Clock, iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import type { Hooks } from "../../core/hooks.js";
import type { FileStore } from "../../files/port.js";
import type { Store } from "../../store/port.js";
import type { Database } from "../../store/schema.js";
import type { AppsService } from "../apps/index.js";

/** Rows removed per statement when deleting an app: small enough that other queries interleave. */
const BATCH = 500;

/** Yields to the event loop between batches so an app deletion never blocks requests for long. */
const breathe = () => new Promise<void>((r) => setImmediate(r));

/**
 * The data lifecycle an operator owes users and customers (GDPR erasure and access, app deletion).
 * It knows every table holding an app's or a user's data: a module adding such a table adds it here,
 * and test/lifecycle.test.ts fails when a table is left out (it checks every table of the schema).
 */
export class LifecycleService {
  constructor(
    private readonly store: Store,
    private readonly files: FileStore,
    private readonly apps: AppsService,
    private readonly clock: Clock,
    private readonly hooks: Hooks,
  ) {}

  /**
   * Erases one user's data from an app: files (objects and rows), messages (removed, or tombstoned —
   * the app's `erase_messages` setting, default tombstone so others' threads keep their order),
   * reactions, memberships, devices and push tokens, presence, friendships, calls, rooms, settings and
   * the user row. MAU rows stay for billing under a random pseudonym. Idempotent: a second run removes
   * nothing and says so.
   */
  async eraseUser(appId: string, identity: string): Promise<UserErasure> {
    const app = await this.apps.get(appId);
    const mode: EraseMode = app.settings.erase_messages ?? "tombstone";
    const db = this.store.db;
    const removed: Record<string, number> = {};
    const count = (k: string, n: bigint | number | undefined) => {
      removed[k] = (removed[k] ?? 0) + Number(n ?? 0);
    };

    // Files first: an object whose row is gone could never be found again.
    const uploads = await db
      .selectFrom("uploads")
      .select(["id", "storage_key"])
      .where("app_id", "=", appId)
      .where("uploader", "=", identity)
      .execute();
    for (const u of uploads) await this.files.delete(u.storage_key);
    count("files", uploads.length);

    await db.transaction().execute(async (tx) => {
      const fileIds = uploads.map((u) => u.id);
      if (fileIds.length) {
        await tx.deleteFrom("message_files").where("file_id", "in", fileIds).execute();
        await tx.deleteFrom("uploads").where("id", "in", fileIds).execute();
      }
      const mine = tx.selectFrom("messages").select("id").where("app_id", "=", appId).where("sender", "=", identity);
      if (mode === "delete") {
        await tx.deleteFrom("message_reactions").where("message_id", "in", mine).execute();
        await tx.deleteFrom("message_files").where("message_id", "in", mine).execute();
        const r = await tx.deleteFrom("messages").where("app_id", "=", appId).where("sender", "=", identity).executeTakeFirst();
        count("messages", r.numDeletedRows);
      } else {
        await tx.deleteFrom("message_files").where("message_id", "in", mine).execute();
        const r = await tx
          .updateTable("messages")
          .set({
            sender: null,
            text: null,
            custom: null,
            attachments: "[]",
            reply_to: null,
            client_msg_id: null,
            deleted_at: this.clock.now(),
          })
          .where("app_id", "=", appId)
          .where("sender", "=", identity)
          .executeTakeFirst();
        count("messages", r.numUpdatedRows);
      }
      const reactions = await tx
        .deleteFrom("message_reactions")
        .where("identity", "=", identity)
        .where("conversation_id", "in", tx.selectFrom("conversations").select("id").where("app_id", "=", appId))
        .executeTakeFirst();
      count("reactions", reactions.numDeletedRows);

      // Memberships: each conversation's member count follows.
      const convs = await tx
        .selectFrom("conversation_members")
        .select("conversation_id")
        .where("app_id", "=", appId)
        .where("identity", "=", identity)
        .execute();
      if (convs.length) {
        const ids = convs.map((c) => c.conversation_id);
        await tx.updateTable("conversations").set({ member_count: sql`member_count - 1` }).where("id", "in", ids).execute();
        await tx.deleteFrom("conversation_members").where("app_id", "=", appId).where("identity", "=", identity).execute();
      }
      count("memberships", convs.length);
      // Conversations they started stay for the other members, no longer naming them.
      const started = await tx
        .updateTable("conversations")
        .set({ created_by: "" })
        .where("app_id", "=", appId)
        .where("created_by", "=", identity)
        .executeTakeFirst();
      count("conversations_unlinked", started.numUpdatedRows);

      const del = async (label: string, table: keyof Database & string, column = "identity") => {
        const r = await tx
          .deleteFrom(table as "users")
          .where("app_id", "=", appId)
          .where(column as "identity", "=", identity)
          .executeTakeFirst();
        count(label, r.numDeletedRows);
      };
      await del("push_tokens", "push_tokens");
      await del("push_outbox", "push_outbox");
      await del("devices", "presence_connections");
      await del("presence", "presence_status");
      await del("settings", "chat_settings");
      await del("settings", "conversation_mutes");
      await del("friendships", "friendships", "requester");
      await del("friendships", "friendships", "addressee");
      await del("calls", "calls", "caller_identity");
      await del("calls", "calls", "callee_identity");
      await del("support", "support_operators");
      // Chat depth (issue 18): their block and mute lists and others' entries naming them, reports they
      // filed or that name them, their thread read positions and mention rows.
      await del("blocks", "user_blocks");
      await del("blocks", "user_blocks", "target");
      await del("mutes", "user_mutes");
      await del("mutes", "user_mutes", "target");
      await del("reports", "reports", "reporter");
      await del("reports", "reports");
      await del("threads", "thread_participants");
      await del("mentions", "message_mentions");
      await del("support", "support_conversations", "visitor");
      await tx
        .updateTable("support_conversations")
        .set({ assignee: null })
        .where("app_id", "=", appId)
        .where("assignee", "=", identity)
        .execute();
      await del("rooms", "media_room_members");
      await del("rooms", "media_seats");
      await del("rooms", "media_speak_requests");
      await del("rooms", "media_stage_requests");
      await del("rooms", "signal_room_allowed");
      // Billing counts the month's active users: the row stays, no longer linked to the person.
      const mau = await tx
        .updateTable("mau")
        .set({ identity: `erased_${randomBytes(12).toString("base64url")}` })
        .where("app_id", "=", appId)
        .where("identity", "=", identity)
        .executeTakeFirst();
      count("mau_pseudonymised", mau.numUpdatedRows);
      // Daily active users likewise: the day keeps its count, no longer linked to the person.
      const dau = await tx
        .updateTable("usage_daily_users")
        .set({ identity: `erased_${randomBytes(12).toString("base64url")}` })
        .where("app_id", "=", appId)
        .where("identity", "=", identity)
        .executeTakeFirst();
      count("dau_pseudonymised", dau.numUpdatedRows);
      await del("user", "users");
    });
    // Open sockets of the erased user close now (the same path a ban takes).
    this.hooks.emit("user.banned", { appId, identity });
    const nothing = Object.values(removed).every((n) => n === 0);
    return { app_id: appId, identity, messages: mode, removed, already_erased: nothing, erased_at: iso(this.clock.now()) };
  }

  /** Everything stored about one user in an app, as one JSON document (the GDPR right of access). */
  async exportUser(appId: string, identity: string): Promise<UserExport> {
    await this.apps.get(appId);
    const db = this.store.db;
    const user = await db.selectFrom("users").selectAll().where("app_id", "=", appId).where("identity", "=", identity).executeTakeFirst();
    if (!user) throw ApiError.notFound("user");
    const t = (ms: number | null) => (ms === null ? null : iso(Number(ms)));
    const messages = await db
      .selectFrom("messages")
      .select([
        "id",
        "conversation_id",
        "seq",
        "type",
        "text",
        "custom",
        "attachments",
        "reply_to",
        "created_at",
        "edited_at",
        "deleted_at",
      ])
      .where("app_id", "=", appId)
      .where("sender", "=", identity)
      .orderBy("created_at")
      .execute();
    const memberships = await db
      .selectFrom("conversation_members")
      .select(["conversation_id", "role", "joined_at", "last_read_seq"])
      .where("app_id", "=", appId)
      .where("identity", "=", identity)
      .execute();
    const reactions = await db
      .selectFrom("message_reactions")
      .select(["message_id", "conversation_id", "reaction", "created_at"])
      .where("identity", "=", identity)
      .where("conversation_id", "in", db.selectFrom("conversations").select("id").where("app_id", "=", appId))
      .execute();
    const files = await db
      .selectFrom("uploads")
      .select(["id", "kind", "filename", "content_type", "size", "created_at", "uploaded_at"])
      .where("app_id", "=", appId)
      .where("uploader", "=", identity)
      .execute();
    const devices = await db
      .selectFrom("push_tokens")
      .select(["id", "platform", "device_id", "created_at", "updated_at"])
      .where("app_id", "=", appId)
      .where("identity", "=", identity)
      .execute();
    const friendships = await db
      .selectFrom("friendships")
      .selectAll()
      .where("app_id", "=", appId)
      .where((eb) => eb.or([eb("requester", "=", identity), eb("addressee", "=", identity)]))
      .execute();
    const calls = await db
      .selectFrom("calls")
      .select(["id", "type", "status", "caller_identity", "callee_identity", "created_at", "answered_at", "ended_at", "end_reason"])
      .where("app_id", "=", appId)
      .where((eb) => eb.or([eb("caller_identity", "=", identity), eb("callee_identity", "=", identity)]))
      .execute();
    const months = await db
      .selectFrom("mau")
      .select("month")
      .where("app_id", "=", appId)
      .where("identity", "=", identity)
      .orderBy("month")
      .execute();
    return {
      format: "utd-user-export/1",
      exported_at: iso(this.clock.now()),
      app_id: appId,
      user: {
        identity: user.identity,
        name: user.name,
        created_at: iso(Number(user.created_at)),
        last_seen_at: iso(Number(user.last_seen_at)),
        banned: user.banned_at !== null,
        ban_reason: user.ban_reason,
      },
      messages: messages.map((m) => ({
        id: m.id,
        conversation_id: m.conversation_id,
        seq: Number(m.seq),
        type: m.type,
        text: m.text,
        custom: m.custom === null ? null : (JSON.parse(m.custom) as unknown),
        attachments: JSON.parse(m.attachments) as unknown,
        reply_to: m.reply_to,
        created_at: iso(Number(m.created_at)),
        edited_at: t(m.edited_at),
        deleted_at: t(m.deleted_at),
      })),
      conversations: memberships.map((c) => ({
        conversation_id: c.conversation_id,
        role: c.role,
        joined_at: iso(Number(c.joined_at)),
        last_read_seq: Number(c.last_read_seq),
      })),
      reactions: reactions.map((r) => ({ ...r, created_at: iso(Number(r.created_at)) })),
      files: files.map((f) => ({ ...f, size: Number(f.size), created_at: iso(Number(f.created_at)), uploaded_at: t(f.uploaded_at) })),
      devices: devices.map((d) => ({ ...d, created_at: iso(Number(d.created_at)), updated_at: iso(Number(d.updated_at)) })),
      friendships: friendships.map((f) => ({
        requester: f.requester,
        addressee: f.addressee,
        created_at: iso(Number(f.created_at)),
        accepted_at: t(f.accepted_at),
      })),
      calls: calls.map((c) => ({
        ...c,
        created_at: iso(Number(c.created_at)),
        answered_at: t(c.answered_at),
        ended_at: t(c.ended_at),
      })),
      active_months: months.map((m) => m.month),
    };
  }

  /**
   * Deletes an app and everything of it — file objects included — in batches of a few hundred rows with
   * a yield between them, so a large app does not hold the store or the event loop. Its sockets close
   * first (tokens are voided by the app's disappearance).
   */
  async deleteApp(appId: string): Promise<AppDeleteReport> {
    await this.apps.get(appId);
    const db = this.store.db;
    const removed: Record<string, number> = {};
    const count = (k: string, n: bigint | number) => {
      removed[k] = (removed[k] ?? 0) + Number(n);
    };
    for (;;) {
      const batch = await db.selectFrom("uploads").select(["id", "storage_key"]).where("app_id", "=", appId).limit(BATCH).execute();
      if (!batch.length) break;
      for (const u of batch) await this.files.delete(u.storage_key);
      const ids = batch.map((u) => u.id);
      await db.deleteFrom("message_files").where("file_id", "in", ids).execute();
      await db.deleteFrom("uploads").where("id", "in", ids).execute();
      count("files", batch.length);
      await breathe();
    }
    // Reactions have no app column: by conversation, a batch of conversations at a time.
    for (let after = ""; ; ) {
      const convs = await db
        .selectFrom("conversations")
        .select("id")
        .where("app_id", "=", appId)
        .where("id", ">", after)
        .orderBy("id")
        .limit(BATCH)
        .execute();
      if (!convs.length) break;
      const r = await db
        .deleteFrom("message_reactions")
        .where(
          "conversation_id",
          "in",
          convs.map((c) => c.id),
        )
        .executeTakeFirst();
      count("message_reactions", r.numDeletedRows);
      after = convs.at(-1)?.id ?? after;
      await breathe();
    }
    // Tables with a single-column key go in batches; the rest are bounded by the app's users or rooms.
    const keyed: [keyof Database & string, string][] = [
      ["message_files", "file_id"],
      ["messages", "id"],
      ["push_outbox", "id"],
      ["push_tokens", "id"],
      ["calls", "id"],
      ["presence_connections", "conn_id"],
    ];
    for (const [table, key] of keyed) {
      for (;;) {
        const r = await db
          .deleteFrom(table as "messages")
          .where("app_id", "=", appId)
          .where(
            key as "id",
            "in",
            db
              .selectFrom(table as "messages")
              .select(key as "id")
              .where("app_id", "=", appId)
              .limit(BATCH),
          )
          .executeTakeFirst();
        const n = Number(r.numDeletedRows);
        count(table, n);
        if (n < BATCH) break;
        await breathe();
      }
    }
    const rest: (keyof Database & string)[] = [
      "conversation_members",
      "conversation_mutes",
      "support_conversations",
      "conversations",
      "chat_settings",
      "presence_status",
      "friendships",
      "push_credentials",
      "support_operators",
      "media_speak_requests",
      "media_seats",
      "media_room_members",
      "media_rooms",
      "signal_room_allowed",
      "signal_room_policies",
      "mau",
      "usage_daily_users",
      "usage_daily",
      "users",
    ];
    for (const table of rest) {
      const r = await db
        .deleteFrom(table as "users")
        .where("app_id", "=", appId)
        .executeTakeFirst();
      count(table, r.numDeletedRows);
      await breathe();
    }
    await db.deleteFrom("apps").where("id", "=", appId).execute();
    // Open sockets and caches learn the app is gone (they re-read it and find nothing).
    await this.hooks.emitAndWait("app.updated", { appId });
    return { app_id: appId, deleted: true, removed };
  }
}
