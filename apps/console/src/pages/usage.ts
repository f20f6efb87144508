import uPlot from "uplot";
import { api } from "../api.js";
import { h } from "../dom.js";
import { num, t } from "../i18n.js";
import type { PageContext } from "../main.js";
import { notice, table } from "../ui.js";

const DAY_S = 86_400;

/** One bar-like chart of a daily or monthly series (uPlot), with a data table for screen readers. */
function chart(title: string, testid: string, xs: number[], ys: number[], color: string, labels: string[], halfStep: number): HTMLElement {
  const plot = h("div", {
    class: "plot",
    role: "img",
    "aria-label": `${title}: ${ys
      .map((y, i) => `${labels[i]} ${num(y)}`)
      .slice(-7)
      .join(", ")}`,
  });
  const box = h("figure", { class: "chart", "data-testid": testid, style: "margin:0" }, h("h3", {}, title), plot);
  requestAnimationFrame(() => {
    const width = Math.max(320, plot.clientWidth || 480);
    new uPlot(
      {
        width,
        height: 200,
        legend: { show: false },
        cursor: { show: true },
        scales: {
          x: { time: true, range: () => [(xs[0] ?? 0) - halfStep, (xs.at(-1) ?? 0) + halfStep] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] },
        },
        axes: [{ stroke: "#4f5963" }, { stroke: "#4f5963", values: (_u, vals) => vals.map((v) => num(v)) }],
        series: [{}, { label: title, stroke: color, fill: `${color}33`, width: 2, paths: uPlot.paths.bars?.({ size: [0.7, 40] }) }],
      },
      [xs, ys],
      plot,
    );
  });
  return box;
}

/** Usage of the selected app: MAU per month, and per day active users, messages, call minutes, peak sockets. */
export async function usagePage(main: HTMLElement, ctx: PageContext): Promise<void> {
  const status = notice();
  const id = ctx.appId;
  if (!id) {
    main.append(h("h2", {}, t("nav.usage")), h("p", {}, t("app.none")));
    return;
  }
  main.append(h("h2", {}, t("usage.title", { id })), status.el);
  try {
    const [mau, daily] = await Promise.all([api.usage(id), api.daily(id, 30)]);
    // The last 12 calendar months, zeros where there were no active users.
    const byMonth = new Map(mau.months.map((m) => [m.month, m.mau]));
    const now = new Date();
    const months = Array.from({ length: 12 }, (_, i) => {
      const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 11 + i, 1));
      const month = d.toISOString().slice(0, 7);
      return { month, mau: byMonth.get(month) ?? 0, x: d.getTime() / 1000 + 15 * DAY_S };
    });
    const dx = daily.days.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000 + DAY_S / 2);
    const dl = daily.days.map((d) => d.day);
    const day = (title: string, testid: string, ys: number[], color: string) => chart(title, testid, dx, ys, color, dl, DAY_S / 2);
    const grid = h(
      "div",
      { class: "charts" },
      chart(
        t("usage.mau"),
        "chart-mau",
        months.map((m) => m.x),
        months.map((m) => m.mau),
        "#1d5fd1",
        months.map((m) => m.month),
        15 * DAY_S,
      ),
      day(
        t("usage.dau"),
        "chart-dau",
        daily.days.map((d) => d.active_users),
        "#1e7a3a",
      ),
      day(
        t("usage.messages"),
        "chart-messages",
        daily.days.map((d) => d.messages),
        "#8a3ab9",
      ),
      day(
        t("usage.minutes"),
        "chart-minutes",
        daily.days.map((d) => d.call_minutes),
        "#b35c00",
      ),
      day(
        t("usage.peak"),
        "chart-peak",
        daily.days.map((d) => d.peak_sockets),
        "#0b7285",
      ),
    );
    const recent = daily.days.slice(-7).reverse();
    main.append(
      grid,
      h(
        "section",
        { class: "card" },
        table(
          t("nav.usage"),
          ["", t("usage.dau"), t("usage.messages"), t("usage.minutes"), t("usage.peak")],
          recent.map((d) => [d.day, num(d.active_users), num(d.messages), num(d.call_minutes), num(d.peak_sockets)]),
          "usage-table",
        ),
      ),
    );
  } catch (err) {
    status.fail(err);
  }
}
