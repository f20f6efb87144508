import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { MediaPermission } from "@utd-stream/protocol";
import { type Clock, systemClock } from "../core/clock.js";
import { ApiError } from "../core/errors.js";
import type { CreateRoomOptions, MediaPort, MediaWebhookEvent, MintOptions } from "./port.js";

/** A token the fake minted: what the engine granted, to whom, for which room, until when. */
export interface FakeGrant extends MintOptions {
  token: string;
  expiresAt: number;
}

/** Someone connected to a fake room (through `join`, with a token the fake minted). */
export interface FakeParticipant {
  identity: string;
  name: string | undefined;
  permission: MediaPermission;
  attributes: Record<string, string>;
}

export interface FakeRoom {
  name: string;
  opts: CreateRoomOptions;
  participants: Map<string, FakeParticipant>;
}

/** A data message the engine sent into a room. */
export interface FakeData {
  room: string;
  topic: string;
  payload: Uint8Array;
  /** The identities it went to (everyone in the room when the engine named nobody). */
  to: string[];
}

/** Where the fake delivers its webhooks (e.g. the engine's `POST /api/v1/livekit/webhook`). */
export type FakeWebhookSink = (rawBody: string, authorization: string) => Promise<void> | void;

export interface FakeMediaOptions {
  clock?: Clock;
  /** Receives a webhook for every participant joining and leaving, like LiveKit's webhook URL. */
  webhooks?: FakeWebhookSink;
}

/**
 * An in-memory media port for fast unit tests: it records every grant (token) the engine mints, every
 * permission change, removal and data message, and simulates participants joining with those tokens —
 * with LiveKit's rules where the engine depends on them (a token is for one room and expires; a room of
 * `maxParticipants` is full; a permission update replaces the whole permission; joining a room that does
 * not exist creates it; webhooks are signed over the exact body). packages/engine/test/media.contract.test.ts
 * runs the same contract over this fake and a real LiveKit server.
 */
export class FakeMedia implements MediaPort {
  readonly url = "ws://fake-media.invalid";
  /** Every token minted, oldest first. */
  readonly grants: FakeGrant[] = [];
  readonly rooms = new Map<string, FakeRoom>();
  /** Every data message sent, oldest first. */
  readonly data: FakeData[] = [];
  /** Every permission update and removal the engine asked for, oldest first. */
  readonly log: { op: "updatePermission" | "removeParticipant" | "deleteRoom"; room: string; identity?: string }[] = [];
  private readonly clock: Clock;
  private readonly secret = randomBytes(32);
  private webhookCounter = 0;

  constructor(private readonly opts: FakeMediaOptions = {}) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Sets (or replaces) where webhooks go. */
  deliverWebhooksTo(sink: FakeWebhookSink | undefined): void {
    this.opts.webhooks = sink;
  }

  // ----- the port -----

  async createRoom(room: string, opts: CreateRoomOptions): Promise<void> {
    const existing = this.rooms.get(room);
    if (existing) existing.opts = { ...existing.opts, ...opts };
    else this.rooms.set(room, { name: room, opts: { ...opts }, participants: new Map() });
  }

  async deleteRoom(room: string): Promise<void> {
    this.log.push({ op: "deleteRoom", room });
    const r = this.rooms.get(room);
    if (!r) return;
    this.rooms.delete(room);
    for (const identity of [...r.participants.keys()]) await this.webhook("participant_left", r, identity);
  }

  async listIdentities(room: string): Promise<string[]> {
    return [...(this.rooms.get(room)?.participants.keys() ?? [])];
  }

  async updatePermission(room: string, identity: string, permission: MediaPermission): Promise<boolean> {
    this.log.push({ op: "updatePermission", room, identity });
    const p = this.rooms.get(room)?.participants.get(identity);
    if (!p) return false;
    p.permission = clone(permission);
    return true;
  }

  async sendData(room: string, payload: Uint8Array, topic: string, to?: readonly string[]): Promise<void> {
    const r = this.rooms.get(room);
    if (!r) return;
    const present = [...r.participants.keys()];
    this.data.push({ room, topic, payload: new Uint8Array(payload), to: to ? present.filter((i) => to.includes(i)) : present });
  }

  async listRooms(prefix: string): Promise<string[]> {
    return [...this.rooms.keys()].filter((n) => n.startsWith(prefix));
  }

  async removeParticipant(room: string, identity: string): Promise<void> {
    this.log.push({ op: "removeParticipant", room, identity });
    await this.leave(room, identity);
  }

  async mintToken(o: MintOptions): Promise<{ token: string; expiresAt: number }> {
    const token = `fake_${randomBytes(16).toString("hex")}`;
    const expiresAt = (Math.floor(this.clock.now() / 1000) + o.ttlS) * 1000;
    this.grants.push({
      ...o,
      permission: clone(o.permission),
      ...(o.attributes ? { attributes: { ...o.attributes } } : {}),
      token,
      expiresAt,
    });
    return { token, expiresAt };
  }

  async receiveWebhook(rawBody: string, authorization: string | undefined): Promise<MediaWebhookEvent> {
    if (!authorization) throw ApiError.unauthorized("missing webhook signature");
    const want = Buffer.from(this.sign(rawBody));
    const got = Buffer.from(authorization);
    if (want.length !== got.length || !timingSafeEqual(want, got)) throw ApiError.unauthorized("webhook signature does not match");
    return JSON.parse(rawBody) as MediaWebhookEvent;
  }

  // ----- simulating clients -----

  /** The grant behind a token this fake minted. */
  grantOf(token: string): FakeGrant | undefined {
    return this.grants.find((g) => g.token === token);
  }

  /** The latest grant minted for `identity` (in `room`, when given). */
  lastGrant(identity: string, room?: string): FakeGrant | undefined {
    return this.grants.findLast((g) => g.identity === identity && (room === undefined || g.room === room));
  }

  /**
   * A client connects with `token`, as LiveKit would let it: the token must be one this fake minted, for
   * `room`, not expired; a full room refuses; a second connection of the same identity replaces the first.
   */
  async join(room: string, token: string): Promise<FakeParticipant> {
    const g = this.grantOf(token);
    if (!g) throw new Error("fake media: unknown token");
    if (g.room !== room) throw new Error(`fake media: the token is for room ${g.room}, not ${room}`);
    if (this.clock.now() >= g.expiresAt) throw new Error("fake media: the token has expired");
    let r = this.rooms.get(room);
    if (!r) {
      r = { name: room, opts: {}, participants: new Map() };
      this.rooms.set(room, r);
    }
    const max = r.opts.maxParticipants ?? 0;
    if (max > 0 && !r.participants.has(g.identity) && r.participants.size >= max) throw new Error("fake media: the room is full");
    const p: FakeParticipant = { identity: g.identity, name: g.name, permission: clone(g.permission), attributes: { ...g.attributes } };
    r.participants.set(g.identity, p);
    await this.webhook("participant_joined", r, g.identity, { ...p.attributes });
    return p;
  }

  /** A client disconnects (nothing happens when it is not connected). */
  async leave(room: string, identity: string): Promise<void> {
    const r = this.rooms.get(room);
    if (!r?.participants.delete(identity)) return;
    await this.webhook("participant_left", r, identity);
  }

  /** A connected participant's current permission. */
  permissionOf(room: string, identity: string): MediaPermission | undefined {
    const p = this.rooms.get(room)?.participants.get(identity);
    return p ? clone(p.permission) : undefined;
  }

  /** Data messages that reached `identity`. */
  dataFor(identity: string, room?: string): FakeData[] {
    return this.data.filter((d) => d.to.includes(identity) && (room === undefined || d.room === room));
  }

  /** A signed webhook body for `event`, as the engine's webhook route expects it from this port. */
  signedWebhook(event: Omit<MediaWebhookEvent, "id" | "createdAt"> & Partial<MediaWebhookEvent>): { body: string; authorization: string } {
    const full: MediaWebhookEvent = {
      id: `EV_fake_${++this.webhookCounter}_${randomBytes(4).toString("hex")}`,
      createdAt: Math.floor(this.clock.now() / 1000),
      ...event,
    };
    const body = JSON.stringify(full);
    return { body, authorization: this.sign(body) };
  }

  private sign(body: string): string {
    return createHmac("sha256", this.secret).update(body).digest("base64url");
  }

  private async webhook(event: string, r: FakeRoom, identity: string, attributes?: Record<string, string>): Promise<void> {
    const sink = this.opts.webhooks;
    if (!sink) return;
    const { body, authorization } = this.signedWebhook({
      event,
      room: r.name,
      identity,
      roomMetadata: r.opts.metadata ?? "",
      ...(attributes ? { attributes } : {}),
    });
    await sink(body, authorization);
  }
}

function clone(p: MediaPermission): MediaPermission {
  return { ...p, can_publish_sources: [...p.can_publish_sources] };
}
