import { defineModule } from "../module.js";
import { type ConsoleTables, consoleMigrations } from "./migrations.js";
import { registerConsoleRoutes } from "./routes.js";
import { ConsoleService } from "./service.js";

export { CONSOLE_COOKIE, consoleCookie } from "./routes.js";
export { ConsoleService } from "./service.js";

declare module "../../store/schema.js" {
  interface Database extends ConsoleTables {}
}
declare module "../module.js" {
  interface ModuleServices {
    console: ConsoleService;
  }
}

/**
 * The web console's accounts: operator sign-in (scrypt passwords, HttpOnly SameSite=Strict session
 * cookie, a CSRF token per session) and the admin routes that manage the accounts. A live console session
 * opens the admin API as the admin token does (http/route.ts). The page itself is apps/console.
 */
export const consoleModule = defineModule({
  name: "console",
  needs: [],
  migrations: consoleMigrations,
  create: ({ store, clock, limiter, config }) => {
    const service = new ConsoleService(store, clock, limiter, config.adminToken);
    return { service, routes: (http, deps) => registerConsoleRoutes(http, deps, service) };
  },
});
