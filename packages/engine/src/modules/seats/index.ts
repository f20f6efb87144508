import { defineModule } from "../module.js";
import { type SeatsTables, seatsMigrations } from "./migrations.js";
import { registerSeatsRoutes } from "./routes.js";
import { SeatsService } from "./service.js";

export { SeatsService } from "./service.js";

declare module "../../store/schema.js" {
  interface Database extends SeatsTables {}
}
declare module "../module.js" {
  interface ModuleServices {
    seats: SeatsService;
  }
}

/** An audio room's seats and speak requests; a seat is what lets an audience member publish audio. */
export const seatsModule = defineModule({
  name: "seats",
  needs: ["rooms"],
  migrations: seatsMigrations,
  create: ({ store, clock, outbox, rooms }) => {
    const seats = new SeatsService(store, clock, rooms, outbox);
    return { service: seats, routes: (http, deps) => registerSeatsRoutes(http, deps, seats) };
  },
});
