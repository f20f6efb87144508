import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import type { FindApp } from "../core/caller.js";
import { ApiError } from "../core/errors.js";

/** Where `npm run build` puts the demo page (same depth from src/http and dist/http). */
export const DEMO_DIST = fileURLToPath(new URL("../../../../apps/demo/dist", import.meta.url));

export interface DemoPageOptions {
  /** The built page; default `UTD_DEMO_DIR`, else {@link DEMO_DIST}. Nothing is served when it has no index.html. */
  dir?: string;
  /** Engine running with `--demo`: also answer `GET /demo/config.json`. */
  demo?: { findApp: FindApp; dataDir: string; livekit: boolean };
}

/**
 * Serves the built demo page at `/` (when it was built) and, in demo mode, the demo app's publishable
 * id and key at `GET /demo/config.json`. The demo app is open-mode and its key is publishable by design,
 * so handing it to any browser is what the page needs and no secret leaves the engine.
 */
export async function registerDemoPage(http: FastifyInstance, opts: DemoPageOptions = {}): Promise<boolean> {
  // UTD_DEMO_DIR lets tests serve a build of their own (parallel test files must not share one dist/).
  const root = opts.dir ?? process.env.UTD_DEMO_DIR ?? DEMO_DIST;
  const demo = opts.demo;
  if (demo) {
    http.get("/demo/config.json", { schema: { hide: true } }, async (_req, reply) => {
      // cli.ts writes demo-app.json once the engine listens; read it per request (tiny, rare).
      let appId: string | undefined;
      try {
        appId = (JSON.parse(readFileSync(join(demo.dataDir, "demo-app.json"), "utf8")) as { app_id?: string }).app_id;
      } catch {
        appId = undefined;
      }
      const app = appId ? await demo.findApp(appId) : undefined;
      if (!app) throw ApiError.notFound("demo app");
      reply.header("cache-control", "no-store");
      return { app_id: app.id, app_key: app.key, livekit: demo.livekit };
    });
  }
  if (!existsSync(join(root, "index.html"))) return false;
  await http.register(fastifyStatic, {
    root,
    prefix: "/",
    // Only the files present at start get routes, so unknown paths keep the API's JSON 404.
    wildcard: false,
    decorateReply: false,
    cacheControl: false,
    setHeaders(reply, path) {
      // Vite names assets by content hash: cache them for good, but always revalidate the page itself.
      reply.header("cache-control", path.startsWith(join(root, "assets")) ? "public, max-age=31536000, immutable" : "no-cache");
    },
  });
  return true;
}

/** Where `npm run build` puts the operator console (same depth from src/http and dist/http). */
export const CONSOLE_DIST = fileURLToPath(new URL("../../../../apps/console/dist", import.meta.url));

/**
 * Serves the built operator console at `/console/` (`/console` redirects there) when it was built
 * (`dir`, else `UTD_CONSOLE_DIR`, else {@link CONSOLE_DIST}). The page may not be framed, and loads
 * nothing from elsewhere.
 */
export async function registerConsolePage(http: FastifyInstance, opts: { dir?: string } = {}): Promise<boolean> {
  const root = opts.dir ?? process.env.UTD_CONSOLE_DIR ?? CONSOLE_DIST;
  if (!existsSync(join(root, "index.html"))) return false;
  http.get("/console", { schema: { hide: true } }, async (_req, reply) => reply.redirect("/console/", 302));
  await http.register(fastifyStatic, {
    root,
    prefix: "/console/",
    wildcard: false,
    decorateReply: false,
    cacheControl: false,
    setHeaders(reply, path) {
      reply.header("cache-control", path.startsWith(join(root, "assets")) ? "public, max-age=31536000, immutable" : "no-cache");
      reply.header(
        "content-security-policy",
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
      );
      reply.header("x-frame-options", "DENY");
      reply.header("referrer-policy", "no-referrer");
    },
  });
  return true;
}
