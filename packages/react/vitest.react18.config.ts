// The unit tests of @utd-stream/react a second time, on React 18: `react` and `react-dom` resolve to the
// copies in test/react18 (a private workspace pinned to 18.3.1), and @testing-library/react is bundled
// through Vite so its own imports of React follow the alias too.
// Run: npx vitest run --config packages/react/vitest.react18.config.ts
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const R18 = join(ROOT, "test/react18/node_modules");

export default defineConfig({
  root: ROOT,
  resolve: {
    conditions: ["development"],
    alias: [
      // Its ES module build (the package's `main` is CommonJS, whose `require("react")` no alias reaches).
      {
        find: /^@testing-library\/react$/,
        replacement: join(ROOT, "node_modules/@testing-library/react/dist/@testing-library/react.esm.js"),
      },
      { find: /^react-dom(\/.*)?$/, replacement: `${R18}/react-dom$1` },
      { find: /^react(\/.*)?$/, replacement: `${R18}/react$1` },
    ],
  },
  ssr: { resolve: { conditions: ["development"] } },
  test: {
    include: ["packages/react/test/**/*.test.tsx"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 1,
    server: { deps: { inline: [/@testing-library\/react/] } },
  },
});
