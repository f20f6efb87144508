import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { utd } from "../../../test/helpers/cli.js";
import { startEngine } from "../../../test/helpers/engine.js";

const list = async (app: string, env: Record<string, string>, extra: string[] = []) =>
  (JSON.parse((await utd(["operator", "list", "--app", app, "--json", ...extra], env)).stdout) as { identity: string }[]).map(
    (o) => o.identity,
  );

describe("utd operator add|remove|list", () => {
  const dir = mkdtempSync(join(tmpdir(), "utd-cli-op-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("on storage, then through the running engine (the operator can claim at once)", async () => {
    // Port 0: no engine answers, so the storage is named explicitly (--data-dir).
    const env = { UTD_PORT: "0", UTD_ADMIN_TOKEN: "" };
    const store = ["--data-dir", dir];
    const app = JSON.parse((await utd(["app", "create", "--name", "Help", "--json", ...store], env)).stdout) as {
      app_id: string;
      app_key: string;
    };
    expect((await utd(["operator", "add", "--app", app.app_id, "--identity", "olga", ...store], env)).code).toBe(0);
    expect(await list(app.app_id, env, store)).toEqual(["olga"]);
    // Refusals: missing flags (usage, 2), unknown app, removing a non-operator (1); nothing changes.
    expect((await utd(["operator", "add", "--app", app.app_id, ...store], env)).code).toBe(2);
    const unknown = await utd(["operator", "add", "--app", "app_nope", "--identity", "x", ...store], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("not_found");
    expect((await utd(["operator", "remove", "--app", app.app_id, "--identity", "nobody", ...store], env)).stderr).toContain("not_found");
    expect(await list(app.app_id, env, store)).toEqual(["olga"]);

    const engine = await startEngine({ dataDir: dir });
    try {
      const live = { UTD_DATA_DIR: dir, UTD_PORT: new URL(engine.url).port, UTD_ADMIN_TOKEN: engine.adminToken };
      expect((await utd(["operator", "add", "--app", app.app_id, "--identity", "oscar"], live)).code).toBe(0);
      expect(await list(app.app_id, live)).toEqual(["olga", "oscar"]);
      const visitor = (await engine.session({ ...app, app_secret: "" }, "vera")).user_token;
      const oscar = (await engine.session({ ...app, app_secret: "" }, "oscar")).user_token;
      const conv = (await engine.request<{ id: string }>("POST", "/api/v1/support/conversations", { token: visitor, body: {} })).body;
      const claim = await engine.request<{ assignee: string }>("POST", `/api/v1/support/conversations/${conv.id}/claim`, { token: oscar });
      expect(claim.body.assignee).toBe("oscar");
      expect((await utd(["operator", "remove", "--app", app.app_id, "--identity", "olga"], live)).code).toBe(0);
      expect(await list(app.app_id, live)).toEqual(["oscar"]);
    } finally {
      await engine.stop();
    }
  });
});
