import { api } from "../api.js";
import { field, h } from "../dom.js";
import { t } from "../i18n.js";
import type { PageContext } from "../main.js";
import { button, notice } from "../ui.js";

/** Moderation of the selected app: close or reopen a conversation, delete a message (a tombstone stays). */
export async function moderationPage(main: HTMLElement, ctx: PageContext): Promise<void> {
  const status = notice();
  const id = ctx.appId;
  if (!id) {
    main.append(h("h2", {}, t("nav.moderation")), h("p", {}, t("app.none")));
    return;
  }
  const conv = h("input", { "data-testid": "mod-conversation", autocomplete: "off", spellcheck: "false" });
  const mconv = h("input", { "data-testid": "mod-message-conversation", autocomplete: "off", spellcheck: "false" });
  const msg = h("input", { "data-testid": "mod-message", autocomplete: "off", spellcheck: "false" });
  const run = async (fn: () => Promise<unknown>, ok: string) => {
    try {
      await fn();
      status.ok(ok);
    } catch (err) {
      status.fail(err);
    }
  };
  main.append(
    h("h2", {}, t("mod.title", { id })),
    status.el,
    h(
      "section",
      { class: "card" },
      h("div", { class: "row" }, field(t("mod.conversation"), conv)),
      h(
        "div",
        { class: "actions" },
        button(
          t("mod.close"),
          () => run(() => api.closeConversation(id, conv.value.trim(), true), t("mod.closed", { id: conv.value.trim() })),
          {
            testid: "mod-close",
            icon: "shield",
          },
        ),
        button(
          t("mod.reopen"),
          () => run(() => api.closeConversation(id, conv.value.trim(), false), t("mod.reopened", { id: conv.value.trim() })),
          {
            testid: "mod-reopen",
            kind: "secondary",
          },
        ),
      ),
    ),
    h(
      "section",
      { class: "card" },
      h("div", { class: "row" }, field(t("mod.conversation"), mconv), field(t("mod.message"), msg)),
      h(
        "div",
        { class: "actions" },
        button(
          t("mod.delete"),
          () => run(() => api.deleteMessage(id, mconv.value.trim(), msg.value.trim()), t("mod.deleted", { id: msg.value.trim() })),
          {
            testid: "mod-delete",
            kind: "danger",
            icon: "trash",
          },
        ),
      ),
    ),
  );
}
