import { defineModule } from "../module.js";
import { type StageTables, stageMigrations } from "./migrations.js";
import { registerStageRoutes } from "./routes.js";
import { StageService } from "./service.js";

export { StageService } from "./service.js";

declare module "../../store/schema.js" {
  interface Database extends StageTables {}
}
declare module "../module.js" {
  interface ModuleServices {
    stage: StageService;
  }
}

/** A live stream's stage: co-host requests, invitations and removals, applied through the media port. */
export const stageModule = defineModule({
  name: "stage",
  needs: ["rooms"],
  migrations: stageMigrations,
  create: ({ store, clock, outbox, rooms }) => {
    const stage = new StageService(store, clock, rooms, outbox);
    return { service: stage, routes: (http, deps) => registerStageRoutes(http, deps, stage) };
  },
});
