import type { MigrationSet } from "../store/port.js";
import { adminModule } from "./admin/index.js";
import { appsModule } from "./apps/index.js";
import { authModule } from "./auth/index.js";
import { callsModule } from "./calls/index.js";
import { chatModule } from "./chat/index.js";
import { consoleModule } from "./console/index.js";
import { friendsModule } from "./friends/index.js";
import { lifecycleModule } from "./lifecycle/index.js";
import type { AnyModule } from "./module.js";
import { presenceModule } from "./presence/index.js";
import { pushModule } from "./push/index.js";
import { realtimeModule } from "./realtime/index.js";
import { roomsModule } from "./rooms/index.js";
import { seatsModule } from "./seats/index.js";
import { signalRoomsModule } from "./sigrooms/index.js";
import { stageModule } from "./stage/index.js";
import { supportModule } from "./support/index.js";
import { typingModule } from "./typing/index.js";
import { uploadsModule } from "./uploads/index.js";
import { usageModule } from "./usage/index.js";
import { usersModule } from "./users/index.js";
import { webhooksModule } from "./webhooks/index.js";

/**
 * Every domain module, in dependency order: a module may use the services of the modules above it
 * (its `needs`). `createEngine` builds them top to bottom and stops them bottom to top. A new domain
 * module is one folder with an `index.ts` descriptor, added here.
 */
export const MODULES: readonly AnyModule[] = [
  appsModule,
  usersModule,
  webhooksModule,
  authModule,
  realtimeModule,
  friendsModule,
  presenceModule,
  uploadsModule,
  chatModule,
  typingModule,
  supportModule,
  callsModule,
  signalRoomsModule,
  pushModule,
  roomsModule,
  stageModule,
  seatsModule,
  adminModule,
  lifecycleModule,
  usageModule,
  consoleModule,
];

/** The migration sets of the given modules (the store is handed these; it knows no module). */
export function migrationsOf(modules: readonly AnyModule[] = MODULES): MigrationSet[] {
  return modules.flatMap((m) => (m.migrations ? [m.migrations] : []));
}
