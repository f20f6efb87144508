import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

/** Where `npm run build:browser -w @utd-stream/widget` puts the drop-in files (same depth from src/http and dist/http). */
export const WIDGET_DIST = fileURLToPath(new URL("../../../widget/dist/browser", import.meta.url));

/**
 * Serves the chat widget's browser build at `/widget/` when it was built: `utd-widget.js` (the
 * `<utd-chat-widget>` element and `UTDEvents`) and the operator inbox (`/widget/operator.html?app_id=…&app_key=…`).
 * Same origin as the API, so neither needs CORS. Resolves to whether anything is served.
 */
export async function registerWidgetAssets(http: FastifyInstance, dir = WIDGET_DIST): Promise<boolean> {
  if (!existsSync(join(dir, "utd-widget.js"))) return false;
  await http.register(fastifyStatic, {
    root: dir,
    prefix: "/widget/",
    // Only the files present at start get routes, so unknown paths keep the API's JSON 404.
    wildcard: false,
    decorateReply: false,
    cacheControl: false,
    setHeaders(reply) {
      reply.header("cache-control", "no-cache");
    },
  });
  return true;
}
