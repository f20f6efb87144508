import type { Kysely } from "kysely";
import { AppSettingCache } from "../../core/app-setting-cache.js";
import type { AppRecord } from "../../core/caller.js";
import type { Database } from "../../store/schema.js";
import { ChatAccess } from "./access.js";
import { ConversationsService } from "./conversations.js";
import type { ChatDeps, ChatParts } from "./deps.js";
import { filtersOf } from "./filters.js";
import { MembersService } from "./members.js";
import { MessagesService } from "./messages.js";
import { ModerationService } from "./moderation.js";
import { SeqOrder } from "./order.js";
import { ReceiptsService } from "./receipts.js";
import { ChatRecords } from "./records.js";
import { SearchService } from "./search.js";
import { ThreadsService } from "./threads.js";

export type { Caller } from "./access.js";
export type { AttachmentResolver, ChatDeps } from "./deps.js";

/**
 * The chat module: conversations, members, messages, receipts and search, each a service composed over the
 * same injected access check (capability, tenancy, membership, retention window) and the same
 * records (the writes that keep rows consistent). Every caller-facing method checks access; events
 * go out only after commit. Modules built on chat (support) use `records`, `messages.page` and
 * `messages.lastOf` instead of writing chat's tables themselves.
 */
export class ChatService {
  readonly access: ChatAccess;
  readonly records: ChatRecords;
  readonly conversations: ConversationsService;
  readonly members: MembersService;
  readonly messages: MessagesService;
  readonly receipts: ReceiptsService;
  readonly search: SearchService;
  readonly threads: ThreadsService;
  readonly moderation: ModerationService;
  private readonly db: Kysely<Database>;

  /** `access` replaces the default check (tests; a deployment with its own membership rules). */
  constructor(d: ChatDeps, access: ChatAccess = new ChatAccess(d.store, d.clock)) {
    this.db = d.store.db;
    this.access = access;
    this.records = new ChatRecords(d.store);
    const order = new SeqOrder(d.order);
    const filters = new AppSettingCache({
      setting: "chat_filters",
      clock: d.clock,
      ...d.settingCache,
      load: (appId) => filtersOf(this.db, appId),
    });
    const parts: ChatParts = { ...d, access, records: this.records, order, filters };
    this.conversations = new ConversationsService(parts);
    this.members = new MembersService(parts);
    this.messages = new MessagesService(parts);
    order.recoverWith((conversationId, from, to) => this.messages.recoverAnnouncements(conversationId, from, to));
    this.receipts = new ReceiptsService(parts);
    this.search = new SearchService(parts);
    this.threads = new ThreadsService(parts);
    this.moderation = new ModerationService(parts, this.messages, d.banner);
  }

  /** Whether `identity` is a member of a conversation where the file was sent (inside retention). */
  async canDownload(app: AppRecord, identity: string, fileId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("message_files as f")
      .innerJoin("conversation_members as cm", (j) =>
        j.onRef("cm.conversation_id", "=", "f.conversation_id").on("cm.identity", "=", identity),
      )
      .select("f.file_id")
      .where("f.file_id", "=", fileId)
      .where("f.app_id", "=", app.id)
      .where("f.created_at", ">=", this.access.cutoff(app))
      .executeTakeFirst();
    return row !== undefined;
  }

  /** The oldest creation time still kept for an app (0: no limit). */
  retentionCutoff(app: AppRecord): number {
    return this.access.cutoff(app);
  }

  /** Deletes messages older than each app's `history_days` (their reactions and file links go with them). */
  async purgeExpired(apps: readonly AppRecord[]): Promise<number> {
    let purged = 0;
    for (const app of apps) {
      const cutoff = this.access.cutoff(app);
      if (cutoff <= 0) continue;
      const r = await this.db.deleteFrom("messages").where("app_id", "=", app.id).where("created_at", "<", cutoff).executeTakeFirst();
      purged += Number(r.numDeletedRows);
    }
    return purged;
  }
}
