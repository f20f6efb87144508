import type { App } from "@utd-stream/protocol";
import { api } from "../api.js";
import { field, h } from "../dom.js";
import { t } from "../i18n.js";
import { icon } from "../icons.js";
import type { PageContext } from "../main.js";
import { button, confirmDialog, notice } from "../ui.js";

const PLANS = ["free", "signaling", "pro", "enterprise"] as const;
const AUTH = ["open", "signed"] as const;

/** The secret, shown once, with a copy button. */
function secretBox(secret: string): HTMLElement {
  const out = h("output", { class: "mono", "data-testid": "secret" }, secret);
  const copy = button(
    t("apps.copy"),
    async () => {
      await navigator.clipboard.writeText(secret).catch(() => {});
      if (copy.lastChild) copy.lastChild.textContent = t("apps.copied");
    },
    { icon: "copy", kind: "secondary", testid: "copy-secret" },
  );
  return h(
    "div",
    {},
    h("p", { class: "notice warn" }, icon("warning"), h("span", {}, t("apps.secret.once"))),
    h("div", { class: "secret" }, h("span", {}, `${t("apps.secret")}:`), out, copy),
  );
}

const select = (values: readonly string[], current: string, testid: string, labels?: Record<string, string>) =>
  h(
    "select",
    { "data-testid": testid },
    values.map((v) => h("option", { value: v, selected: v === current }, labels?.[v] ?? v)),
  );

/** Apps: list, create (secret once), settings, key/secret rotation with warnings, typed-confirmation delete. */
export async function appsPage(main: HTMLElement, ctx: PageContext): Promise<void> {
  const status = notice();
  const list = h("div", {});
  const detail = h("div", {});
  const name = h("input", { required: true, maxlength: 100, "data-testid": "new-name" });
  const plan = select(PLANS, "free", "new-plan");
  const auth = select(AUTH, "signed", "new-auth");
  const created = h("div", { "data-testid": "created" });
  const createForm = h(
    "form",
    {
      class: "row",
      "data-testid": "create-form",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        try {
          const app = await api.createApp({ name: name.value, plan: plan.value, auth_mode: auth.value });
          created.replaceChildren(h("p", { class: "notice ok" }, t("apps.created", { id: app.app_id })), secretBox(app.app_secret));
          name.value = "";
          await ctx.reloadApps();
          drawList();
        } catch (err) {
          status.fail(err);
        }
      },
    },
    field(t("apps.name"), name),
    field(t("apps.plan"), plan),
    field(t("apps.auth"), auth),
    h("button", { type: "submit", class: "btn", "data-testid": "create" }, icon("plus"), t("apps.create")),
  );

  function drawList(selected?: string): void {
    const rows = ctx.apps.map((a) => {
      const tr = h(
        "tr",
        { class: "clickable", tabindex: "0", "aria-selected": a.app_id === selected ? "true" : "false", "data-testid": `app-${a.app_id}` },
        h("td", {}, a.name),
        h("td", {}, h("code", {}, a.app_id)),
        h("td", {}, a.plan),
        h("td", {}, a.auth_mode),
        h(
          "td",
          {},
          [a.signaling_enabled ? t("apps.signaling") : "", a.messaging_enabled ? t("apps.messaging") : ""].filter(Boolean).join(", ") ||
            "—",
        ),
      );
      const open = () => {
        drawList(a.app_id);
        drawDetail(a);
      };
      tr.addEventListener("click", open);
      tr.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          open();
        }
      });
      return tr;
    });
    list.replaceChildren(
      h(
        "table",
        { "data-testid": "apps-table" },
        h("caption", { class: "skip" }, t("apps.title")),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            [t("apps.name"), t("apps.id"), t("apps.plan"), t("apps.auth"), t("apps.caps")].map((c) => h("th", { scope: "col" }, c)),
          ),
        ),
        h("tbody", {}, rows),
      ),
    );
  }

  function drawDetail(a: App, shownSecret?: string): void {
    const cap = (v: boolean, plan: boolean) => (v === plan ? "plan" : v ? "on" : "off");
    const capLabels = { plan: t("apps.cap.plan"), on: t("apps.cap.on"), off: t("apps.cap.off") };
    // Every plan has signalling; the signalling plan has no messaging (constants/plans.ts).
    const planDefaults = { signaling: true, messaging: a.plan !== "signaling" };
    const ePlan = select(PLANS, a.plan, "edit-plan");
    const eAuth = select(AUTH, a.auth_mode, "edit-auth");
    const eSig = select(["plan", "on", "off"], cap(a.signaling_enabled, planDefaults.signaling), "edit-signaling", capLabels);
    const eMsg = select(["plan", "on", "off"], cap(a.messaging_enabled, planDefaults.messaging), "edit-messaging", capLabels);
    const eLimits = h("textarea", { "data-testid": "edit-limits", spellcheck: "false" }, JSON.stringify(a.limit_overrides ?? {}, null, 1));
    const flag = (v: string) => (v === "plan" ? null : v === "on");
    const secret = h("div", {}, shownSecret ? secretBox(shownSecret) : null);
    detail.replaceChildren(
      h(
        "section",
        { class: "card", "data-testid": "app-detail" },
        h("h3", {}, t("apps.edit", { id: a.app_id })),
        h("p", {}, `${t("apps.key")}: `, h("code", { "data-testid": "app-key" }, a.app_key)),
        h(
          "div",
          { class: "row" },
          field(t("apps.plan"), ePlan),
          field(t("apps.auth"), eAuth),
          field(t("apps.signaling"), eSig),
          field(t("apps.messaging"), eMsg),
        ),
        field(t("apps.limits"), eLimits, t("apps.limits.hint")),
        h(
          "div",
          { class: "actions" },
          button(
            t("apps.save"),
            async () => {
              try {
                let limits: Record<string, number>;
                try {
                  limits = JSON.parse(eLimits.value || "{}") as Record<string, number>;
                } catch (err) {
                  status.fail({ message: (err as Error).message });
                  return;
                }
                const updated = await api.updateApp(a.app_id, {
                  plan: ePlan.value as App["plan"],
                  auth_mode: eAuth.value as App["auth_mode"],
                  signaling_enabled: flag(eSig.value),
                  messaging_enabled: flag(eMsg.value),
                  limit_overrides: limits,
                });
                status.ok(t("apps.saved"));
                await ctx.reloadApps();
                drawList(a.app_id);
                drawDetail(updated);
              } catch (err) {
                status.fail(err);
              }
            },
            { testid: "save" },
          ),
          ...(["key", "secret"] as const).map((which) =>
            button(
              t(which === "key" ? "apps.rotate.key" : "apps.rotate.secret"),
              async () => {
                const ok = await confirmDialog({
                  title: t(which === "key" ? "apps.rotate.key" : "apps.rotate.secret"),
                  warning: t(which === "key" ? "apps.rotate.warn.key" : "apps.rotate.warn.secret"),
                  confirm: t("apps.rotate.confirm"),
                });
                if (!ok) return;
                try {
                  const r = await api.rotate(a.app_id, which);
                  status.ok(t("apps.rotated"));
                  await ctx.reloadApps();
                  drawDetail(r, "app_secret" in r ? r.app_secret : undefined);
                } catch (err) {
                  status.fail(err);
                }
              },
              { icon: "key", kind: "secondary", testid: `rotate-${which}` },
            ),
          ),
          button(
            t("apps.delete"),
            async () => {
              const ok = await confirmDialog({
                title: t("apps.delete"),
                warning: t("apps.delete.warn"),
                confirm: t("apps.delete.go"),
                typed: a.app_id,
                danger: true,
              });
              if (!ok) return;
              try {
                await api.deleteApp(a.app_id);
                status.ok(t("apps.deleted", { id: a.app_id }));
                detail.replaceChildren();
                await ctx.reloadApps();
                drawList();
              } catch (err) {
                status.fail(err);
              }
            },
            { icon: "trash", kind: "danger", testid: "delete" },
          ),
        ),
        secret,
      ),
    );
  }

  main.append(
    h("h2", {}, t("apps.title")),
    status.el,
    h("section", { class: "card" }, h("h3", {}, t("apps.create")), createForm, created),
    h("section", { class: "card" }, list),
    detail,
  );
  drawList();
}
