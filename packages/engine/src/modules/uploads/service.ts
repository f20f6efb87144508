import {
  type Attachment,
  type CreateUploadRequest,
  type CreateUploadResponse,
  UPLOAD_CONTENT_TYPES,
  UPLOAD_LIMITS,
  type UploadInfo,
  type UploadKind,
  type UploadMetadata,
} from "@utd-stream/protocol";
import type { Selectable } from "kysely";
import type { AppRecord } from "../../core/caller.js";
import { requireCapability } from "../../core/caller.js";
import { type Clock, iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import { newId } from "../../core/ids.js";
import { type Outbox, webhookEvent } from "../../core/outbox.js";
import type { FileStore } from "../../files/port.js";
import type { Store } from "../../store/port.js";
import type { UploadsTable } from "./migrations.js";

type UploadRow = Selectable<UploadsTable>;

/** Who may download a file besides its uploader: the chat module answers (members of a conversation it was sent in). */
export interface DownloadPolicy {
  canDownload(app: AppRecord, identity: string, fileId: string): Promise<boolean>;
}

export interface UploadsDeps {
  store: Store;
  files: FileStore;
  clock: Clock;
  /** Largest upload in bytes (`UPLOAD_LIMITS.maxSize` unless configured lower). */
  maxSize: number;
  /** Seconds an uploaded file that no message references is kept (`UTD_UPLOAD_UNATTACHED_GRACE_S`). */
  unattachedGraceS: number;
  policy: DownloadPolicy;
  /** `upload.created` webhooks, written with the row that marks the file uploaded. */
  outbox?: Outbox | undefined;
}

/**
 * Upload reservations and file tokens. A token is usable only in its uploader's app and only once the
 * bytes are stored with exactly the declared size; downloads are for the uploader and members of a
 * conversation where the file was sent, and so is attaching it to a message (knowing a token is not a
 * right). Reservations count against the plan's per-user and per-app storage quotas; files no message
 * references are deleted after a short grace period.
 */
export class UploadsService {
  constructor(private readonly d: UploadsDeps) {}

  /** `POST /api/v1/uploads`: reserves a file token and presigns where to PUT the bytes. */
  async create(app: AppRecord, identity: string, req: CreateUploadRequest, baseUrl: string): Promise<CreateUploadResponse> {
    requireCapability(app, "chat");
    const contentType = req.content_type.toLowerCase();
    if (!UPLOAD_CONTENT_TYPES[req.kind].test(contentType)) {
      throw ApiError.invalid(`content_type ${req.content_type} is not allowed for kind ${req.kind}`, [
        { path: "body.content_type", message: `not a ${req.kind} type` },
      ]);
    }
    if (req.size > this.d.maxSize) throw new ApiError("payload_too_large", `files may be at most ${this.d.maxSize} bytes`);
    const now = this.d.clock.now();
    await this.checkQuota(app, identity, req.size, now);
    const id = newId("file", now);
    const key = `${app.id}/${id}`;
    const expiresAt = now + UPLOAD_LIMITS.uploadUrlTtlS * 1000;
    await this.d.store.db
      .insertInto("uploads")
      .values({
        id,
        app_id: app.id,
        uploader: identity,
        kind: req.kind,
        filename: req.filename,
        content_type: contentType,
        size: req.size,
        metadata: JSON.stringify(req.metadata ?? {}),
        storage_key: key,
        created_at: now,
        upload_expires_at: expiresAt,
        uploaded_at: null,
      })
      .execute();
    const put = await this.d.files.presignUpload({ key, contentType, size: req.size, expiresAt }, baseUrl);
    return { file_token: id, upload_url: put.url, method: put.method, headers: put.headers, expires_at: iso(expiresAt) };
  }

  /**
   * Refuses (`limit_exceeded`) a reservation that would take the user or the app past its storage quota.
   * Stored files and reservations whose upload URL is still valid both count. Checked at reservation, so
   * concurrent reservations may overshoot by at most their own sizes.
   */
  private async checkQuota(app: AppRecord, identity: string, size: number, now: number): Promise<void> {
    const held = (uploader?: string) => {
      let q = this.d.store.db
        .selectFrom("uploads")
        .select((eb) => eb.fn.coalesce(eb.fn.sum<number>("size"), eb.val(0)).as("bytes"))
        .where("app_id", "=", app.id)
        .where((eb) => eb.or([eb("uploaded_at", "is not", null), eb("upload_expires_at", ">", now)]));
      if (uploader !== undefined) q = q.where("uploader", "=", uploader);
      return q.executeTakeFirstOrThrow().then((r) => Number(r.bytes));
    };
    const perUser = app.limits.max_storage_bytes_per_user;
    if ((await held(identity)) + size > perUser) throw ApiError.limitExceeded("max_storage_bytes_per_user", perUser);
    const perApp = app.limits.max_storage_bytes_per_app;
    if ((await held()) + size > perApp) throw ApiError.limitExceeded("max_storage_bytes_per_app", perApp);
  }

  private async row(appId: string, token: string): Promise<UploadRow | undefined> {
    return this.d.store.db.selectFrom("uploads").selectAll().where("id", "=", token).where("app_id", "=", appId).executeTakeFirst();
  }

  /** Whether the bytes are stored (checked against the file store once, then remembered). */
  private async uploaded(row: UploadRow): Promise<boolean> {
    if (row.uploaded_at !== null) return true;
    const st = await this.d.files.stat(row.storage_key);
    if (!st || st.size !== Number(row.size)) return false;
    const now = this.d.clock.now();
    const first = await this.d.store.db.transaction().execute(async (trx) => {
      const r = await trx
        .updateTable("uploads")
        .set({ uploaded_at: now })
        .where("id", "=", row.id)
        .where("uploaded_at", "is", null)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      const file: UploadInfo = {
        file_token: row.id,
        kind: row.kind as UploadKind,
        filename: row.filename,
        content_type: row.content_type,
        size: Number(row.size),
        metadata: JSON.parse(row.metadata) as UploadMetadata,
        uploaded: true,
        uploader: row.uploader,
        created_at: iso(Number(row.created_at)),
        download_url: null,
        download_expires_at: null,
      };
      await this.d.outbox?.write(trx, webhookEvent(row.app_id, "upload.created", { identity: row.uploader, file }, `user:${row.uploader}`));
      return true;
    });
    if (first) this.d.outbox?.wake();
    row.uploaded_at = now;
    return true;
  }

  /**
   * Turns file tokens into attachments for `identity` to send. Unknown or other apps' tokens are
   * `not_found`; a file the sender neither uploaded nor may download now is `forbidden` (otherwise anyone
   * who learnt a token could re-send it somewhere they read, and download it); unfinished ones `conflict`.
   */
  async resolve(app: AppRecord, identity: string, tokens: readonly string[]): Promise<Attachment[]> {
    const out: Attachment[] = [];
    for (const token of tokens) {
      const row = await this.row(app.id, token);
      if (!row) throw ApiError.notFound(`file ${token}`);
      if (row.uploader !== identity && !(await this.d.policy.canDownload(app, identity, row.id))) {
        throw ApiError.forbidden(`file ${token}: only its uploader and members of a conversation where it was sent may send it`);
      }
      if (!(await this.uploaded(row))) throw ApiError.conflict(`file ${token} has not been uploaded`, "pending");
      out.push({
        file_token: row.id,
        kind: row.kind as UploadKind,
        filename: row.filename,
        content_type: row.content_type,
        size: Number(row.size),
        metadata: JSON.parse(row.metadata) as UploadMetadata,
      });
    }
    return out;
  }

  /** `GET /api/v1/uploads/{file_token}`: the record and, once uploaded, a signed download URL. */
  async info(app: AppRecord, identity: string, token: string, baseUrl: string): Promise<UploadInfo> {
    requireCapability(app, "chat");
    const row = await this.row(app.id, token);
    if (!row) throw ApiError.notFound("file");
    if (row.uploader !== identity && !(await this.d.policy.canDownload(app, identity, row.id))) {
      throw ApiError.forbidden("only the uploader and members of a conversation where this file was sent may download it");
    }
    const uploaded = await this.uploaded(row);
    const exp = this.d.clock.now() + UPLOAD_LIMITS.downloadUrlTtlS * 1000;
    const url = uploaded
      ? await this.d.files.presignDownload(
          { key: row.storage_key, filename: row.filename, contentType: row.content_type, expiresAt: exp },
          baseUrl,
        )
      : null;
    return {
      file_token: row.id,
      kind: row.kind as UploadKind,
      filename: row.filename,
      content_type: row.content_type,
      size: Number(row.size),
      metadata: JSON.parse(row.metadata) as UploadMetadata,
      uploaded,
      uploader: row.uploader,
      created_at: iso(Number(row.created_at)),
      download_url: url,
      download_expires_at: url ? iso(exp) : null,
    };
  }

  /**
   * Deletes files nobody can use any more: reservations never uploaded whose URL expired an hour ago, and
   * uploaded files that no kept message references once they are older than the unattached grace period
   * (never sent, or the messages that carried them were purged). Resolves to the number of files removed.
   */
  async purge(apps: readonly AppRecord[]): Promise<number> {
    const db = this.d.store.db;
    const now = this.d.clock.now();
    const graceCutoff = now - this.d.unattachedGraceS * 1000;
    let removed = 0;
    for (const app of apps) {
      const q = db
        .selectFrom("uploads as u")
        .select(["u.id", "u.storage_key"])
        .where("u.app_id", "=", app.id)
        .where((eb) =>
          eb.or([
            eb.and([eb("u.uploaded_at", "is", null), eb("u.upload_expires_at", "<", now - 3_600_000)]),
            eb.and([
              eb("u.created_at", "<", graceCutoff),
              eb.not(eb.exists(eb.selectFrom("message_files as f").select("f.file_id").whereRef("f.file_id", "=", "u.id"))),
            ]),
          ]),
        );
      for (const row of await q.limit(1000).execute()) {
        await this.d.files.delete(row.storage_key);
        await db.deleteFrom("uploads").where("id", "=", row.id).execute();
        removed++;
      }
    }
    return removed;
  }
}
