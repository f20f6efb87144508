import { defineModule } from "../module.js";
import { type UsageTables, usageMigrations } from "./migrations.js";
import { registerUsageRoutes } from "./routes.js";
import { UsageService } from "./service.js";

export { UsageService } from "./service.js";

declare module "../../store/schema.js" {
  interface Database extends UsageTables {}
}
declare module "../module.js" {
  interface ModuleServices {
    usage: UsageService;
  }
}

/** How often each node adds its counts to the daily rollup. */
const FLUSH_EVERY_MS = 10_000;

/**
 * The daily usage rollup (active users, messages, call minutes, peak sockets per app and UTC day) and
 * the live figures the console shows, both over the admin API.
 */
export const usageModule = defineModule({
  name: "usage",
  needs: ["apps", "realtime"],
  migrations: usageMigrations,
  create: ({ store, clock, media, log, hooks, apps, realtime }) => {
    const usage = new UsageService(store, clock, realtime.events, media, log);
    realtime.events.observePublished(usage.observe);
    const unsubscribe = hooks.on("user.active", (e) => usage.active(e.appId, e.identity));
    let timer: NodeJS.Timeout | undefined;
    return {
      service: usage,
      routes: (http, deps) => registerUsageRoutes(http, deps, usage, apps),
      connections: { connected: (ctx) => usage.connected(ctx), disconnected: (ctx) => usage.disconnected(ctx) },
      start: () => {
        timer = setInterval(() => void usage.flush(), FLUSH_EVERY_MS);
        timer.unref();
      },
      stop: async () => {
        clearInterval(timer);
        unsubscribe();
        await usage.flush();
      },
    };
  },
});
