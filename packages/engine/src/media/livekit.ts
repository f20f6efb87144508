import type { MediaPermission, TrackSourceName } from "@utd-stream/protocol";
import {
  AccessToken,
  DataPacket_Kind,
  ParticipantPermission,
  RoomServiceClient,
  TrackSource,
  TwirpError,
  WebhookReceiver,
} from "livekit-server-sdk";
import type { Histogram } from "prom-client";
import { ApiError } from "../core/errors.js";
import { type CreateRoomOptions, type MediaPort, type MediaWebhookEvent, type MintOptions, mediaUnavailable } from "./port.js";

export interface LiveKitConfig {
  url: string;
  apiKey: string;
  apiSecret: string;
}

const SOURCES: Record<TrackSourceName, TrackSource> = {
  camera: TrackSource.CAMERA,
  microphone: TrackSource.MICROPHONE,
  screen_share: TrackSource.SCREEN_SHARE,
  screen_share_audio: TrackSource.SCREEN_SHARE_AUDIO,
};

/** The media port on a real LiveKit server (RoomService API, access tokens, webhooks). */
export class LiveKitMedia implements MediaPort {
  readonly url: string;
  private readonly rooms: RoomServiceClient;
  private readonly webhooks: WebhookReceiver;

  /** `latency`, when given, times every server API call (`utd_livekit_api_duration_seconds`). */
  constructor(
    private readonly cfg: LiveKitConfig,
    private readonly latency?: Histogram<"op" | "result">,
  ) {
    this.url = cfg.url;
    this.rooms = new RoomServiceClient(cfg.url.replace(/^ws/, "http"), cfg.apiKey, cfg.apiSecret);
    this.webhooks = new WebhookReceiver(cfg.apiKey, cfg.apiSecret);
  }

  async createRoom(room: string, opts: CreateRoomOptions): Promise<void> {
    await this.call("createRoom", () =>
      this.rooms.createRoom({
        name: room,
        emptyTimeout: opts.emptyTimeoutS ?? 300,
        departureTimeout: opts.departureTimeoutS ?? 20,
        maxParticipants: opts.maxParticipants ?? 0,
        ...(opts.metadata !== undefined ? { metadata: opts.metadata } : {}),
      }),
    );
  }

  async deleteRoom(room: string): Promise<void> {
    try {
      await this.call("deleteRoom", () => this.rooms.deleteRoom(room));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async listIdentities(room: string): Promise<string[]> {
    try {
      const ps = await this.call("listParticipants", () => this.rooms.listParticipants(room));
      return ps.map((p) => p.identity);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }

  async updatePermission(room: string, identity: string, p: MediaPermission): Promise<boolean> {
    // LiveKit replaces the whole permission on update: every field is sent, always.
    const permission = new ParticipantPermission({
      canPublish: p.can_publish,
      canSubscribe: p.can_subscribe,
      canPublishData: p.can_publish_data,
      canPublishSources: p.can_publish_sources.map((s) => SOURCES[s]),
      canUpdateMetadata: false,
      hidden: false,
      recorder: false,
      agent: false,
    });
    try {
      await this.call("updateParticipant", () => this.rooms.updateParticipant(room, identity, { permission }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async sendData(room: string, payload: Uint8Array, topic: string, to?: readonly string[]): Promise<void> {
    try {
      await this.call("sendData", () =>
        this.rooms.sendData(room, payload, DataPacket_Kind.RELIABLE, { topic, ...(to ? { destinationIdentities: [...to] } : {}) }),
      );
    } catch (err) {
      // For a room no node hosts (it ended), LiveKit answers 503 "no response from servers", not 404.
      if (!isNotFound(err) && !isRoomNotHosted(err)) throw err;
    }
  }

  async listRooms(prefix: string): Promise<string[]> {
    const rooms = await this.call("listRooms", () => this.rooms.listRooms());
    return rooms.map((r) => r.name).filter((n) => n.startsWith(prefix));
  }

  async removeParticipant(room: string, identity: string): Promise<void> {
    try {
      await this.call("removeParticipant", () => this.rooms.removeParticipant(room, identity));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async mintToken(o: MintOptions): Promise<{ token: string; expiresAt: number }> {
    const at = new AccessToken(this.cfg.apiKey, this.cfg.apiSecret, {
      identity: o.identity,
      ttl: o.ttlS,
      ...(o.name !== undefined ? { name: o.name } : {}),
      ...(o.attributes ? { attributes: o.attributes } : {}),
    });
    // Every permission field is explicit: LiveKit's defaults (canPublishData = canPublish, all sources) differ from ours.
    at.addGrant({
      roomJoin: true,
      room: o.room,
      roomCreate: false,
      roomAdmin: false,
      roomList: false,
      canPublish: o.permission.can_publish,
      canSubscribe: o.permission.can_subscribe,
      canPublishData: o.permission.can_publish_data,
      canPublishSources: o.permission.can_publish_sources.map((s) => SOURCES[s]),
      canUpdateOwnMetadata: false,
      hidden: false,
    });
    const token = await at.toJwt();
    return { token, expiresAt: (Math.floor(Date.now() / 1000) + o.ttlS) * 1000 };
  }

  async receiveWebhook(rawBody: string, authorization: string | undefined): Promise<MediaWebhookEvent> {
    if (!authorization) throw ApiError.unauthorized("missing webhook signature");
    let ev: Awaited<ReturnType<WebhookReceiver["receive"]>>;
    try {
      ev = await this.webhooks.receive(rawBody, authorization);
    } catch {
      throw ApiError.unauthorized("webhook signature does not match");
    }
    return {
      event: ev.event,
      room: ev.room?.name ?? "",
      identity: ev.participant?.identity || undefined,
      roomMetadata: ev.room?.metadata ?? "",
      id: ev.id,
      createdAt: Number(ev.createdAt),
      attributes: { ...(ev.participant?.attributes ?? {}) },
    };
  }

  /** Maps "cannot reach LiveKit" to `media_unavailable`; LiveKit's own answers pass through. */
  private async call<T>(op: string, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    let result = "error";
    try {
      const out = await fn();
      result = "ok";
      return out;
    } catch (err) {
      if (isNotFound(err) || isTwirp(err)) throw err;
      throw mediaUnavailable(`LiveKit did not answer (${err instanceof Error ? err.message : String(err)})`);
    } finally {
      this.latency?.observe({ op, result }, (performance.now() - start) / 1000);
    }
  }
}

function isTwirp(err: unknown): boolean {
  return err instanceof TwirpError;
}

function isRoomNotHosted(err: unknown): boolean {
  return err instanceof TwirpError && err.status === 503 && err.message.includes("no response from servers");
}

function isNotFound(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { code?: unknown; status?: unknown; message?: unknown };
  return e.code === "not_found" || e.status === 404;
}
