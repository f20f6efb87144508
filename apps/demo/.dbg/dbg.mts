import { launch, openDemo, shot, startDemoEngine } from "../test/harness.ts";

const engine = await startDemoEngine();
const browser = await launch();
try {
  const a = await openDemo(browser, engine.url);
  a.page.on("console", (m) => console.log("[console]", m.type(), m.text()));
  a.page.on("requestfailed", (r) => console.log("[reqfail]", r.url()));
  a.page.on("response", (r) => {
    if (r.status() >= 400) console.log("[resp]", r.status(), r.url());
  });
  await a.page.waitForTimeout(1500);
  console.log((await a.page.content()).slice(0, 1500));
  await a.page.getByTestId("name").fill("alice");
  await a.page.getByTestId("signin-button").click();
  await a.page.waitForTimeout(3000);
  console.log((await a.page.locator("body").innerText()).slice(0, 1500));
  await shot(a.page, "dbg");
} finally {
  await browser.close();
  await engine.stop();
}
