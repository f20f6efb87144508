import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { arch, platform, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { has, LIVEKIT_BIN, LIVEKIT_VERSION } from "./helpers/backends.js";

// scripts/livekit/install.sh's download path against a local HTTP server that serves a release-style
// archive and checksum file built here from the Go-built binary: a good archive is installed, a
// corrupted one is refused, an unreachable host falls back to the Go build. PATH is stripped of Go in
// the fallback cases so they say what they would do without spending minutes compiling.
const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const INSTALL = join(ROOT, "scripts/livekit/install.sh");
const VER = LIVEKIT_VERSION.replace(/^v/, "");
const OS = platform() === "darwin" ? "darwin" : "linux";
const ARCH = arch() === "x64" ? "amd64" : arch();
const ARCHIVE = `livekit_${VER}_${OS}_${ARCH}.tar.gz`;
const SUMS = `livekit_${VER}_checksums.txt`;

/** PATH without any directory holding `go`. */
const NO_GO_PATH = (process.env.PATH ?? "")
  .split(":")
  .filter((d) => d && !existsSync(join(d, "go")))
  .join(":");

function install(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    execFile("bash", [INSTALL], { env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) =>
      ok({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe.skipIf(!(await has("livekit", "LiveKit install tests")))("LiveKit install: release download with checksum, Go fallback", () => {
  const dir = mkdtempSync(join(tmpdir(), "utd-lk-install-"));
  const served = join(dir, "served");
  let server: Server;
  let base: string;
  const files = new Map<string, Buffer>();

  beforeAll(async () => {
    // A release-style archive: livekit-server at the root, and goreleaser's "<sha256>  <name>" file.
    mkdirSync(join(served, "pkg"), { recursive: true });
    copyFileSync(LIVEKIT_BIN, join(served, "pkg/livekit-server"));
    execFileSync("tar", ["-czf", join(served, ARCHIVE), "-C", join(served, "pkg"), "livekit-server"]);
    const good = readFileSync(join(served, ARCHIVE));
    const sum = createHash("sha256").update(good).digest("hex");
    files.set(`/good/${LIVEKIT_VERSION}/${ARCHIVE}`, good);
    files.set(`/good/${LIVEKIT_VERSION}/${SUMS}`, Buffer.from(`${"0".repeat(64)}  livekit_${VER}_windows_amd64.zip\n${sum}  ${ARCHIVE}\n`));
    // Corrupted: one byte flipped in the middle, served with the genuine checksum.
    const bad = Buffer.from(good);
    bad[bad.length >> 1] = (bad[bad.length >> 1] ?? 0) ^ 0xff;
    files.set(`/corrupt/${LIVEKIT_VERSION}/${ARCHIVE}`, bad);
    files.set(`/corrupt/${LIVEKIT_VERSION}/${SUMS}`, Buffer.from(`${sum}  ${ARCHIVE}\n`));
    server = createServer((req, res) => {
      const body = files.get(req.url ?? "");
      if (!body) res.writeHead(404).end();
      else res.writeHead(200, { "content-length": body.length }).end(body);
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", () => ok()));
    const a = server.address();
    base = `http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}`;
  });
  afterAll(async () => {
    await new Promise<void>((ok) => server.close(() => ok()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("installs the verified release archive and says it took the download path", async () => {
    const cache = join(dir, "cache-good");
    const r = await install({ UTD_LIVEKIT_CACHE: cache, UTD_LIVEKIT_DOWNLOAD_URL: `${base}/good`, PATH: NO_GO_PATH });
    expect(r.stderr).toContain("checksum ok");
    expect(r.stderr).toContain("path: download");
    expect(r.code).toBe(0);
    const bin = r.stdout.trim();
    expect(bin).toBe(join(cache, LIVEKIT_VERSION, "livekit-server"));
    expect(execFileSync(bin, ["--version"]).toString()).toContain(VER);
    // Second run: already there, nothing fetched.
    const again = await install({ UTD_LIVEKIT_CACHE: cache, UTD_LIVEKIT_DOWNLOAD_URL: "http://127.0.0.1:1", PATH: NO_GO_PATH });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("already installed");
  });

  it("refuses a corrupted archive, installs nothing from it and falls back to the Go build", async () => {
    const cache = join(dir, "cache-corrupt");
    const r = await install({ UTD_LIVEKIT_CACHE: cache, UTD_LIVEKIT_DOWNLOAD_URL: `${base}/corrupt`, PATH: NO_GO_PATH });
    expect(r.stderr).toContain(`checksum mismatch for ${ARCHIVE}`);
    expect(r.stderr).toContain("falling back to the Go build");
    expect(r.stderr).toContain("'go' not found");
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(existsSync(join(cache, LIVEKIT_VERSION, "livekit-server"))).toBe(false);
  });

  it("falls back to the Go build when the release host is unreachable or lacks the archive", async () => {
    for (const url of ["http://127.0.0.1:1", `${base}/missing`]) {
      const cache = join(dir, `cache-${url.length}`);
      const r = await install({ UTD_LIVEKIT_CACHE: cache, UTD_LIVEKIT_DOWNLOAD_URL: url, PATH: NO_GO_PATH });
      expect(r.stderr).toContain("download: unreachable or incomplete");
      expect(r.stderr).toContain("falling back to the Go build (path: go build)");
      expect(r.code).not.toBe(0);
      expect(existsSync(join(cache, LIVEKIT_VERSION, "livekit-server"))).toBe(false);
    }
  });

  it("a checksum file without the archive's line is refused", async () => {
    files.set(`/nosum/${LIVEKIT_VERSION}/${ARCHIVE}`, files.get(`/good/${LIVEKIT_VERSION}/${ARCHIVE}`) as Buffer);
    files.set(`/nosum/${LIVEKIT_VERSION}/${SUMS}`, Buffer.from(`${"a".repeat(64)}  other.tar.gz\n`));
    const r = await install({ UTD_LIVEKIT_CACHE: join(dir, "cache-nosum"), UTD_LIVEKIT_DOWNLOAD_URL: `${base}/nosum`, PATH: NO_GO_PATH });
    expect(r.stderr).toContain(`lists no checksum for ${ARCHIVE}`);
    expect(r.code).not.toBe(0);
  });
});
