import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { main } from "../../packages/engine/src/cli.js";

const run = promisify(execFile);
const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const MAIN = join(ROOT, "packages/engine/src/main.ts");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `utd …` in this process (the CLI's `main` with its own environment and captured output): the
 * same code path as the binary without a Node start and a TypeScript transform per call, which made
 * CLI suites of a dozen calls time out on a busy machine. Never throws.
 */
export async function utd(args: string[], env: Record<string, string>): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (s: string) => out.push(`${s}\n`), err: (s: string) => err.push(`${s}\n`) };
  let code: number;
  try {
    code = await main(args, io, { ...process.env, ...env });
  } catch (e) {
    // What Node prints for an uncaught error, and its exit code.
    err.push(`${(e as Error).stack ?? String(e)}\n`);
    code = 1;
  }
  return { code, stdout: out.join(""), stderr: err.join("") };
}

/** Runs `utd …` as its own process from source (exit codes and stdio of the real binary). Never throws. */
export async function utdProcess(args: string[], env: Record<string, string>): Promise<CliResult> {
  try {
    const r = await run(process.execPath, ["--conditions=development", "--import", "tsx", MAIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
