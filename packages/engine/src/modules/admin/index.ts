import { defineModule } from "../module.js";
import { registerAdminRoutes } from "./routes.js";

declare module "../module.js" {
  interface ModuleServices {
    /** The admin API offers no service of its own: it drives the apps and users modules. */
    admin: undefined;
  }
}

/** The admin API (`/admin/v1`, bearer `UTD_ADMIN_TOKEN`): apps, plans, bans, usage. The `utd` CLI drives it. */
export const adminModule = defineModule({
  name: "admin",
  needs: ["apps", "users", "realtime"],
  create: ({ apps, users, store, realtime }) => ({
    service: undefined,
    routes: (http, deps) =>
      registerAdminRoutes(http, deps, apps, users, store, (appId, identity) => realtime.events.socketsOf(appId, identity)),
  }),
});
