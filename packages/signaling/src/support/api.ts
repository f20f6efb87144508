import type { HistoryResponse, Message, SupportConversation, SupportState } from "@utd-stream/protocol";
import type { UTDApi } from "../core/api.js";
import {
  historyFromWire,
  historyQuery,
  messageFromWire,
  sendToWire,
  type UTDHistoryPage,
  type UTDHistoryQuery,
  type UTDMessage,
  type UTDSendParams,
} from "../wire/chat.js";
import { supportConversationFromWire, type UTDSupportConversation } from "../wire/support.js";

const enc = encodeURIComponent;
const base = "/api/v1/support/conversations";

/** Which support conversations to list: a state, `open` (queued or assigned) or `all`. */
export type SupportListState = SupportState | "open" | "all";

/**
 * The engine's support endpoints (`/api/v1/support/…`): a visitor's conversation with the app's operator
 * team, and the operators' queue. The chat widget and the operator inbox use it; read receipts, typing and
 * uploads go through the chat API like any conversation.
 */
export class SupportApi {
  constructor(private readonly api: UTDApi) {}

  /** Visitor: starts the support conversation, or returns the one still open (a visitor has at most one). */
  async start(custom?: Record<string, unknown>): Promise<UTDSupportConversation> {
    const body = custom ? { custom } : {};
    return supportConversationFromWire(await this.api.request<SupportConversation>("POST", base, body));
  }

  /** Visitor: their own support conversations (default: the open one). */
  async mine(opts: { state?: SupportListState; limit?: number } = {}): Promise<UTDSupportConversation[]> {
    const r = await this.api.request<{ conversations: SupportConversation[] }>("GET", `${base}${listQuery(opts)}`);
    return r.conversations.map(supportConversationFromWire);
  }

  /** Operators: the team's conversations (default: open ones). */
  async queue(opts: { state?: SupportListState; limit?: number } = {}): Promise<UTDSupportConversation[]> {
    const r = await this.api.request<{ conversations: SupportConversation[] }>("GET", `/api/v1/support/queue${listQuery(opts)}`);
    return r.conversations.map(supportConversationFromWire);
  }

  /** Whether this user is an operator of the app. */
  async isOperator(): Promise<boolean> {
    return (await this.api.request<{ identity: string; operator: boolean }>("GET", "/api/v1/support/me")).operator;
  }

  /** One conversation (its visitor or an operator). */
  async get(id: string): Promise<UTDSupportConversation> {
    return supportConversationFromWire(await this.api.request<SupportConversation>("GET", `${base}/${enc(id)}`));
  }

  /** History (its visitor or an operator, also before claiming), oldest first. */
  async history(id: string, q: UTDHistoryQuery = {}): Promise<UTDHistoryPage> {
    return historyFromWire(await this.api.request<HistoryResponse>("GET", `${base}/${enc(id)}/messages${historyQuery(q)}`));
  }

  /** Sends a message; `clientMsgId` makes the send idempotent (a retry never stores it twice). */
  async send(id: string, p: UTDSendParams, clientMsgId: string): Promise<UTDMessage> {
    return messageFromWire(await this.api.request<Message>("POST", `${base}/${enc(id)}/messages`, sendToWire(p, clientMsgId)));
  }

  /** Operators: take a queued conversation. */
  async claim(id: string): Promise<UTDSupportConversation> {
    return supportConversationFromWire(await this.api.request<SupportConversation>("POST", `${base}/${enc(id)}/claim`));
  }

  /** Close (the visitor or the assignee). */
  async close(id: string): Promise<UTDSupportConversation> {
    return supportConversationFromWire(await this.api.request<SupportConversation>("POST", `${base}/${enc(id)}/close`));
  }

  /** The assignee hands the conversation to another operator. */
  async transfer(id: string, to: string): Promise<UTDSupportConversation> {
    return supportConversationFromWire(await this.api.request<SupportConversation>("POST", `${base}/${enc(id)}/transfer`, { to }));
  }
}

function listQuery(opts: { state?: SupportListState; limit?: number }): string {
  const q = new URLSearchParams();
  if (opts.state !== undefined) q.set("state", opts.state);
  if (opts.limit !== undefined) q.set("limit", String(opts.limit));
  const s = q.toString();
  return s ? `?${s}` : "";
}
