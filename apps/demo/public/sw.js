/*
 * The demo's service worker: shows what the engine's Web Push payloads ask for (docs/webhooks.md, "Push").
 * - an incoming call: a notification that stays until handled (requireInteraction) with Answer / Decline;
 * - "call.ended" (the ring stopped elsewhere): closes the call's notification (same tag);
 * - a missed call or a message: a plain notification that replaces the call's or conversation's last one.
 * Answer focuses an open tab of the page (or opens one) and tells it which call to take.
 */
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    return;
  }
  const n = data.notification || {};
  event.waitUntil(
    (async () => {
      if (n.close) {
        for (const old of await self.registration.getNotifications({ tag: n.close })) old.close();
        return;
      }
      await self.registration.showNotification(n.title || "UTD Stream", {
        body: n.body || "",
        tag: n.tag,
        requireInteraction: Boolean(n.requireInteraction),
        actions: n.actions || [],
        data,
      });
    })(),
  );
});

self.addEventListener("notificationclick", (event) => {
  const data = event.notification.data || {};
  event.notification.close();
  if (data.kind !== "call.incoming" || event.action === "decline") return;
  const url = `/?answer=${encodeURIComponent(data.call_id)}`;
  event.waitUntil(
    (async () => {
      const tabs = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const tab = tabs[0];
      if (tab) {
        tab.postMessage({ type: "answer", call_id: data.call_id });
        try {
          await tab.focus();
        } catch {
          /* focusing needs a user gesture the browser may not grant */
        }
        return;
      }
      await self.clients.openWindow(url);
    })(),
  );
});
