import type { Attachment } from "@utd-stream/protocol";
import type { AppRecord } from "../../core/caller.js";
import type { Clock } from "../../core/clock.js";
import type { EventSink } from "../../core/events.js";
import type { Outbox } from "../../core/outbox.js";
import type { Store } from "../../store/port.js";
import type { ChatAccess } from "./access.js";
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
}

/** What each chat service is composed over: the ports, the one access check and the shared writes. */
export interface ChatParts extends ChatDeps {
  access: ChatAccess;
  records: ChatRecords;
}
