import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev -w examples/react-chat` next to a running engine (`npm start`, on :7800 unless UTD_ENGINE_URL
// says otherwise): the API, the WebSocket and the demo app's config are proxied, so the page is same-origin.
const engine = process.env.UTD_ENGINE_URL ?? "http://127.0.0.1:7800";

export default defineConfig({
  plugins: [react()],
  // The workspace SDKs from their TypeScript sources (the "development" export condition).
  resolve: { conditions: ["development", "browser", "module", "import", "default"] },
  server: { proxy: { "/api": { target: engine, ws: true }, "/demo": engine } },
});
