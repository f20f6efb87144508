#!/usr/bin/env node
// `npm start`: the engine on embedded defaults (SQLite in ./.utd, in-process bus) with a demo app,
// plus LiveKit when one is configured (LIVEKIT_URL…) or installed locally by scripts/livekit/install.sh.
// It owns what it starts: on Ctrl-C (or when the engine exits) it stops the LiveKit it started, and
// leaves alone one it found already running (scripts/livekit/start.sh reuses a healthy one).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const env = { ...process.env };
const port = env.UTD_PORT || "7800";

const cache = env.UTD_LIVEKIT_CACHE || join(homedir(), ".cache", "utd-livekit");
const livekitPort = env.LIVEKIT_PORT || "7880";
/** Set when this process started the LiveKit server (its pid), so only that one is stopped on exit. */
let ownedLiveKit;

function localLiveKit() {
  if (!existsSync(cache)) return false;
  return readdirSync(cache).some((d) => existsSync(join(cache, d, "livekit-server")));
}

if (env.LIVEKIT_URL) {
  console.error(`[start] using the configured LiveKit at ${env.LIVEKIT_URL}`);
} else if (localLiveKit()) {
  console.error(`[start] found a local LiveKit build; starting it on 127.0.0.1:${livekitPort} …`);
  const before = livekitPid();
  try {
    const out = execFileSync(join(root, "scripts/livekit/start.sh"), {
      env: { ...env, UTD_WEBHOOK_URL: `http://127.0.0.1:${port}/api/v1/livekit/webhook` },
      stdio: ["ignore", "pipe", "inherit"],
      encoding: "utf8",
    });
    for (const line of out.split("\n")) {
      const m = /^(LIVEKIT_URL|LIVEKIT_API_KEY|LIVEKIT_API_SECRET)=(.*)$/.exec(line.trim());
      if (m) env[m[1]] = m[2].replace(/^'(.*)'$/, "$1");
    }
    const after = livekitPid();
    if (after && after !== before) ownedLiveKit = after;
    else if (after) console.error(`[start] LiveKit was already running (pid ${after}); it is left running on exit.`);
  } catch {
    console.error("[start] LiveKit did not start (see above); continuing without media.");
  }
} else {
  console.error(
    "[start] no LiveKit configured: chat, presence and call ringing work; media endpoints answer media_unavailable.\n" +
      "        To enable media, install and start a local LiveKit server (Go required, a few minutes once):\n" +
      "          scripts/livekit/install.sh && npm start\n" +
      "        or point the engine at yours: LIVEKIT_URL=ws://… LIVEKIT_API_KEY=… LIVEKIT_API_SECRET=… npm start",
  );
}

/** The pid start.sh recorded for this port's server, when that process is alive. */
function livekitPid() {
  try {
    const pid = Number(readFileSync(join(cache, "run", livekitPort, "livekit.pid"), "utf8").trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Stops the LiveKit this process started (stop.sh checks the pid is still that server). */
function stopOwnedLiveKit() {
  if (!ownedLiveKit || livekitPid() !== ownedLiveKit) return;
  console.error(`[start] stopping the LiveKit it started (pid ${ownedLiveKit}) …`);
  try {
    execFileSync(join(root, "scripts/livekit/stop.sh"), {
      env: { ...process.env, UTD_LIVEKIT_CACHE: cache, LIVEKIT_PORT: livekitPort },
      stdio: ["ignore", "ignore", "inherit"],
    });
  } catch {
    console.error("[start] could not stop LiveKit: see above (scripts/livekit/stop.sh stops it by hand).");
  }
  ownedLiveKit = undefined;
}

const child = spawn(process.execPath, [join(root, "packages/engine/bin/utd.js"), "serve", "--demo"], { env, stdio: "inherit" });
// Ctrl-C reaches the engine too (same process group); forwarding covers `kill <pid of npm start>`.
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => {
  stopOwnedLiveKit();
  process.exit(code ?? (signal ? 0 : 1));
});

// The demo page (apps/demo, built by `npm run build`): print its address once the engine answers.
const pageHost = !env.UTD_HOST || env.UTD_HOST === "0.0.0.0" || env.UTD_HOST === "::" ? "127.0.0.1" : env.UTD_HOST;
const pageUrl = `http://${pageHost.includes(":") ? `[${pageHost}]` : pageHost}:${port}/`;
(async () => {
  for (let i = 0; i < 240 && child.exitCode === null; i++) {
    const up = await fetch(`${pageUrl}healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) {
      const built = existsSync(join(root, "apps/demo/dist/index.html"));
      console.error(
        built
          ? `\n  ▶ Demo page: ${pageUrl}  — open it in two browser windows and sign in as two people.\n`
          : "\n  Demo page not built: run `npm run build` (it builds apps/demo) and restart.\n",
      );
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
})();
