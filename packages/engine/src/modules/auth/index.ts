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
  create: ({ config, keys, limiter, clock, apps, users }) => {
    const auth = new AuthService({
      apps,
      users,
      tokens: new UserTokens(keys.tokenKey, config.userTokenTtlS, config.sessionMaxAgeS),
      limiter,
      limits: config.rateLimits,
      clock,
      identityTokenMaxTtlS: config.identityTokenMaxTtlS,
    });
    return { service: auth, routes: (http, deps) => registerAuthRoutes(http, deps, auth, config.publicUrl) };
  },
});
