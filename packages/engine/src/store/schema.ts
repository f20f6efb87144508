import type { Generated } from "kysely";
import type { CallsTables } from "../modules/calls/migrations.js";
import type { ChatTables } from "../modules/chat/migrations.js";
import type { FriendsTables } from "../modules/friends/migrations.js";
import type { PresenceTables } from "../modules/presence/migrations.js";
import type { PushTables } from "../modules/push/migrations.js";
import type { RoomsTables } from "../modules/rooms/migrations.js";
import type { SeatsTables } from "../modules/seats/migrations.js";
import type { SignalRoomsTables } from "../modules/sigrooms/migrations.js";
import type { SupportTables } from "../modules/support/migrations.js";
import type { UploadsTables } from "../modules/uploads/migrations.js";

/** Timestamps are epoch milliseconds; booleans are 0/1 integers (portable across SQLite and PostgreSQL). */
export interface AppsTable {
  id: string;
  name: string;
  app_key: string;
  /** The app secret, encrypted with the engine's master key (HS256 verification needs the secret itself). */
  secret_sealed: string;
  auth_mode: string;
  plan: string;
  /** Capability overrides: null = the plan's default. */
  signaling_enabled: number | null;
  messaging_enabled: number | null;
  /** JSON of per-app limit overrides. */
  limit_overrides: string;
  /** JSON of app settings (e.g. `auto_busy`). */
  settings: string;
  created_at: number;
  updated_at: number;
  /** User tokens issued before this instant (ms) are void (auth-mode change, key or secret rotation). */
  tokens_valid_after: number;
}

export interface UsersTable {
  app_id: string;
  identity: string;
  name: string | null;
  created_at: number;
  last_seen_at: number;
  banned_at: number | null;
  ban_reason: string | null;
  /** Tokens issued before this instant (ms) no longer authenticate. */
  tokens_valid_after: Generated<number>;
}

export interface MauTable {
  app_id: string;
  /** `YYYY-MM`, UTC. */
  month: string;
  identity: string;
}

/** The database schema; later modules extend it (each with its own migration). */
export interface Database
  extends ChatTables,
    FriendsTables,
    UploadsTables,
    RoomsTables,
    SeatsTables,
    CallsTables,
    PresenceTables,
    PushTables,
    SupportTables,
    SignalRoomsTables {
  apps: AppsTable;
  users: UsersTable;
  mau: MauTable;
}
