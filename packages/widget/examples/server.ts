/**
 * Serves the widget examples: the host page (a shop reacting to live-chat events with the widget
 * closed) and the operator inbox, bundled from source with esbuild. It also plays "your backend":
 * `GET /backend/jwt?identity=…` signs a short-lived identity token with the app secret (never do this
 * in a browser). `/api/*` is proxied to the engine so the pages call it same-origin.
 *
 *   npx tsx packages/widget/examples/server.ts --engine http://127.0.0.1:7800 \
 *     --app-id app_… --app-key pk_… --app-secret sk_… [--port 7900]
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

export interface ExampleServerOptions {
  engineUrl: string;
  appId: string;
  appKey: string;
  appSecret: string;
  port?: number;
}

export interface ExampleServer {
  url: string;
  /** How many sessions were minted through the proxy (a reload that needs no new login adds none). */
  stats: { sessionMints: number };
  /** Signs an identity token like the example backend does (`expInS` may be negative: already expired). */
  jwt(identity: string, expInS?: number): string;
  close(): Promise<void>;
}

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** HS256 JWT with the app secret: what an app's backend does for signed mode. */
export function signIdentityToken(secret: string, identity: string, expInS = 300): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const head = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub: identity, iat: now + Math.min(0, expInS) - 1, exp: now + expInS })}`;
  return `${head}.${createHmac("sha256", secret).update(head).digest("base64url")}`;
}

async function bundle(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [here(entry)],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    conditions: ["development", "browser"],
    write: false,
    logLevel: "silent",
  });
  const file = out.outputFiles[0];
  if (!file) throw new Error(`esbuild produced nothing for ${entry}`);
  return file.text;
}

/** Starts the example server; resolves once it listens. */
export async function startExampleServer(o: ExampleServerOptions): Promise<ExampleServer> {
  const [hostJs, operatorJs] = await Promise.all([bundle("./host.ts"), bundle("./operator.ts")]);
  const pages: Record<string, string> = {
    "/": readFileSync(here("./host.html"), "utf8"),
    "/host.html": readFileSync(here("./host.html"), "utf8"),
    "/operator.html": readFileSync(here("./operator.html"), "utf8"),
  };
  const config = `window.UTD_EXAMPLE = ${JSON.stringify({ appId: o.appId, appKey: o.appKey })};`;
  const stats = { sessionMints: 0 };
  let self = "";
  const server: Server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://x");
      const page = pages[url.pathname];
      if (page !== undefined) {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
        return;
      }
      const js: Record<string, string> = { "/host.js": hostJs, "/operator.js": operatorJs, "/config.js": config };
      const script = js[url.pathname];
      if (script !== undefined) {
        res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(script);
        return;
      }
      if (url.pathname === "/backend/jwt") {
        const identity = url.searchParams.get("identity") ?? "";
        if (!/^[A-Za-z0-9._:@-]{1,128}$/.test(identity)) {
          res.writeHead(400).end("bad identity");
          return;
        }
        const exp = Number(url.searchParams.get("exp") ?? "300");
        res
          .writeHead(200, { "content-type": "text/plain" })
          .end(signIdentityToken(o.appSecret, identity, Number.isFinite(exp) ? exp : 300));
        return;
      }
      if (!url.pathname.startsWith("/api/")) {
        res.writeHead(404).end("not found");
        return;
      }
      if (url.pathname === "/api/v1/auth/session") stats.sessionMints++;
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers: Record<string, string> = {};
      for (const h of ["authorization", "content-type"]) if (typeof req.headers[h] === "string") headers[h] = req.headers[h] as string;
      const r = await fetch(`${o.engineUrl}${req.url}`, {
        method: req.method ?? "GET",
        headers,
        ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
      });
      let out = Buffer.from(await r.arrayBuffer());
      // Signed upload/download URLs name the engine; point them at this origin too (the engine sends no CORS headers).
      if (url.pathname.startsWith("/api/v1/uploads")) out = Buffer.from(out.toString("utf8").replaceAll(o.engineUrl, self));
      res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "application/json" }).end(out);
    } catch (err) {
      res.writeHead(502).end(String(err));
    }
  });
  await new Promise<void>((ok) => server.listen(o.port ?? 0, "127.0.0.1", ok));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  self = `http://127.0.0.1:${port}`;
  return {
    url: self,
    stats,
    jwt: (identity, expInS) => signIdentityToken(o.appSecret, identity, expInS),
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      engine: { type: "string", default: "http://127.0.0.1:7800" },
      "app-id": { type: "string" },
      "app-key": { type: "string" },
      "app-secret": { type: "string" },
      port: { type: "string", default: "7900" },
    },
  });
  if (!values["app-id"] || !values["app-key"] || !values["app-secret"]) {
    process.stderr.write("usage: server.ts --engine URL --app-id ID --app-key KEY --app-secret SECRET [--port N]\n");
    process.exit(2);
  }
  const s = await startExampleServer({
    engineUrl: values.engine as string,
    appId: values["app-id"],
    appKey: values["app-key"],
    appSecret: values["app-secret"],
    port: Number(values.port),
  });
  process.stdout.write(`host page:      ${s.url}/host.html\noperator inbox: ${s.url}/operator.html\n`);
}
