import type { Attachment, ChatFilters, SendMessageRequest } from "@utd-stream/protocol";
import type { AppSettingCache, SettingCacheOptions } from "../../core/app-setting-cache.js";
import type { AppRecord } from "../../core/caller.js";
import type { Clock } from "../../core/clock.js";
import type { EventSink } from "../../core/events.js";
import type { Outbox } from "../../core/outbox.js";
import type { Store } from "../../store/port.js";
import type { BlockService } from "../users/index.js";
import type { ChatAccess } from "./access.js";
import type { SeqOrder, SeqOrderOptions } from "./order.js";
import type { ChatRecords } from "./records.js";

/**
 * Turns file tokens into attachments `identity` may send; implemented by the uploads module (refuses other
 * apps' files, files the sender neither uploaded nor may download, and unfinished ones).
 */
export interface AttachmentResolver {
  resolve(app: AppRecord, identity: string, tokens: readonly string[]): Promise<Attachment[]>;
}

/** What the chat module is built from. */
export interface ChatDeps {
  store: Store;
  clock: Clock;
  events: EventSink;
  attachments: AttachmentResolver;
  /** Pushes and webhooks a change causes are written here, inside its transaction. */
  outbox?: Outbox | undefined;
  /** The app's before-send hook (the webhooks module); absent: every message is stored as sent. */
  beforeSend?: BeforeSendCheck | undefined;
  /** Users' block lists (the users module); absent: nobody is blocked. */
  blocks?: BlockService | undefined;
  /** Bans users when an admin resolves a report with `ban_user` (the users module). */
  banner?: { ban(appId: string, identity: string, reason: string | undefined): Promise<unknown> } | undefined;
  /** How new messages are ordered across the nodes of a cluster (its announce ledger); absent: one node. */
  order?: SeqOrderOptions | undefined;
  /**
   * The bus that carries "the app's filters changed" to the other nodes (their copies are dropped; absent:
   * one node), and how long a node keeps them (2 s).
   */
  settingCache?: SettingCacheOptions | undefined;
  /**
   * A batch of sends rolled back for another reason than a membership change or a duplicate racing in (its
   * sends then run alone, so nothing is lost, but every send of a batch that keeps failing pays twice): for a
   * log line or a metric. Must not throw.
   */
  onBatchFailed?: ((err: unknown) => void) | undefined;
}

/** What each chat service is composed over: the ports, the one access check and the shared writes. */
export interface ChatParts extends Omit<ChatDeps, "order"> {
  access: ChatAccess;
  /** The app's word filters and link policy for sends and edits, kept 2 s per node (`filtersOf` reads them fresh). */
  filters: AppSettingCache<ChatFilters>;
  records: ChatRecords;
  /** The order each conversation's new messages (and system messages) are announced in. */
  order: SeqOrder;
}

/**
 * The seam for an app's before-send hook in the message send path: returns the message to store, or throws
 * (`rejected_by_app`, or `unavailable` when a fail-closed hook does not answer). Implemented by the webhooks module.
 */
export interface BeforeSendCheck {
  /** Whether the app has a hook (so the send path skips the idempotency lookup when it has none). */
  has(appId: string): Promise<boolean>;
  check(
    ctx: { appId: string; conversationId: string; conversationKind: string; sender: string },
    req: SendMessageRequest,
  ): Promise<SendMessageRequest>;
}
