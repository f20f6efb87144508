import type { UTDStreamClient } from "@utd-stream/media";
import type { ChatSession, UTDSignaling } from "@utd-stream/signaling";
import type { DemoConfig } from "./config.js";

/** What every panel of the signed-in page shares. */
export interface Ctx {
  cfg: DemoConfig;
  /** The signed-in identity. */
  me: string;
  deviceId: string;
  /** Presence, call invitations, typing (one WebSocket). */
  signaling: UTDSignaling;
  /** Chat on the same WebSocket; undefined when the app's plan has chat off. */
  chat: ChatSession | undefined;
  /**
   * The media client (LiveKit: calls, live stream, audio room) on the same user session, loaded on first
   * use — @utd-stream/media and livekit-client are a separate chunk the page never downloads when media
   * is off.
   */
  media(): Promise<UTDStreamClient>;
  /** Opens (creating when needed) the direct conversation with `identity` in the chat tab. */
  openChatWith(identity: string): void;
  /** Rings `identity`. */
  call(identity: string, type: "audio_call" | "video_call"): void;
  /** A short message in the corner. */
  toast(msg: string | HTMLElement): void;
}
