import type { Kysely } from "kysely";
import type { MigrationSet } from "../../store/migrations.js";

export interface UploadsTable {
  /** The file token handed to the client. */
  id: string;
  app_id: string;
  uploader: string;
  kind: string;
  filename: string;
  content_type: string;
  /** Declared size in bytes; the stored object must match it exactly. */
  size: number;
  /** JSON of width/height/duration. */
  metadata: string;
  /** Key of the object in the file store. */
  storage_key: string;
  created_at: number;
  /** Until when the upload URL is valid. */
  upload_expires_at: number;
  /** Set once the bytes are stored; only then may the token be sent. */
  uploaded_at: number | null;
}

export interface UploadsTables {
  uploads: UploadsTable;
}

export const uploadsMigrations: MigrationSet = (dialect) => ({
  "0003_uploads_1": {
    async up(db: Kysely<unknown>) {
      const big = dialect === "postgres" ? "bigint" : "integer";
      await db.schema
        .createTable("uploads")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
        .addColumn("uploader", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("filename", "text", (c) => c.notNull())
        .addColumn("content_type", "text", (c) => c.notNull())
        .addColumn("size", big, (c) => c.notNull())
        .addColumn("metadata", "text", (c) => c.notNull().defaultTo("{}"))
        .addColumn("storage_key", "text", (c) => c.notNull())
        .addColumn("created_at", big, (c) => c.notNull())
        .addColumn("upload_expires_at", big, (c) => c.notNull())
        .addColumn("uploaded_at", big)
        .execute();
    },
  },
  "0006_uploads_quota_index": {
    async up(db: Kysely<unknown>) {
      // Storage quotas sum a user's and an app's uploads on every reservation.
      await db.schema.createIndex("uploads_app_uploader").on("uploads").columns(["app_id", "uploader"]).execute();
    },
  },
});
