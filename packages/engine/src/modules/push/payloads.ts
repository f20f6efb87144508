import type { PushData, PushPlatform } from "@utd-stream/protocol";
import type { PushRequest } from "../../push/port.js";
import type { PushOutboxTable } from "./migrations.js";

/**
 * Shapes one outbox row for its provider. Payloads carry ids and display text, never a secret.
 * - APNs: `apns_voip` gets a VoIP push (PushKit → CallKit); `apns` gets an alert, or a background push for
 *   "stop ringing" (there is nothing to show).
 * - FCM: always a data message (the app rings or dismisses itself); missed calls and messages also carry a
 *   notification so they show while the app is not running.
 * - Web: the service worker gets the data plus the notification to show (`requireInteraction` for a ringing
 *   call, the same `tag` for every push about one call or conversation, so each replaces the last).
 */
export function buildRequest(
  row: Pick<PushOutboxTable, "id" | "app_id" | "platform" | "kind" | "collapse_key" | "data" | "priority" | "expires_at">,
  token: string,
): PushRequest {
  const data = {
    ...(JSON.parse(row.data) as Omit<PushData, "push_id" | "app_id" | "kind">),
    kind: row.kind,
    push_id: row.id,
    app_id: row.app_id,
  } as PushData;
  const platform = row.platform as PushPlatform;
  const base = {
    platform,
    token,
    pushId: row.id,
    collapseKey: row.collapse_key,
    expiresAt: row.expires_at,
    priority: row.priority === "high" ? ("high" as const) : ("normal" as const),
  };
  const shows = data.kind === "call.incoming" || data.kind === "call.missed" || data.kind === "message.new";
  const { title, body, ...ids } = data;
  switch (platform) {
    case "apns_voip":
      return { ...base, apns: { pushType: "voip", payload: { aps: {}, utd: ids } } };
    case "apns": {
      if (!shows)
        return { ...base, priority: "normal", apns: { pushType: "background", payload: { aps: { "content-available": 1 }, utd: ids } } };
      const aps: Record<string, unknown> = {
        alert: { title: title ?? "", body: body ?? "" },
        sound: "default",
        "thread-id": data.conversation_id ?? data.call_id ?? "",
      };
      if (data.kind === "call.incoming") aps["interruption-level"] = "time-sensitive";
      if (data.count && data.count > 1) aps.badge = data.count;
      return { ...base, apns: { pushType: "alert", payload: { aps, utd: ids } } };
    }
    case "fcm": {
      const flat: Record<string, string> = {};
      for (const [k, v] of Object.entries(data)) if (v !== undefined) flat[k] = String(v);
      const notify = data.kind === "call.missed" || data.kind === "message.new";
      return { ...base, fcm: { data: flat, ...(notify ? { notification: { title: title ?? "", body: body ?? "" } } : {}) } };
    }
    case "web": {
      const notification =
        data.kind === "call.incoming"
          ? {
              title: title ?? "Incoming call",
              body: body ?? "",
              tag: row.collapse_key,
              requireInteraction: true,
              actions: [
                { action: "answer", title: "Answer" },
                { action: "decline", title: "Decline" },
              ],
            }
          : shows
            ? { title: title ?? "", body: body ?? "", tag: row.collapse_key }
            : { close: row.collapse_key };
      return { ...base, web: { payload: { ...data, notification } } };
    }
  }
}
