import { launch, openDemo, startDemoEngine } from "../test/harness.ts";

const engine = await startDemoEngine();
const browser = await launch();
try {
  const c = await engine.admin<{ app_id: string; app_key: string }>("POST", "/admin/v1/apps", { name: "x", plan: "signaling" });
  await engine.admin("PATCH", `/admin/v1/apps/${c.body.app_id}`, { signaling_enabled: false });
  const b = await openDemo(browser, `${engine.url}/?app_id=${c.body.app_id}&app_key=${c.body.app_key}`);
  b.page.on("console", (m) => console.log("[console]", m.text()));
  await b.page.getByTestId("name").fill("frank");
  await b.page.getByTestId("signin-button").click();
  await b.page.waitForTimeout(4000);
  console.log(await b.page.locator("body").innerText());
} finally {
  await browser.close();
  await engine.stop();
}
