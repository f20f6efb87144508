import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SETTINGS } from "../packages/engine/src/core/settings.js";
import { HAPROXY, has } from "./helpers/backends.js";
import { HAPROXY_TEMPLATE, haproxyConfig } from "./helpers/cluster.js";

const README = readFileSync(new URL("../deploy/README.md", import.meta.url), "utf8");

describe("deploy/", () => {
  it("the README places every engine setting (same on every node, per node, or unused)", () => {
    const missing = SETTINGS.map((s) => s.env).filter((env) => !README.includes(`\`${env}\``));
    expect(missing).toEqual([]);
  });

  it("haproxy.cfg is valid as shipped and with any number of nodes", async (ctx) => {
    const cfg = haproxyConfig(5);
    expect(cfg.match(/^\s*server engine\d+ /gm)).toHaveLength(5);
    expect(cfg).toMatch(/server engine5 "\$\{UTD_ENGINE_5-[^}]+\}" check/);
    if (!(await has("haproxy", "haproxy.cfg check"))) return ctx.skip();
    const dir = mkdtempSync(join(tmpdir(), "utd-haproxy-check-"));
    try {
      writeFileSync(join(dir, "five.cfg"), cfg);
      for (const file of [HAPROXY_TEMPLATE, join(dir, "five.cfg")]) {
        const r = spawnSync(HAPROXY, ["-c", "-f", file], { encoding: "utf8" });
        expect(`${r.status} ${r.stdout}${r.stderr}`).toMatch(/^0 .*valid/s);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
