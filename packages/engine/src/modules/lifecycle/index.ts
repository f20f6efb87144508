import { defineModule } from "../module.js";
import { registerLifecycleRoutes } from "./routes.js";
import { LifecycleService } from "./service.js";

export { LifecycleService } from "./service.js";

declare module "../module.js" {
  interface ModuleServices {
    lifecycle: LifecycleService;
  }
}

/**
 * The data lifecycle an operator owes users and customers: erase and export a user, delete an app
 * (admin API; `utd user erase|export`, `utd app delete`). It reaches every module's tables and the file
 * store, so it is listed last.
 */
export const lifecycleModule = defineModule({
  name: "lifecycle",
  needs: ["apps"],
  create: ({ store, files, apps, clock, hooks }) => {
    const lifecycle = new LifecycleService(store, files, apps, clock, hooks);
    return { service: lifecycle, routes: (http, deps) => registerLifecycleRoutes(http, deps, lifecycle) };
  },
});
