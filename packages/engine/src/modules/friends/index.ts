import { defineModule } from "../module.js";
import { type FriendsTables, friendsMigrations } from "./migrations.js";
import { registerFriendRoutes } from "./routes.js";
import { FriendsService } from "./service.js";

export { FriendsService } from "./service.js";

declare module "../../store/schema.js" {
  interface Database extends FriendsTables {}
}
declare module "../module.js" {
  interface ModuleServices {
    friends: FriendsService;
  }
}

/** Friend requests and the friends list (part of the chat capability). */
export const friendsModule = defineModule({
  name: "friends",
  needs: ["realtime"],
  migrations: friendsMigrations,
  create: ({ store, clock, realtime }) => {
    const friends = new FriendsService({ store, clock, events: realtime.events });
    return { service: friends, routes: (http, deps) => registerFriendRoutes(http, deps, friends) };
  },
});
