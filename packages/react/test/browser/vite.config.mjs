// The page of packages/react/test/media.test.ts: the media hooks on a live stream and an audio room.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({ plugins: [react()], resolve: { conditions: ["development", "browser", "module", "import", "default"] } });
