import { defineModule } from "../module.js";
import { BlockService, type BlockTables, blockMigrations, registerBlockRoutes } from "./blocks.js";
import { UsersService } from "./service.js";

export { BlockService, blockedBy, mutedBy, notBlocking } from "./blocks.js";
export { type UserRow, UsersService } from "./service.js";

declare module "../../store/schema.js" {
  interface Database extends BlockTables {}
}

declare module "../module.js" {
  interface ModuleServices {
    users: UsersService;
  }
}

/**
 * Users of an app: created on first session, banned and unbanned, revoked (its tables come with the apps
 * module's foundation); and each user's block and mute lists (`users.blocks`).
 */
export const usersModule = defineModule({
  name: "users",
  needs: [],
  migrations: blockMigrations,
  create: ({ store, clock, hooks, outbox }) => {
    const users = new UsersService(store, clock, hooks, outbox, new BlockService(store, clock));
    return { service: users, routes: (http, deps) => registerBlockRoutes(http, deps, users.blocks) };
  },
});
