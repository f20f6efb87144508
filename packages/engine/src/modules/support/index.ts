import { defineModule } from "../module.js";
import { type SupportTables, supportMigrations } from "./migrations.js";
import { registerSupportRoutes } from "./routes.js";
import { SupportService } from "./service.js";

export { Operators } from "./operators.js";
export { SupportService } from "./service.js";

declare module "../../store/schema.js" {
  interface Database extends SupportTables {}
}
declare module "../module.js" {
  interface ModuleServices {
    support: SupportService;
  }
}

/** Support conversations (visitor ↔ operator team) on top of chat, and the operator role. */
export const supportModule = defineModule({
  name: "support",
  needs: ["realtime", "apps", "chat"],
  migrations: supportMigrations,
  create: ({ store, clock, realtime, apps, chat }) => {
    const support = new SupportService({ store, clock, events: realtime.events, chat });
    return { service: support, routes: (http, deps) => registerSupportRoutes(http, deps, support, apps) };
  },
});
