import "./style.css";
import type { App, ConsoleSession } from "@utd-stream/protocol";
import { api, whenSignedOut } from "./api.js";
import { h, mount } from "./dom.js";
import { initLocale, otherLocale, setLocale, t } from "./i18n.js";
import { icon } from "./icons.js";
import { appsPage } from "./pages/apps.js";
import { livePage } from "./pages/live.js";
import { moderationPage } from "./pages/moderation.js";
import { operatorsPage } from "./pages/operators.js";
import { usagePage } from "./pages/usage.js";
import { usersPage } from "./pages/users.js";
import { webhooksPage } from "./pages/webhooks.js";
import { signInPage } from "./signin.js";

/** What every page gets: the apps, the selected one, and a way to re-read them. */
export interface PageContext {
  apps: App[];
  appId: string | undefined;
  reloadApps(): Promise<void>;
  /** Registers a cleanup (timers) run when the page is left. */
  onLeave(fn: () => void): void;
}

const PAGES = {
  apps: { label: "nav.apps", icon: "apps", render: appsPage },
  usage: { label: "nav.usage", icon: "usage", render: usagePage },
  live: { label: "nav.live", icon: "live", render: livePage },
  users: { label: "nav.users", icon: "users", render: usersPage },
  moderation: { label: "nav.moderation", icon: "shield", render: moderationPage },
  webhooks: { label: "nav.webhooks", icon: "webhook", render: webhooksPage },
  operators: { label: "nav.operators", icon: "key", render: operatorsPage },
} as const;
type PageId = keyof typeof PAGES;

const root = document.getElementById("app") as HTMLElement;
const APP_KEY = "utd-console-app";
const leave: (() => void)[] = [];

initLocale();
whenSignedOut(() => void start());
void start();

async function start(): Promise<void> {
  for (const f of leave.splice(0)) f();
  const session = await api.session();
  if (!session) {
    mount(
      root,
      signInPage(() => void start()),
    );
    return;
  }
  await shell(session);
}

function pageOf(): PageId {
  const id = location.hash.replace(/^#\/?/, "").split("?")[0] ?? "";
  return id in PAGES ? (id as PageId) : "apps";
}

async function shell(session: ConsoleSession): Promise<void> {
  let apps: App[] = [];
  const main = h("main", { id: "main", tabindex: "-1" });
  const picker = h("select", { "data-testid": "app-picker", "aria-label": t("app.pick") });
  const nav = h("ul", {});
  const ctx: PageContext = {
    get apps() {
      return apps;
    },
    get appId() {
      const saved = localStorage.getItem(APP_KEY);
      return apps.find((a) => a.app_id === saved)?.app_id ?? apps[0]?.app_id;
    },
    async reloadApps() {
      apps = (await api.apps()).apps;
      const current = ctx.appId;
      picker.replaceChildren(
        ...apps.map((a) => h("option", { value: a.app_id, selected: a.app_id === current }, `${a.name} (${a.app_id})`)),
      );
    },
    onLeave(fn) {
      leave.push(fn);
    },
  };
  picker.addEventListener("change", () => {
    localStorage.setItem(APP_KEY, picker.value);
    render();
  });
  const other = otherLocale();
  const header = h(
    "header",
    { class: "top" },
    h("a", { href: "#main", class: "skip" }, "Skip to content"),
    h("h1", {}, t("app.title")),
    h("label", { class: "row", style: "align-items:center;gap:6px" }, h("span", {}, t("app.pick")), picker),
    h(
      "span",
      { class: "who", "data-testid": "who" },
      session.username ? t("signedin.as", { name: session.username }) : t("signedin.token"),
    ),
    h(
      "button",
      {
        type: "button",
        lang: other.id,
        "data-testid": "lang",
        "aria-label": `${t("lang.switch")}: ${other.name}`,
        onclick: () => setLocale(other.id),
      },
      icon("globe"),
      ` ${other.name}`,
    ),
    h(
      "button",
      {
        type: "button",
        "data-testid": "signout",
        onclick: async () => {
          await api.signOut().catch(() => {});
          void start();
        },
      },
      icon("logout"),
      ` ${t("signout")}`,
    ),
  );
  mount(root, header, h("div", { class: "layout" }, h("nav", { class: "side", "aria-label": t("nav.label") }, nav), main));
  await ctx.reloadApps();

  function render(): void {
    for (const f of leave.splice(0)) f();
    const id = pageOf();
    nav.replaceChildren(
      ...(Object.keys(PAGES) as PageId[]).map((p) =>
        h(
          "li",
          {},
          h(
            "a",
            { href: `#/${p}`, "aria-current": p === id ? "page" : null, "data-testid": `nav-${p}` },
            icon(PAGES[p].icon),
            t(PAGES[p].label),
          ),
        ),
      ),
    );
    main.replaceChildren();
    main.setAttribute("data-page", id);
    void PAGES[id].render(main, ctx);
  }
  window.onhashchange = render;
  render();
}
