import type { Clock } from "../core/clock.js";
import { ApnsSender } from "./apns.js";
import { FcmSender } from "./fcm.js";
import type { PushEndpoints, PushSenders } from "./port.js";
import { WebPushSender } from "./webpush.js";

export type { PushEndpoints, PushSenders } from "./port.js";

/** The real providers' senders (APNs over HTTP/2, FCM HTTP v1, Web Push), pointed at `endpoints`. */
export function openPushSenders(endpoints: PushEndpoints, clock: Clock): PushSenders {
  return { apns: new ApnsSender(endpoints), fcm: new FcmSender(endpoints, clock), web: new WebPushSender(endpoints, clock) };
}

/** Closes every sender's connections. */
export async function closePushSenders(senders: PushSenders): Promise<void> {
  await senders.apns.close();
  await senders.fcm.close();
  await senders.web.close();
}
