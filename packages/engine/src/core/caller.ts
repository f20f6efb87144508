import type { AppSettings, AuthMode, Capability, Plan, PlanLimits } from "@utd-stream/protocol";
import { ApiError } from "./errors.js";
import type { RateDecision } from "./rate-limit.js";

/**
 * Who is calling, and the rules every adapter applies before a service runs. This file sits below
 * `http/`, `ws/` and every module, so both adapters can authenticate and check capabilities without
 * importing the auth or apps modules that implement them.
 */

/** An app as the services use it: effective capabilities and limits resolved from plan + overrides. */
export interface AppRecord {
  id: string;
  name: string;
  key: string;
  authMode: AuthMode;
  plan: Plan;
  signalingEnabled: boolean;
  messagingEnabled: boolean;
  limits: PlanLimits;
  limitOverrides: Partial<PlanLimits>;
  settings: AppSettings;
  createdAt: number;
  updatedAt: number;
  /**
   * User tokens issued before this instant (ms) no longer authenticate: the auth mode or a credential
   * changed. It is one past the change, so a token stamped in the same millisecond goes too.
   */
  tokensValidAfter: number;
  /** Decrypts the app secret (only for verifying backend-signed tokens). */
  secret(): string;
}

/** A stored user, as read (timestamps in epoch ms). */
export interface UserRecord {
  app_id: string;
  identity: string;
  name: string | null;
  created_at: number;
  last_seen_at: number;
  banned_at: number | null;
  ban_reason: string | null;
  /** Tokens issued before this instant (ms) no longer authenticate. */
  tokens_valid_after: number;
}

/** What a user token proves. */
export interface UserClaims {
  appId: string;
  identity: string;
  deviceId: string | null;
  /** Issue time in ms (finer than `iat`, so revocation is exact). */
  issuedAt: number;
  expiresAt: number;
  /** How the session was first authenticated (`am`); null on tokens minted before the claim existed. */
  authMode: AuthMode | null;
  /** When the session was first minted, ms (`sst`); refresh keeps it, so a session cannot outlive its maximum age. */
  sessionStartedAt: number;
}

/** Who is calling: resolved on every authenticated request and WebSocket hello. */
export interface AuthContext {
  app: AppRecord;
  user: UserRecord;
  claims: UserClaims;
  identity: string;
  deviceId: string | null;
}

/** Who is acting: the app (for tenancy, capabilities and limits) and the user's identity. */
export interface Caller {
  app: AppRecord;
  identity: string;
}

/**
 * Resolves a bearer token to its caller, refusing expired, revoked and banned ones; `rateLimit`
 * (default true) charges the per-user and per-app request buckets. The auth module implements it.
 */
export type Authenticate = (
  token: string | undefined,
  opts?: { rateLimit?: boolean },
) => Promise<{ ctx: AuthContext; rate?: RateDecision }>;

/** Looks an app up by id (undefined when it does not exist). The apps module implements it. */
export type FindApp = (appId: string) => Promise<AppRecord | undefined>;

/** Refuses when the app's plan has the capability switched off (`feature_disabled`). */
export function requireCapability(app: AppRecord, capability: Capability): void {
  const on = capability === "signaling" ? app.signalingEnabled : app.messagingEnabled;
  if (!on) throw ApiError.featureDisabled(capability);
}
