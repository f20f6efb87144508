import { api } from "../api.js";
import { field, h } from "../dom.js";
import { t } from "../i18n.js";
import type { PageContext } from "../main.js";
import { button, notice, table } from "../ui.js";

/**
 * Moderation of the selected app: the flag queue (open reports: dismiss, delete the message, ban the user),
 * close or reopen a conversation, delete a message (a tombstone stays).
 */
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
  const queue = h("section", { class: "card", "data-testid": "report-queue" });
  const loadQueue = async (): Promise<void> => {
    const { reports } = await api.reports(id);
    const act = (report: string, action: "dismiss" | "delete_message" | "ban_user", done: string) => () =>
      run(async () => {
        await api.resolveReport(id, report, action);
        await loadQueue();
      }, done);
    queue.replaceChildren(
      h("h3", {}, t("mod.queue")),
      reports.length === 0
        ? h("p", { "data-testid": "report-queue-empty" }, t("mod.queueEmpty"))
        : table(
            t("mod.queue"),
            [t("mod.reported"), t("mod.reason"), t("mod.evidence"), t("mod.reporter"), ""],
            reports.map((r) => [
              r.identity,
              r.reason,
              r.message_text ?? "—",
              r.reporter,
              h(
                "div",
                { class: "actions", "data-testid": "report-actions", "data-report": r.id },
                button(t("mod.dismiss"), act(r.id, "dismiss", t("mod.dismissed")), { testid: "report-dismiss", kind: "secondary" }),
                r.message_id
                  ? button(t("mod.delete"), act(r.id, "delete_message", t("mod.deleted", { id: r.message_id })), {
                      testid: "report-delete",
                      kind: "danger",
                      icon: "trash",
                    })
                  : null,
                button(t("mod.ban"), act(r.id, "ban_user", t("mod.banned", { id: r.identity })), {
                  testid: "report-ban",
                  kind: "danger",
                  icon: "shield",
                }),
              ),
            ]),
            "report-table",
          ),
    );
  };
  await loadQueue().catch((err: unknown) => status.fail(err));
  main.append(
    h("h2", {}, t("mod.title", { id })),
    status.el,
    queue,
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
