import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../../../test/helpers/browser.js";

const ENTRY = fileURLToPath(new URL("../src/index.ts", import.meta.url));

/** The SDK bundled for the page as one script exposing `window.UTD`. */
export async function bundleSdk(): Promise<string> {
  const out = await build({
    entryPoints: [ENTRY],
    bundle: true,
    format: "iife",
    globalName: "UTD",
    platform: "browser",
    target: "es2022",
    conditions: ["development", "browser"],
    write: false,
    logLevel: "silent",
  });
  const file = out.outputFiles[0];
  if (!file) throw new Error("esbuild produced nothing");
  return file.text;
}

/**
 * Serves a blank page and the SDK bundle, and proxies `/api/*` to the engine, so the page talks to
 * the engine same-origin (as an app served next to its engine would).
 */
export async function servePage(engineUrl: string, sdk: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    if (req.url === "/" || req.url === "/index.html") {
      res.writeHead(200, { "content-type": "text/html" }).end('<!doctype html><html><body><script src="/sdk.js"></script></body></html>');
      return;
    }
    if (req.url === "/sdk.js") {
      res.writeHead(200, { "content-type": "text/javascript" }).end(sdk);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers: Record<string, string> = {};
    for (const h of ["authorization", "content-type"]) if (typeof req.headers[h] === "string") headers[h] = req.headers[h] as string;
    const r = await fetch(`${engineUrl}${req.url}`, {
      method: req.method ?? "GET",
      headers,
      ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
    });
    res
      .writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "application/json" })
      .end(Buffer.from(await r.arrayBuffer()));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((ok) => server.close(() => ok())) };
}

/** Headless Chromium with fake devices. */
export const launch = launchChromium;

/** A fresh page (own context, so its own fake devices and storage) with the SDK loaded. */
export async function openPage(browser: Browser, url: string): Promise<Page> {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  page.on("pageerror", (e) => process.stderr.write(`[page error] ${e.message}\n`));
  await page.goto(url);
  await page.waitForFunction(() => "UTD" in window);
  return page;
}
