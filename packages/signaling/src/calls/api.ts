import type { Call, CallAction, CallList, CallMedia, CallStatus, CallType } from "@utd-stream/protocol";
import type { UTDApi } from "../core/api.js";
import { callFromWire, callMediaFromWire, type UTDCall, type UTDCallMedia } from "../wire/calls.js";

const enc = encodeURIComponent;

/** Options of {@link CallsApi.create}. */
export interface CreateCallParams {
  type: CallType;
  calleeName?: string;
  metadata?: Record<string, unknown>;
  /** Makes the invitation idempotent: retrying with the same id returns the same call instead of ringing again. */
  clientCallId?: string;
}

/** A page of call history. */
export interface UTDCallPage {
  calls: UTDCall[];
  /** Pass as `before` for the next (older) page; null at the end. */
  nextBefore: string | null;
}

/** The engine's 1:1 call endpoints (`/api/v1/calls`), used by the signalling facade and the media SDK alike. */
export class CallsApi {
  constructor(private readonly api: UTDApi) {}

  /** `POST /api/v1/calls`: rings every device of `calleeIdentity`. */
  async create(calleeIdentity: string, p: CreateCallParams): Promise<UTDCall> {
    const body: Record<string, unknown> = { callee_identity: calleeIdentity, type: p.type };
    if (p.calleeName !== undefined) body.callee_name = p.calleeName;
    if (p.metadata !== undefined) body.metadata = p.metadata;
    if (p.clientCallId !== undefined) body.client_call_id = p.clientCallId;
    return callFromWire(await this.api.request<Call>("POST", "/api/v1/calls", body));
  }

  /** `GET /api/v1/calls/{id}` */
  async get(id: string): Promise<UTDCall> {
    return callFromWire(await this.api.request<Call>("GET", `/api/v1/calls/${enc(id)}`));
  }

  /** `POST /api/v1/calls/{id}/{action}` (`ringing`, `accept`, `reject`, `busy`, `end`). */
  async act(id: string, action: CallAction, deviceId?: string): Promise<UTDCall> {
    const body = deviceId ? { device_id: deviceId } : {};
    return callFromWire(await this.api.request<Call>("POST", `/api/v1/calls/${enc(id)}/${action}`, body));
  }

  /** `GET /api/v1/calls`: this user's calls, newest first; pass `before` (the previous page's `nextBefore`) to page. */
  async list(opts: { limit?: number; before?: string; status?: readonly CallStatus[] } = {}): Promise<UTDCallPage> {
    const q = new URLSearchParams();
    if (opts.status !== undefined && opts.status.length > 0) q.set("status", opts.status.join(","));
    if (opts.limit !== undefined) q.set("limit", String(opts.limit));
    if (opts.before !== undefined) q.set("before", opts.before);
    const qs = q.toString();
    const r = await this.api.request<CallList>("GET", `/api/v1/calls${qs ? `?${qs}` : ""}`);
    return { calls: r.calls.map(callFromWire), nextBefore: r.next_before };
  }

  /** `POST /api/v1/calls/{id}/token`: the LiveKit token for a party of an active call. */
  async media(id: string): Promise<UTDCallMedia> {
    return callMediaFromWire(await this.api.request<CallMedia>("POST", `/api/v1/calls/${enc(id)}/token`));
  }
}
