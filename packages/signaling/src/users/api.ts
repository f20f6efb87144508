import type { PresenceList, PushPlatform, PushToken } from "@utd-stream/protocol";
import type { UTDApi } from "../core/api.js";
import { presenceFromWire, type UTDPresence } from "../wire/presence.js";
import { pushTokenFromWire, type UTDPushToken } from "../wire/push.js";

/** Presence and push-token endpoints (`/api/v1/presence`, `/api/v1/push/tokens`). */
export class UsersApi {
  constructor(private readonly api: UTDApi) {}

  /** `GET /api/v1/presence?identities=…` (up to 200). */
  async presence(identities: readonly string[]): Promise<UTDPresence[]> {
    const r = await this.api.request<PresenceList>("GET", `/api/v1/presence?identities=${identities.map(encodeURIComponent).join(",")}`);
    return r.presence.map(presenceFromWire);
  }

  /** `POST /api/v1/push/tokens` (deduplicated by the engine). */
  async registerPushToken(platform: PushPlatform, token: string, deviceId?: string): Promise<UTDPushToken> {
    const body: Record<string, string> = { platform, token };
    if (deviceId !== undefined) body.device_id = deviceId;
    return pushTokenFromWire(await this.api.request<PushToken>("POST", "/api/v1/push/tokens", body));
  }

  /** `GET /api/v1/push/tokens` */
  async pushTokens(): Promise<UTDPushToken[]> {
    return (await this.api.request<{ tokens: PushToken[] }>("GET", "/api/v1/push/tokens")).tokens.map(pushTokenFromWire);
  }

  /** `POST /api/v1/push/tokens/unregister` by token value and/or device; resolves to how many were removed. */
  async unregisterPushToken(by: { token?: string; deviceId?: string }): Promise<number> {
    const body: Record<string, string> = {};
    if (by.token !== undefined) body.token = by.token;
    if (by.deviceId !== undefined) body.device_id = by.deviceId;
    return (await this.api.request<{ removed: number }>("POST", "/api/v1/push/tokens/unregister", body)).removed;
  }
}
