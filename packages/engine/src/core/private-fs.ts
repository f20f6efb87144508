import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";

/**
 * Creates `dir` (and missing parents) readable by the engine's user only (0700). An existing directory
 * keeps its mode: the operator chose it; the files the engine writes inside are private on their own.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/**
 * Makes `file` exist with mode 0600, and tightens it (and its SQLite `-wal`/`-shm` companions, which
 * SQLite creates with the main file's mode) when an older engine left it world-readable.
 */
export function ensurePrivateFile(file: string, companions: readonly string[] = []): void {
  closeSync(openSync(file, "a", 0o600));
  for (const f of [file, ...companions.map((c) => `${file}${c}`)]) {
    if (existsSync(f)) chmodSync(f, 0o600);
  }
}
