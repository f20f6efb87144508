import { defineModule } from "../module.js";
import { type CallsTables, callsMigrations } from "./migrations.js";
import { registerCallRoutes } from "./routes.js";
import { CallsService } from "./service.js";

export { CallsService, type CallTransition } from "./service.js";

declare module "../../store/schema.js" {
  interface Database extends CallsTables {}
}
declare module "../module.js" {
  interface ModuleServices {
    calls: CallsService;
  }
}

/** 1:1 calls: ringing, answer on one device, busy, reject, end, and a stored ring timeout swept once per cluster. */
export const callsModule = defineModule({
  name: "calls",
  needs: ["realtime", "users"],
  migrations: callsMigrations,
  create: ({ store, clock, config, log, outbox, realtime, users }) => {
    const calls = new CallsService({
      store,
      clock,
      events: realtime.events,
      ringTimeoutS: config.callRingTimeoutS,
      outbox,
      log,
      blocks: users.blocks,
    });
    return {
      service: calls,
      routes: (http, deps) => registerCallRoutes(http, deps, calls),
      start: () => calls.start(),
      stop: () => calls.stop(),
    };
  },
});
