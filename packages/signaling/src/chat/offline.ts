/**
 * The offline-first chat cache: conversations, recent messages and the outbox of unsent messages, kept
 * in a persistent key-value store so an app that starts offline shows its chats at once and sends what
 * was written offline when it reconnects (idempotent by `clientMsgId`, in order, exactly once).
 *
 * Storage is pluggable: {@link IndexedDbChatStorage} in browsers, {@link keyValueChatStorage} over React
 * Native's AsyncStorage (or any `getItem/setItem/removeItem/getAllKeys` store), {@link MemoryChatStorage}
 * for Node and tests.
 */
import type { UTDConversation, UTDMessage, UTDSendParams } from "../wire/chat.js";

/** A persistent string key-value store (async, so IndexedDB and AsyncStorage fit). */
export interface ChatStorage {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  remove(key: string): Promise<void>;
  /** Every key (the cache keeps its own under a per-app, per-user prefix). */
  keys(): Promise<string[]>;
}

/** An in-memory {@link ChatStorage} (Node, tests; share one instance to simulate a reload). */
export class MemoryChatStorage implements ChatStorage {
  readonly map = new Map<string, string>();
  async get(key: string): Promise<string | null> {
    return this.map.get(key) ?? null;
  }
  async set(key: string, value: string): Promise<void> {
    this.map.set(key, value);
  }
  async remove(key: string): Promise<void> {
    this.map.delete(key);
  }
  async keys(): Promise<string[]> {
    return [...this.map.keys()];
  }
}

/** A {@link ChatStorage} over React Native's AsyncStorage, or anything with the same four methods. */
export function keyValueChatStorage(s: {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
  getAllKeys(): Promise<readonly string[]>;
}): ChatStorage {
  return {
    get: (k) => s.getItem(k),
    set: (k, v) => s.setItem(k, v),
    remove: (k) => s.removeItem(k),
    keys: async () => [...(await s.getAllKeys())],
  };
}

/** A {@link ChatStorage} in the browser's IndexedDB (database `name`, one object store). */
export class IndexedDbChatStorage implements ChatStorage {
  private db: Promise<IDBDatabase> | undefined;
  constructor(private readonly name = "utd-chat") {}

  private open(): Promise<IDBDatabase> {
    this.db ??= new Promise((resolve, reject) => {
      const req = indexedDB.open(this.name, 1);
      req.onupgradeneeded = () => req.result.createObjectStore("kv");
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    return this.db;
  }

  private async run<T>(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const db = await this.open();
    return new Promise((resolve, reject) => {
      const req = op(db.transaction("kv", mode).objectStore("kv"));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  async get(key: string): Promise<string | null> {
    return ((await this.run("readonly", (s) => s.get(key))) as string | undefined) ?? null;
  }
  async set(key: string, value: string): Promise<void> {
    await this.run("readwrite", (s) => s.put(value, key));
  }
  async remove(key: string): Promise<void> {
    await this.run("readwrite", (s) => s.delete(key));
  }
  async keys(): Promise<string[]> {
    return (await this.run("readonly", (s) => s.getAllKeys())).map(String);
  }
}

/** How much the cache keeps (oldest conversations and messages go first). */
export interface OfflineLimits {
  /** Conversations whose messages are kept (most recently used first). Default 50. */
  conversations?: number;
  /** Newest messages kept per conversation. Default 50. */
  messagesPerConversation?: number;
}

/** A send waiting for the network, as persisted. */
export interface OutboxEntry {
  conversationId: string;
  clientMsgId: string;
  params: Omit<UTDSendParams, "clientMsgId">;
  createdAt: string;
}

const DATE_KEYS = new Set(["createdAt", "editedAt", "deletedAt", "lastActiveAt", "closedAt", "lastReplyAt"]);
const revive = (k: string, v: unknown) => (DATE_KEYS.has(k) && typeof v === "string" ? new Date(v) : v);

/** The offline cache of one user of one app (keys under `utd:<app>:<user>:`). */
export class OfflineCache {
  private readonly prefix: string;
  private readonly maxConversations: number;
  private readonly maxMessages: number;
  /** Writes go one after another, so a later state never loses to an earlier one. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly storage: ChatStorage,
    appId: string,
    userId: string,
    limits: OfflineLimits = {},
  ) {
    this.prefix = `utd:${appId}:${userId}:`;
    this.maxConversations = limits.conversations ?? 50;
    this.maxMessages = limits.messagesPerConversation ?? 50;
  }

  private async read<T>(key: string, fallback: T): Promise<T> {
    try {
      const raw = await this.storage.get(this.prefix + key);
      return raw === null ? fallback : (JSON.parse(raw, revive) as T);
    } catch {
      return fallback;
    }
  }

  private write(key: string, value: unknown): Promise<void> {
    const next = this.chain.then(() => this.storage.set(this.prefix + key, JSON.stringify(value)));
    this.chain = next.catch(() => {});
    return next;
  }

  conversations(): Promise<UTDConversation[]> {
    return this.read("conversations", []);
  }

  saveConversations(list: readonly UTDConversation[]): Promise<void> {
    return this.write("conversations", list.slice(0, this.maxConversations));
  }

  messages(conversationId: string): Promise<UTDMessage[]> {
    return this.read(`messages:${conversationId}`, []);
  }

  /** Keeps the newest confirmed messages of a conversation; conversations past the limit are evicted (least recently saved). */
  async saveMessages(conversationId: string, messages: readonly UTDMessage[]): Promise<void> {
    const kept = messages.filter((m) => !m.pending && !m.failed && m.seq !== null).slice(-this.maxMessages);
    await this.write(`messages:${conversationId}`, kept);
    const order = (await this.read<string[]>("recent", [])).filter((id) => id !== conversationId);
    order.unshift(conversationId);
    for (const gone of order.splice(this.maxConversations)) {
      this.chain = this.chain.then(() => this.storage.remove(`${this.prefix}messages:${gone}`)).catch(() => {});
    }
    await this.write("recent", order);
  }

  outbox(): Promise<OutboxEntry[]> {
    return this.read("outbox", []);
  }

  /** Adds a send to the outbox (once per `clientMsgId`), after every earlier cache write. */
  addToOutbox(e: OutboxEntry): Promise<void> {
    return this.mutateOutbox((list) => (list.some((x) => x.clientMsgId === e.clientMsgId) ? list : [...list, e]));
  }

  /** Takes a send out of the outbox (stored, or refused for good). */
  removeFromOutbox(clientMsgId: string): Promise<void> {
    return this.mutateOutbox((list) => list.filter((x) => x.clientMsgId !== clientMsgId));
  }

  /** Read-modify-write of the outbox, serialised with every other write so no change is lost. */
  private mutateOutbox(fn: (list: OutboxEntry[]) => OutboxEntry[]): Promise<void> {
    const next = this.chain.then(async () => {
      const list = await this.read<OutboxEntry[]>("outbox", []);
      await this.storage.set(`${this.prefix}outbox`, JSON.stringify(fn(list)));
    });
    this.chain = next.catch(() => {});
    return next;
  }

  /** Deletes everything this user's cache holds (on sign-out). */
  async clear(): Promise<void> {
    await this.chain.catch(() => {});
    for (const k of await this.storage.keys()) if (k.startsWith(this.prefix)) await this.storage.remove(k);
  }
}
