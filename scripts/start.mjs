#!/usr/bin/env node
// `npm start`: the engine on embedded defaults (SQLite in ./.utd, in-process bus) with a demo app,
// plus LiveKit when one is configured (LIVEKIT_URL…) or installed locally by scripts/livekit/install.sh.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const env = { ...process.env };
const port = env.UTD_PORT || "7800";

function localLiveKit() {
  const cache = env.UTD_LIVEKIT_CACHE || join(homedir(), ".cache", "utd-livekit");
  if (!existsSync(cache)) return false;
  return readdirSync(cache).some((d) => existsSync(join(cache, d, "livekit-server")));
}

if (env.LIVEKIT_URL) {
  console.error(`[start] using the configured LiveKit at ${env.LIVEKIT_URL}`);
} else if (localLiveKit()) {
  console.error("[start] found a local LiveKit build; starting it on 127.0.0.1:7880 …");
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

const child = spawn(process.execPath, [join(root, "packages/engine/bin/utd.js"), "serve", "--demo"], { env, stdio: "inherit" });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 0 : 1)));

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
