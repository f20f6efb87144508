import { defineModule } from "../module.js";
import { registerAuthRoutes } from "./routes.js";
import { AuthService } from "./service.js";
import { UserTokens } from "./tokens.js";

export { AuthService } from "./service.js";

declare module "../module.js" {
  interface ModuleServices {
    auth: AuthService;
  }
}

/** Session mint, refresh and revocation; `authenticate` resolves every REST and WebSocket caller. */
export const authModule = defineModule({
  name: "auth",
  needs: ["apps", "users"],
  create: ({ config, keys, limiter, clock, apps, users, hooks, bus }) => {
    const auth = new AuthService({
      apps,
      users,
      tokens: new UserTokens(keys.tokenKey, config.userTokenTtlS, config.sessionMaxAgeS),
      limiter,
      limits: config.rateLimits,
      clock,
      identityTokenMaxTtlS: config.identityTokenMaxTtlS,
    });
    // Socket handshakes cache apps: every app change clears the entry, on this node at once (the hook) and on
    // every node (the bus message that also makes the gateways re-read the app for their open sockets).
    hooks.on("app.updated", (e) => auth.forget(e.appId));
    bus.subscribe((m) => {
      if (m.kind === "app") auth.forget(m.appId);
    });
    return { service: auth, routes: (http, deps) => registerAuthRoutes(http, deps, auth, config.publicUrl) };
  },
});
