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
  /** Media sessions (LiveKit): calls, live stream, audio room. */
  media: UTDStreamClient;
  /** Call before starting a media session: re-mints the media client's user token when it may have expired. */
  mediaReady(): Promise<void>;
  /** Opens (creating when needed) the direct conversation with `identity` in the chat tab. */
  openChatWith(identity: string): void;
  /** Rings `identity`. */
  call(identity: string, type: "audio_call" | "video_call"): void;
  /** A short message in the corner. */
  toast(msg: string | HTMLElement): void;
}
