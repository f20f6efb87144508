import { defineConfig } from "vite";

// The engine serves dist/ at `/console/` (packages/engine/src/http/static.ts); `npm run dev -w @utd-stream/console`
// proxies the API to an engine on :7800 for live editing.
export default defineConfig({
  base: "/console/",
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", sourcemap: true, assetsInlineLimit: 0 },
  server: {
    proxy: {
      "/admin": "http://127.0.0.1:7800",
      "/console/v1": "http://127.0.0.1:7800",
    },
  },
});
