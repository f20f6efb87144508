import type { PushPlatform, PushToken } from "@utd-stream/protocol";
import { date } from "./dates.js";

/** A registered push token. */
export interface UTDPushToken {
  id: string;
  platform: PushPlatform;
  token: string;
  deviceId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Wire → SDK: a push token. */
export function pushTokenFromWire(t: PushToken): UTDPushToken {
  return {
    id: t.id,
    platform: t.platform,
    token: t.token,
    deviceId: t.device_id,
    createdAt: date(t.created_at),
    updatedAt: date(t.updated_at),
  };
}
