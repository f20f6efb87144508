import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const WATCHDOG = fileURLToPath(new URL("../src/core/exit-watchdog.ts", import.meta.url));

/**
 * The exit deadline does not depend on the event loop (issue 15): a process whose main thread never
 * yields again (here a busy loop; in the field a write blocked on a stalled pipe) is still killed by the
 * watchdog thread at its deadline.
 */
it("kills a process whose main thread is stuck, at the deadline", async () => {
  const code = `import { armExitWatchdog } from ${JSON.stringify(WATCHDOG)};
armExitWatchdog(300);
process.stdout.write("armed\\n");
for (;;) {}`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
    child.once("exit", (c, signal) => ok({ code: c, signal })),
  );
  expect(out).toBe("armed\n");
  expect(exit).toEqual({ code: null, signal: "SIGKILL" });
});
