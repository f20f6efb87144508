import { createPublicKey } from "node:crypto";
import {
  type PushCredentialInfo,
  type PushProvider,
  type SetApnsCredentialsRequest,
  SetApnsCredentialsRequestSchema,
  type SetFcmCredentialsRequest,
  SetFcmCredentialsRequestSchema,
  type SetVapidCredentialsRequest,
} from "@utd-stream/protocol/schemas";
import { type Clock, iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import { fingerprint, seal, unseal } from "../../core/keys.js";
import type { ApnsCredentials, FcmCredentials, VapidCredentials } from "../../push/port.js";
import type { Store } from "../../store/port.js";

export interface AppPushCredentials {
  apns?: ApnsCredentials;
  fcm?: FcmCredentials;
  vapid?: VapidCredentials;
}

/** Checks that a PEM private key parses, so a typo is refused when set rather than at the first push. */
function requireKey(pem: string, path: string, type: "ec" | "rsa"): void {
  try {
    const k = createPublicKey(pem);
    if (k.asymmetricKeyType !== type) throw new Error(`expected an ${type.toUpperCase()} key`);
  } catch (err) {
    throw ApiError.invalid(`${path} is not a usable private key`, [{ path, message: err instanceof Error ? err.message : "unreadable" }]);
  }
}

/**
 * Per-app provider credentials, sealed with the master key (AES-256-GCM, like app secrets). They are never
 * returned once set: the admin API shows a fingerprint and the non-secret identifiers only.
 */
export class PushCredentials {
  private readonly cache = new Map<string, { at: number; creds: AppPushCredentials }>();

  constructor(
    private readonly store: Store,
    private readonly sealKey: Buffer,
    private readonly clock: Clock,
    /** Told when an app's credentials change (senders drop their cached sessions and tokens). */
    private readonly changed: (appId: string) => void = () => {},
  ) {}

  async setApns(appId: string, input: SetApnsCredentialsRequest): Promise<PushCredentialInfo> {
    const req = SetApnsCredentialsRequestSchema.parse(input);
    requireKey(req.key_p8, "body.key_p8", "ec");
    const creds: ApnsCredentials = {
      keyP8: req.key_p8,
      keyId: req.key_id,
      teamId: req.team_id,
      bundleId: req.bundle_id,
      production: req.production,
    };
    return this.put(appId, "apns", creds, req.key_p8, {
      key_id: req.key_id,
      team_id: req.team_id,
      bundle_id: req.bundle_id,
      production: req.production,
    });
  }

  async setFcm(appId: string, input: SetFcmCredentialsRequest): Promise<PushCredentialInfo> {
    const req = SetFcmCredentialsRequestSchema.parse(input);
    requireKey(req.private_key, "body.private_key", "rsa");
    const creds: FcmCredentials = {
      projectId: req.project_id,
      clientEmail: req.client_email,
      privateKey: req.private_key,
      tokenUri: req.token_uri,
    };
    return this.put(appId, "fcm", creds, req.private_key, {
      project_id: req.project_id,
      client_email: req.client_email,
      token_uri: req.token_uri,
    });
  }

  async setVapid(appId: string, req: SetVapidCredentialsRequest): Promise<PushCredentialInfo> {
    const pub = Buffer.from(req.public_key, "base64url");
    const priv = Buffer.from(req.private_key, "base64url");
    if (pub.length !== 65 || pub[0] !== 4)
      throw ApiError.invalid("public_key must be an uncompressed P-256 point (65 bytes)", [
        { path: "body.public_key", message: "not 65 bytes starting 0x04" },
      ]);
    if (priv.length !== 32) throw ApiError.invalid("private_key must be 32 bytes", [{ path: "body.private_key", message: "not 32 bytes" }]);
    const creds: VapidCredentials = { publicKey: req.public_key, privateKey: req.private_key, subject: req.subject };
    return this.put(appId, "vapid", creds, req.private_key, { public_key: req.public_key, subject: req.subject });
  }

  private async put(
    appId: string,
    provider: PushProvider,
    creds: ApnsCredentials | FcmCredentials | VapidCredentials,
    secret: string,
    details: Record<string, string | boolean>,
  ): Promise<PushCredentialInfo> {
    const now = this.clock.now();
    const row = {
      app_id: appId,
      provider,
      sealed: seal(this.sealKey, JSON.stringify(creds)),
      fingerprint: fingerprint(secret).slice(0, 16),
      details: JSON.stringify(details),
      updated_at: now,
    };
    await this.store.db
      .insertInto("push_credentials")
      .values(row)
      .onConflict((oc) =>
        oc
          .columns(["app_id", "provider"])
          .doUpdateSet({ sealed: row.sealed, fingerprint: row.fingerprint, details: row.details, updated_at: now }),
      )
      .execute();
    this.cache.delete(appId);
    this.changed(appId);
    return { provider, fingerprint: row.fingerprint, details, updated_at: iso(now) };
  }

  /** Removes one provider's credentials; `not_found` when none were set. */
  async remove(appId: string, provider: PushProvider): Promise<void> {
    const r = await this.store.db
      .deleteFrom("push_credentials")
      .where("app_id", "=", appId)
      .where("provider", "=", provider)
      .executeTakeFirst();
    this.cache.delete(appId);
    this.changed(appId);
    if (Number(r.numDeletedRows) === 0) throw ApiError.notFound(`${provider} credentials`);
  }

  /** What the admin API shows: fingerprints and identifiers, never the keys. */
  async info(appId: string): Promise<PushCredentialInfo[]> {
    const rows = await this.store.db.selectFrom("push_credentials").selectAll().where("app_id", "=", appId).orderBy("provider").execute();
    return rows.map((r) => ({
      provider: r.provider as PushProvider,
      fingerprint: r.fingerprint,
      details: JSON.parse(r.details) as Record<string, string | boolean>,
      updated_at: iso(r.updated_at),
    }));
  }

  /** The decrypted credentials of an app (cached for a few seconds: several nodes may change them). */
  async forApp(appId: string): Promise<AppPushCredentials> {
    const now = this.clock.now();
    const hit = this.cache.get(appId);
    if (hit && now - hit.at < 5000) return hit.creds;
    const rows = await this.store.db.selectFrom("push_credentials").select(["provider", "sealed"]).where("app_id", "=", appId).execute();
    const creds: AppPushCredentials = {};
    for (const r of rows) {
      const v = JSON.parse(unseal(this.sealKey, r.sealed)) as never;
      if (r.provider === "apns") creds.apns = v;
      else if (r.provider === "fcm") creds.fcm = v;
      else if (r.provider === "vapid") creds.vapid = v;
    }
    this.cache.set(appId, { at: now, creds });
    return creds;
  }
}
