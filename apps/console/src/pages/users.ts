import type { AdminUser } from "@utd-stream/protocol";
import { api } from "../api.js";
import { field, h } from "../dom.js";
import { t, when } from "../i18n.js";
import { icon } from "../icons.js";
import type { PageContext } from "../main.js";
import { button, confirmDialog, notice, table } from "../ui.js";

/** Users of the selected app: search by identity, devices and sockets, ban/unban, sign out everywhere, erase. */
export async function usersPage(main: HTMLElement, ctx: PageContext): Promise<void> {
  const status = notice();
  const id = ctx.appId;
  if (!id) {
    main.append(h("h2", {}, t("nav.users")), h("p", {}, t("app.none")));
    return;
  }
  const q = h("input", { type: "search", "data-testid": "user-search", autocomplete: "off" });
  const results = h("div", {});
  const detail = h("div", {});
  const search = async () => {
    try {
      const r = await api.users(id, q.value.trim());
      if (r.users.length === 0) {
        results.replaceChildren(h("p", { class: "muted" }, t("users.none")));
        return;
      }
      results.replaceChildren(
        h(
          "table",
          { "data-testid": "users-table" },
          h("caption", { class: "skip" }, t("users.title", { id })),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              [t("users.identity"), t("users.name"), t("users.lastseen"), t("users.status")].map((c) => h("th", { scope: "col" }, c)),
            ),
          ),
          h(
            "tbody",
            {},
            r.users.map((u) => {
              const tr = h(
                "tr",
                { class: "clickable", tabindex: "0", "data-testid": `user-${u.identity}` },
                h("td", {}, h("code", {}, u.identity)),
                h("td", {}, u.name ?? "—"),
                h("td", {}, when(u.last_seen_at)),
                h("td", {}, h("span", { class: `badge ${u.banned ? "bad" : "good"}` }, u.banned ? t("users.banned") : t("users.active"))),
              );
              tr.addEventListener("click", () => void show(u));
              tr.addEventListener("keydown", (e) => {
                if (e.key === "Enter") void show(u);
              });
              return tr;
            }),
          ),
        ),
      );
    } catch (err) {
      status.fail(err);
    }
  };
  const act = async (fn: () => Promise<unknown>, identity: string) => {
    try {
      await fn();
      status.ok(t("users.done"));
      await search();
      const fresh = await api.user(id, identity).catch(() => undefined);
      if (fresh) await show(fresh);
      else detail.replaceChildren();
    } catch (err) {
      status.fail(err);
    }
  };
  async function show(u: AdminUser): Promise<void> {
    try {
      const d = await api.devices(id as string, u.identity);
      detail.replaceChildren(
        h(
          "section",
          { class: "card", "data-testid": "user-detail" },
          h("h3", {}, t("users.details", { identity: u.identity })),
          h("p", { "data-testid": "user-sockets" }, t("users.sockets", { n: d.sockets })),
          h("h4", {}, t("users.devices")),
          d.push_tokens.length
            ? table(
                t("users.devices"),
                [t("push.provider"), "device", "token", t("push.updated")],
                d.push_tokens.map((p) => [p.platform, p.device_id ?? "—", h("code", {}, `…${p.token_tail}`), when(p.updated_at)]),
                "devices-table",
              )
            : h("p", { class: "muted" }, t("users.nodevices")),
          h(
            "div",
            { class: "actions" },
            u.banned
              ? button(t("users.unban"), () => act(() => api.unban(id as string, u.identity), u.identity), {
                  testid: "unban",
                  kind: "secondary",
                })
              : button(t("users.ban"), () => act(() => api.ban(id as string, u.identity), u.identity), {
                  testid: "ban",
                  kind: "secondary",
                }),
            button(t("users.revoke"), () => act(() => api.revoke(id as string, u.identity), u.identity), {
              testid: "revoke",
              kind: "secondary",
              icon: "logout",
            }),
            button(
              t("users.erase"),
              async () => {
                const ok = await confirmDialog({
                  title: t("users.erase"),
                  warning: t("users.erase.warn"),
                  confirm: t("users.erase"),
                  typed: u.identity,
                  danger: true,
                });
                if (ok) await act(() => api.erase(id as string, u.identity), u.identity);
              },
              { testid: "erase", kind: "danger", icon: "trash" },
            ),
          ),
        ),
      );
    } catch (err) {
      status.fail(err);
    }
  }
  main.append(
    h("h2", {}, t("users.title", { id })),
    status.el,
    h(
      "form",
      {
        class: "row card",
        "data-testid": "user-search-form",
        onsubmit: (e: Event) => {
          e.preventDefault();
          void search();
        },
      },
      field(t("users.search"), q),
      h("button", { type: "submit", class: "btn", "data-testid": "user-search-go" }, icon("search"), t("users.find")),
    ),
    results,
    detail,
  );
  await search();
}
