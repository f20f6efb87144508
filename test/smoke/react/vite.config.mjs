// The React page of the pack-and-install smoke test: a fresh Vite + React app as `npm create vite` makes one.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({ plugins: [react()] });
