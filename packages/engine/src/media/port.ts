import type { MediaPermission } from "@utd-stream/protocol";
import { ApiError } from "../core/errors.js";

/** Options for a LiveKit room the engine creates. */
export interface CreateRoomOptions {
  /** Seconds the room stays open before anyone joins. */
  emptyTimeoutS?: number;
  /** Seconds the room stays open after the last participant leaves. */
  departureTimeoutS?: number;
  /** 0 = unlimited. Call rooms use 2. */
  maxParticipants?: number;
  metadata?: string;
}

export interface MintOptions {
  /** LiveKit room name (already scoped per app). */
  room: string;
  identity: string;
  name?: string | undefined;
  permission: MediaPermission;
  ttlS: number;
  attributes?: Record<string, string>;
}

/** A LiveKit webhook, reduced to what the engine reacts to. */
export interface MediaWebhookEvent {
  event: string;
  /** LiveKit room name (scoped). */
  room: string;
  identity: string | undefined;
  /** The room's metadata as the engine set it at creation ("" when none). */
  roomMetadata: string;
  /** Unique id of the webhook (LiveKit retries deliver the same id). */
  id: string;
  /** Seconds since epoch, as LiveKit stamps it. */
  createdAt: number;
  /** The participant's attributes (from its token) for participant events. */
  attributes?: Record<string, string>;
}

/**
 * The media port: what the engine needs from an SFU. The LiveKit adapter implements it (`livekit.ts`), and
 * so does an in-memory fake for unit tests (`fake.ts`); test/media.contract.test.ts holds both to it.
 * When no LiveKit is configured the engine has none and every media endpoint answers `media_unavailable`.
 */
export interface MediaPort {
  /** The WebSocket URL clients connect to. */
  readonly url: string;
  createRoom(room: string, opts: CreateRoomOptions): Promise<void>;
  /** Deletes a room, disconnecting everyone; a room that does not exist is fine. */
  deleteRoom(room: string): Promise<void>;
  /** Identities currently connected to a room (empty when the room does not exist). */
  listIdentities(room: string): Promise<string[]>;
  /**
   * Replaces a connected participant's whole permission. Resolves false when the participant
   * is not in the room (the next token they get carries the permission instead).
   */
  updatePermission(room: string, identity: string, permission: MediaPermission): Promise<boolean>;
  /**
   * Sends a reliable data message from the server into a room (to `to`, or everyone). Clients know it
   * is the engine's because it has no sending participant. A room that does not exist is fine.
   */
  sendData(room: string, payload: Uint8Array, topic: string, to?: readonly string[]): Promise<void>;
  /** Names of the rooms that exist right now whose name starts with `prefix`. */
  listRooms(prefix: string): Promise<string[]>;
  /** Disconnects a participant (a room or participant that does not exist is fine). */
  removeParticipant(room: string, identity: string): Promise<void>;
  mintToken(opts: MintOptions): Promise<{ token: string; expiresAt: number }>;
  /** Verifies a webhook's signature against the raw body; throws `unauthorized` when it does not match. */
  receiveWebhook(rawBody: string, authorization: string | undefined): Promise<MediaWebhookEvent>;
}

/** The error every media endpoint answers with when no LiveKit server is configured or reachable. */
export function mediaUnavailable(
  detail = "no LiveKit server is configured (set LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET)",
): ApiError {
  return new ApiError("media_unavailable", `media is unavailable: ${detail}`);
}

/** The port, or `media_unavailable`. */
export function requireMedia(media: MediaPort | undefined): MediaPort {
  if (!media) throw mediaUnavailable();
  return media;
}
