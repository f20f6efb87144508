import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensurePrivateDir } from "./private-fs.js";

/** The admin token file the engine writes when `UTD_ADMIN_TOKEN` is not set, so the local CLI can find it. */
export function adminTokenPath(dataDir: string): string {
  return join(dataDir, "admin-token");
}

export function readAdminToken(dataDir: string): string | undefined {
  try {
    return readFileSync(adminTokenPath(dataDir), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Returns the configured token, else the one in the data dir, creating it (mode 0600) on first use. */
export function ensureAdminToken(dataDir: string, configured: string | undefined): string {
  if (configured) return configured;
  const existing = readAdminToken(dataDir);
  if (existing) return existing;
  const token = `adm_${randomBytes(24).toString("base64url")}`;
  ensurePrivateDir(dataDir);
  writeFileSync(adminTokenPath(dataDir), `${token}\n`, { mode: 0o600 });
  return token;
}
