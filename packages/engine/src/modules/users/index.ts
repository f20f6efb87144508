import { defineModule } from "../module.js";
import { UsersService } from "./service.js";

export { type UserRow, UsersService } from "./service.js";

declare module "../module.js" {
  interface ModuleServices {
    users: UsersService;
  }
}

/** Users of an app: created on first session, banned and unbanned, revoked. Its tables come with the apps module's foundation. */
export const usersModule = defineModule({
  name: "users",
  needs: [],
  create: ({ store, clock, hooks, outbox }) => ({ service: new UsersService(store, clock, hooks, outbox) }),
});
