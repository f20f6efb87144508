import { ApiFailure } from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { icon } from "./icons.js";

/** A status line (polite live region) that pages write their outcomes to. */
export function notice(): { el: HTMLElement; ok(msg: string): void; fail(err: unknown): void; clear(): void } {
  const el = h("div", { role: "status", "aria-live": "polite", "data-testid": "notice" });
  return {
    el,
    ok(msg) {
      el.replaceChildren(h("p", { class: "notice ok" }, msg));
    },
    fail(err) {
      const e = err instanceof ApiFailure ? err : new ApiFailure(0, "internal", String((err as Error)?.message ?? err));
      el.replaceChildren(h("p", { class: "notice error", role: "alert" }, t("error", { code: e.code, message: e.message })));
    },
    clear() {
      el.replaceChildren();
    },
  };
}

/** A button with an inline SVG icon and a text label. */
export function button(
  label: string,
  onClick: () => void | Promise<void>,
  opts: { icon?: Parameters<typeof icon>[0]; kind?: "primary" | "secondary" | "danger"; testid?: string; type?: "button" | "submit" } = {},
): HTMLButtonElement {
  const b = h(
    "button",
    {
      type: opts.type ?? "button",
      class: `btn ${opts.kind && opts.kind !== "primary" ? opts.kind : ""}`.trim(),
      "data-testid": opts.testid,
    },
    opts.icon ? icon(opts.icon) : null,
    label,
  );
  b.addEventListener("click", () => {
    if (opts.type === "submit") return;
    void onClick();
  });
  return b;
}

/**
 * A modal confirmation with a warning. With `typed`, the confirm button stays disabled until exactly that
 * text is typed (deleting an app, erasing a user). Resolves to whether the operator confirmed.
 */
export function confirmDialog(opts: {
  title: string;
  warning: string;
  confirm: string;
  typed?: string;
  danger?: boolean;
}): Promise<boolean> {
  return new Promise((resolve) => {
    const input = opts.typed
      ? h("input", { type: "text", autocomplete: "off", spellcheck: "false", "data-testid": "confirm-input" })
      : null;
    const go = h(
      "button",
      { type: "button", class: `btn ${opts.danger ? "danger" : ""}`, "data-testid": "confirm-go", disabled: Boolean(opts.typed) },
      opts.confirm,
    );
    const cancel = h("button", { type: "button", class: "btn secondary", "data-testid": "confirm-cancel" }, t("cancel"));
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const dlg = h(
      "dialog",
      { "aria-labelledby": titleId, "data-testid": "confirm-dialog" },
      h("h3", { id: titleId }, opts.title),
      h("p", { class: "notice warn" }, icon("warning"), h("span", {}, opts.warning)),
      input
        ? h("label", { class: "field" }, h("span", { class: "label" }, t("apps.delete.confirm", { id: opts.typed ?? "" })), input)
        : null,
      h("div", { class: "actions" }, go, cancel),
    );
    input?.addEventListener("input", () => {
      go.disabled = input.value !== opts.typed;
    });
    const done = (v: boolean) => {
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    go.addEventListener("click", () => done(true));
    cancel.addEventListener("click", () => done(false));
    dlg.addEventListener("cancel", () => done(false));
    document.body.append(dlg);
    dlg.showModal();
    (input ?? cancel).focus();
  });
}

/** A table with a header row; `rows` are arrays of cells. */
export function table(caption: string, head: string[], rows: (Node | string)[][], testid?: string): HTMLTableElement {
  return h(
    "table",
    { "data-testid": testid },
    h("caption", { class: "skip" }, caption),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        head.map((c) => h("th", { scope: "col" }, c)),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((r) =>
        h(
          "tr",
          {},
          r.map((c) => h("td", {}, c)),
        ),
      ),
    ),
  );
}
