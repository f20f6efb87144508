import { api } from "../api.js";
import { field, h } from "../dom.js";
import { t, when } from "../i18n.js";
import { icon } from "../icons.js";
import type { PageContext } from "../main.js";
import { button, confirmDialog, notice, table } from "../ui.js";

/** Console operator accounts: list, create (password of 12+ characters), remove (ends their sessions). */
export async function operatorsPage(main: HTMLElement, _ctx: PageContext): Promise<void> {
  const status = notice();
  const list = h("section", { class: "card" });
  const username = h("input", { autocomplete: "off", spellcheck: "false", required: true, "data-testid": "op-username" });
  const password = h("input", {
    type: "password",
    autocomplete: "new-password",
    required: true,
    minlength: 12,
    "data-testid": "op-password",
  });
  const draw = async () => {
    try {
      const ops = (await api.operators()).operators;
      list.replaceChildren(
        h("h3", {}, t("ops.list")),
        table(
          t("ops.list"),
          [t("signin.username"), t("ops.created"), ""],
          ops.map((o) => [
            h("code", {}, o.username),
            when(o.created_at),
            button(
              t("ops.remove"),
              async () => {
                const ok = await confirmDialog({
                  title: t("ops.remove"),
                  warning: t("ops.remove.warn"),
                  confirm: t("ops.remove"),
                  typed: o.username,
                  danger: true,
                });
                if (!ok) return;
                try {
                  await api.removeOperator(o.username);
                  status.ok(t("ops.removed", { name: o.username }));
                  await draw();
                } catch (err) {
                  status.fail(err);
                }
              },
              { kind: "danger", icon: "trash", testid: `op-remove-${o.username}` },
            ),
          ]),
          "operators-table",
        ),
      );
    } catch (err) {
      status.fail(err);
    }
  };
  main.append(
    h("h2", {}, t("ops.title")),
    status.el,
    h(
      "section",
      { class: "card" },
      h("h3", {}, t("ops.create")),
      h(
        "form",
        {
          class: "row",
          "data-testid": "op-form",
          onsubmit: async (e: Event) => {
            e.preventDefault();
            try {
              const o = await api.createOperator(username.value.trim(), password.value);
              status.ok(t("ops.created.ok", { name: o.username }));
              username.value = "";
              password.value = "";
              await draw();
            } catch (err) {
              status.fail(err);
            }
          },
        },
        field(t("signin.username"), username, t("ops.username.hint")),
        field(t("signin.password"), password, t("ops.password.hint")),
        h("button", { type: "submit", class: "btn", "data-testid": "op-create" }, icon("plus"), t("ops.create")),
      ),
    ),
    list,
  );
  await draw();
}
