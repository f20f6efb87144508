import { defineModule } from "../module.js";
import { type AppsTables, appsMigrations } from "./migrations.js";
import { AppsService } from "./service.js";

export type { AppsTable, MauTable, UsersTable } from "./migrations.js";
export { type AppSettings, AppsService } from "./service.js";

declare module "../../store/schema.js" {
  interface Database extends AppsTables {}
}
declare module "../module.js" {
  interface ModuleServices {
    apps: AppsService;
  }
}

/** Apps, plans and capabilities: the tenancy root. Its foundation migration also creates `users` and `mau`. */
export const appsModule = defineModule({
  name: "apps",
  needs: [],
  migrations: appsMigrations,
  create: ({ store, keys, clock, hooks }) => ({ service: new AppsService(store, keys.sealKey, clock, hooks) }),
});
