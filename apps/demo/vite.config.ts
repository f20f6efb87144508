import { defineConfig } from "vite";

// The engine serves dist/ at `/` (packages/engine/src/http/static.ts); `npm run dev -w @utd-stream/demo`
// proxies the API to an engine on :7800 for live editing.
export default defineConfig({
  // Resolve the workspace SDKs from their TypeScript sources (the "development" export condition), so the
  // page always matches the SDK code next to it without a separate SDK build step.
  resolve: { conditions: ["development", "browser", "module", "import", "default"] },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", sourcemap: true, chunkSizeWarningLimit: 1024 },
  server: {
    proxy: {
      "/api": { target: "http://127.0.0.1:7800", ws: true },
      "/demo": "http://127.0.0.1:7800",
    },
  },
});
