import { api } from "./api.js";
import { h } from "./dom.js";
import { otherLocale, setLocale, t } from "./i18n.js";
import { icon } from "./icons.js";
import { notice } from "./ui.js";

/** The sign-in page: operator account first; the admin token (automation) behind a disclosure. */
export function signInPage(done: () => void): HTMLElement {
  const status = notice();
  const user = h("input", { name: "username", autocomplete: "username", required: true, "data-testid": "username" });
  const pass = h("input", {
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
    "data-testid": "password",
  });
  const token = h("input", { name: "admin_token", type: "password", autocomplete: "off", "data-testid": "admin-token" });
  const submit = async (e: Event, body: () => { username: string; password: string } | { admin_token: string }) => {
    e.preventDefault();
    try {
      await api.signIn(body());
      done();
    } catch (err) {
      status.fail(err);
    }
  };
  const other = otherLocale();
  return h(
    "main",
    { class: "signin", id: "main" },
    h(
      "section",
      { class: "card" },
      h("h1", {}, t("signin.title")),
      h(
        "form",
        { onsubmit: (e: Event) => void submit(e, () => ({ username: user.value, password: pass.value })), "data-testid": "signin-form" },
        h("label", { class: "field" }, h("span", { class: "label" }, t("signin.username")), user),
        h("label", { class: "field" }, h("span", { class: "label" }, t("signin.password")), pass),
        h("button", { type: "submit", class: "btn", "data-testid": "signin" }, icon("key"), t("signin.submit")),
      ),
      h(
        "details",
        {},
        h("summary", {}, t("signin.token")),
        h(
          "form",
          { onsubmit: (e: Event) => void submit(e, () => ({ admin_token: token.value })), "data-testid": "token-form" },
          h("label", { class: "field" }, h("span", { class: "label" }, t("signin.token.field")), token),
          h("button", { type: "submit", class: "btn secondary", "data-testid": "signin-token" }, icon("key"), t("signin.submit")),
        ),
      ),
      status.el,
      h(
        "p",
        {},
        h(
          "button",
          { type: "button", class: "btn secondary", lang: other.id, "data-testid": "lang", onclick: () => setLocale(other.id) },
          icon("globe"),
          other.name,
        ),
      ),
    ),
  );
}
