import type { WebhookEndpoint } from "@utd-stream/protocol";
import { api } from "../api.js";
import { h } from "../dom.js";
import { num, t, when } from "../i18n.js";
import type { PageContext } from "../main.js";
import { button, notice, table } from "../ui.js";

/** Webhook endpoints with their delivery log and replay; push credentials by fingerprint only. */
export async function webhooksPage(main: HTMLElement, ctx: PageContext): Promise<void> {
  const status = notice();
  const id = ctx.appId;
  if (!id) {
    main.append(h("h2", {}, t("nav.webhooks")), h("p", {}, t("app.none")));
    return;
  }
  const endpoints = h("section", { class: "card" }, h("h3", {}, t("hooks.endpoints")));
  const log = h("div", {});
  const push = h("section", { class: "card" }, h("h3", {}, t("push.title")));
  main.append(h("h2", {}, t("hooks.title", { id })), status.el, endpoints, log, push);

  async function showLog(ep: WebhookEndpoint): Promise<void> {
    try {
      const d = await api.deliveries(id as string, ep.id);
      const replay = (body: { event_id: string } | { dead: true }) => async () => {
        try {
          const r = await api.replay(id as string, ep.id, body);
          status.ok(t("hooks.replayed", { n: r.replayed }));
          await showLog(ep);
        } catch (err) {
          status.fail(err);
        }
      };
      log.replaceChildren(
        h(
          "section",
          { class: "card", "data-testid": "delivery-log" },
          h("h3", {}, `${t("hooks.log")}: `, h("code", {}, ep.url)),
          d.messages.length
            ? table(
                t("hooks.log"),
                [t("hooks.event"), t("hooks.state"), t("hooks.attempts"), t("hooks.last"), ""],
                d.messages.map((m) => [
                  h("span", {}, h("code", {}, m.type), h("br", {}), h("small", { class: "mono muted" }, m.event_id)),
                  h("span", { class: `badge ${m.state === "delivered" ? "good" : m.state === "dead" ? "bad" : ""}` }, m.state),
                  num(m.attempts),
                  m.last_status !== null ? String(m.last_status) : (m.last_error ?? "—"),
                  button(t("hooks.replay"), replay({ event_id: m.event_id }), {
                    kind: "secondary",
                    icon: "refresh",
                    testid: `replay-${m.event_id}`,
                  }),
                ]),
                "deliveries-table",
              )
            : h("p", { class: "muted" }, t("hooks.nolog")),
          h(
            "div",
            { class: "actions" },
            button(t("hooks.replay.dead"), replay({ dead: true }), { kind: "secondary", icon: "refresh", testid: "replay-dead" }),
          ),
        ),
      );
    } catch (err) {
      status.fail(err);
    }
  }

  try {
    const [eps, pushCfg] = await Promise.all([api.webhooks(id), api.push(id)]);
    endpoints.append(
      eps.endpoints.length
        ? table(
            t("hooks.endpoints"),
            [t("hooks.url"), t("hooks.events"), t("hooks.state"), ""],
            eps.endpoints.map((ep) => [
              h("code", {}, ep.url),
              ep.events.join(", ") || "*",
              h("span", { class: `badge ${ep.enabled ? "good" : "bad"}` }, ep.enabled ? t("hooks.enabled") : t("hooks.disabled")),
              button(t("hooks.show"), () => showLog(ep), { kind: "secondary", testid: `log-${ep.id}` }),
            ]),
            "endpoints-table",
          )
        : h("p", { class: "muted" }, t("hooks.none")),
    );
    push.append(
      pushCfg.credentials.length
        ? table(
            t("push.title"),
            [t("push.provider"), t("push.fingerprint"), t("push.updated")],
            pushCfg.credentials.map((c) => [c.provider, h("code", {}, c.fingerprint), when(c.updated_at)]),
            "push-table",
          )
        : h("p", { class: "muted" }, t("push.none")),
    );
    if (eps.endpoints[0]) await showLog(eps.endpoints[0]);
  } catch (err) {
    status.fail(err);
  }
}
