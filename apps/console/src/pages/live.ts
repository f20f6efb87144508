import type { LiveStats } from "@utd-stream/protocol";
import { api } from "../api.js";
import { h } from "../dom.js";
import { num, t } from "../i18n.js";
import type { PageContext } from "../main.js";
import { notice, table } from "../ui.js";

const EVERY_MS = 3000;

/** Live figures from the engine itself, refreshed every 3 s while the page is open. */
export async function livePage(main: HTMLElement, ctx: PageContext): Promise<void> {
  const status = notice();
  const tiles = h("div", { class: "tiles", "data-testid": "live-tiles" });
  const byApp = h("section", { class: "card" });
  const updated = h("p", { class: "muted", "data-testid": "live-updated" });
  main.append(h("h2", {}, t("live.title")), status.el, tiles, updated, byApp);
  const tile = (name: string, value: string, testid: string) =>
    h("div", { class: "tile", "data-testid": testid }, h("div", { class: "value" }, value), h("div", { class: "name" }, name));
  const draw = (s: LiveStats) => {
    tiles.replaceChildren(
      tile(t("live.sockets"), num(s.sockets), "live-sockets"),
      tile(t("live.users"), num(s.users), "live-users"),
      tile(t("live.rate"), num(s.messages_per_s), "live-rate"),
      tile(t("live.calls"), num(s.calls_in_progress), "live-calls"),
      tile(t("live.rooms"), s.livekit_rooms === null ? t("live.nolivekit") : num(s.livekit_rooms), "live-rooms"),
    );
    updated.textContent = t("live.updated", { time: new Date(s.at).toLocaleTimeString(document.documentElement.lang) });
    const names = new Map(ctx.apps.map((a) => [a.app_id, a.name]));
    byApp.replaceChildren(
      h("h3", {}, t("live.byapp")),
      table(
        t("live.byapp"),
        [t("apps.name"), t("live.sockets"), t("live.users"), t("live.rate"), t("live.calls")],
        s.apps.map((a) => [names.get(a.app_id) ?? a.app_id, num(a.sockets), num(a.users), num(a.messages_per_s), num(a.calls_in_progress)]),
        "live-apps",
      ),
    );
  };
  let stopped = false;
  const tick = async () => {
    try {
      draw(await api.live());
      status.clear();
    } catch (err) {
      status.fail(err);
    }
  };
  await tick();
  const timer = setInterval(() => {
    if (!stopped) void tick();
  }, EVERY_MS);
  ctx.onLeave(() => {
    stopped = true;
    clearInterval(timer);
  });
}
