import { UTDStreamException } from "@utd-stream/signaling";
import { h } from "./dom.js";
import { type Key, t } from "./i18n.js";

/**
 * What the page shows instead of a raw error: an upsell when the app's plan leaves a capability off
 * (`isFeatureDisabled`), how to enable media when the engine has no LiveKit, else a short message.
 */
export function explain(err: unknown): HTMLElement {
  if (err instanceof UTDStreamException) {
    if (err.isFeatureDisabled) {
      const what: Key = err.isChatDisabled ? "upsell.chat" : err.isSignalingDisabled ? "upsell.signaling" : "upsell.generic";
      return h(
        "div",
        { class: "notice upsell", role: "status", "data-testid": "upsell" },
        h("strong", {}, t("upsell.title")),
        h("p", {}, t(what)),
        h("code", { dir: "ltr" }, "npx utd app update <app_id> --plan pro"),
      );
    }
    if (err.code === "media_unavailable") return mediaOff();
    if (err.code === "limit_exceeded")
      return h("div", { class: "notice upsell", role: "status", "data-testid": "upsell" }, t("upsell.limit", { limit: err.limit ?? "" }));
    if (err.isBanned) return h("div", { class: "notice error", role: "alert" }, t("error.banned"));
    if (err.isRateLimited) return h("div", { class: "notice error", role: "alert" }, t("error.rateLimited"));
    if (err.code === "network_error") return h("div", { class: "notice error", role: "alert" }, t("error.network"));
    return h(
      "div",
      { class: "notice error", role: "alert", "data-testid": "error" },
      t("error.generic", { code: err.code }),
      " ",
      err.message,
    );
  }
  return h("div", { class: "notice error", role: "alert", "data-testid": "error" }, err instanceof Error ? err.message : String(err));
}

/** Shown in every media panel when the engine runs without LiveKit. */
export function mediaOff(): HTMLElement {
  return h(
    "div",
    { class: "notice media-off", role: "status", "data-testid": "media-off" },
    h("strong", {}, t("media.off.title")),
    h("p", {}, t("media.off.body")),
    h("code", { dir: "ltr" }, "scripts/livekit/install.sh && npm start"),
    h("p", {}, t("media.off.own")),
    h("code", { dir: "ltr" }, "LIVEKIT_URL=ws://… LIVEKIT_API_KEY=… LIVEKIT_API_SECRET=… npm start"),
  );
}
