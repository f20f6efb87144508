import { defineModule } from "../module.js";
import { type UploadsTables, uploadsMigrations } from "./migrations.js";
import { registerUploadRoutes } from "./routes.js";
import { UploadsService } from "./service.js";

export { type DownloadPolicy, UploadsService } from "./service.js";

declare module "../../store/schema.js" {
  interface Database extends UploadsTables {}
}
declare module "../module.js" {
  interface ModuleServices {
    uploads: UploadsService;
  }
}

/** Upload reservations and file tokens over the files port (local disk or S3). */
export const uploadsModule = defineModule({
  name: "uploads",
  needs: [],
  migrations: uploadsMigrations,
  create: ({ store, files, clock, config, outbox, later }) => {
    // A true cycle: chat resolves a message's file tokens through uploads when it is sent, and uploads
    // asks chat, when a file is downloaded, whether the caller is a member of a conversation it was sent
    // in. Uploads is built first and reads the chat service at download time.
    const chat = later("chat");
    const uploads = new UploadsService({
      outbox,
      store,
      files,
      clock,
      maxSize: config.uploadMaxBytes,
      unattachedGraceS: config.uploadUnattachedGraceS,
      policy: { canDownload: (app, identity, fileId) => chat().canDownload(app, identity, fileId) },
    });
    return { service: uploads, routes: (http, deps) => registerUploadRoutes(http, deps, uploads, config.publicUrl) };
  },
});
