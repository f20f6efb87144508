import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensurePrivateDir } from "./private-fs.js";

/** Engine-wide secrets: the user-token signing key and the key that encrypts app secrets at rest. */
export interface EngineKeys {
  tokenKey: Uint8Array;
  sealKey: Buffer;
}

interface KeyFile {
  token_secret: string;
  master_key: string;
}

/**
 * Loads keys from the environment (`UTD_TOKEN_SECRET`, `UTD_MASTER_KEY`) or from `<dataDir>/keys.json`,
 * generating that file (mode 0600) on first start. Several nodes must share the environment variables.
 */
export function loadKeys(dataDir: string, env: Record<string, string | undefined> = process.env): EngineKeys {
  let file: KeyFile | undefined;
  const path = join(dataDir, "keys.json");
  const need = !env.UTD_TOKEN_SECRET || !env.UTD_MASTER_KEY;
  if (need) {
    try {
      file = JSON.parse(readFileSync(path, "utf8")) as KeyFile;
    } catch {
      file = { token_secret: randomBytes(32).toString("base64url"), master_key: randomBytes(32).toString("base64url") };
      ensurePrivateDir(dataDir);
      writeFileSync(path, JSON.stringify(file), { mode: 0o600, flag: "wx" });
    }
  }
  const tokenSecret = env.UTD_TOKEN_SECRET || file?.token_secret || "";
  const master = env.UTD_MASTER_KEY || file?.master_key || "";
  return {
    tokenKey: new TextEncoder().encode(tokenSecret),
    sealKey: createHash("sha256").update(master).digest(),
  };
}

/** Encrypts a secret for storage (AES-256-GCM). */
export function seal(key: Buffer, plain: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([c.update(plain, "utf8"), c.final()]);
  return `v1.${iv.toString("base64url")}.${c.getAuthTag().toString("base64url")}.${body.toString("base64url")}`;
}

export function unseal(key: Buffer, sealed: string): string {
  const [v, iv, tag, body] = sealed.split(".");
  if (v !== "v1" || !iv || !tag || body === undefined) throw new Error("malformed sealed secret");
  const d = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  d.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([d.update(Buffer.from(body, "base64url")), d.final()]).toString("utf8");
}

/** A one-way fingerprint of a secret, for lookups and audits without keeping the secret readable. */
export function fingerprint(secret: string): string {
  return createHash("sha256").update(secret).digest("base64url");
}
