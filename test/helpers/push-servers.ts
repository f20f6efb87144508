/**
 * Loopback stand-ins for the push providers, speaking their real protocols so the engine's senders are
 * tested end to end: an HTTP/2 TLS server that checks APNs provider tokens (ES256), an FCM v1 endpoint with
 * its OAuth token endpoint (JWT-bearer grant, RS256), and a Web Push service that verifies VAPID and
 * decrypts `aes128gcm` bodies (RFC 8291) with the subscription's private key — written here from the RFC,
 * independently of the `web-push` library the engine uses.
 */
import { execFileSync } from "node:child_process";
import { createDecipheriv, createECDH, createPublicKey, generateKeyPairSync, hkdfSync, type KeyObject, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import http2 from "node:http2";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeProtectedHeader, importSPKI, jwtVerify } from "jose";

export interface Tls {
  key: string;
  cert: string;
  /** The certificate file: give it to the engine as UTD_PUSH_CA_FILE. */
  caFile: string;
}

/** A self-signed certificate for 127.0.0.1 and localhost (openssl). */
export function selfSignedTls(): Tls {
  const dir = mkdtempSync(join(tmpdir(), "utd-tls-"));
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ],
    { stdio: "ignore" },
  );
  return { key: readFileSync(keyFile, "utf8"), cert: readFileSync(certFile, "utf8"), caFile: certFile };
}

function body(req: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

// ---------------------------------------------------------------- APNs

export interface ApnsKeys {
  keyP8: string;
  publicKey: KeyObject;
  keyId: string;
  teamId: string;
  bundleId: string;
}

/** A fresh APNs signing key (.p8 = PKCS#8 P-256) with ids. */
export function apnsKeys(): ApnsKeys {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return {
    keyP8: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKey,
    keyId: "KEY1234567",
    teamId: "TEAM123456",
    bundleId: "com.example.utd",
  };
}

export interface ApnsPush {
  token: string;
  headers: Record<string, string>;
  payload: Record<string, unknown>;
}

export interface ApnsServer {
  host: string;
  pushes: ApnsPush[];
  /** Requests refused for a bad provider token or headers, with the reason APNs would give. */
  refused: string[];
  /** Tokens answered 410 Unregistered. */
  unregistered: Set<string>;
  /** While set, every request gets this status (e.g. 503) and is not counted as delivered. */
  failWith: number | undefined;
  /** Answer each accepted push after this long (it is recorded on arrival, as APNs would deliver it). */
  delayMs: number;
  close(): Promise<void>;
}

export async function startApnsServer(tls: Tls, keys: ApnsKeys): Promise<ApnsServer> {
  const state: ApnsServer = {
    host: "",
    pushes: [],
    refused: [],
    unregistered: new Set(),
    failWith: undefined,
    delayMs: 0,
    close: async () => {},
  };
  const server = http2.createSecureServer({ key: tls.key, cert: tls.cert });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  server.on("stream", (stream, headers) => {
    void (async () => {
      const raw = await body(stream);
      const reply = (status: number, reason?: string) => {
        stream.respond({ ":status": status, "apns-id": String(headers["apns-id"] ?? "") });
        stream.end(reason ? JSON.stringify({ reason }) : undefined);
      };
      const path = String(headers[":path"]);
      const m = /^\/3\/device\/([0-9a-f]+)$/.exec(path);
      if (headers[":method"] !== "POST" || !m) return reply(404, "BadPath");
      const auth = String(headers.authorization ?? "");
      const jwt = /^bearer (.+)$/.exec(auth)?.[1];
      if (!jwt) {
        state.refused.push("MissingProviderToken");
        return reply(403, "MissingProviderToken");
      }
      try {
        const h = decodeProtectedHeader(jwt);
        if (h.alg !== "ES256" || h.kid !== keys.keyId) throw new Error("header");
        const { payload } = await jwtVerify(jwt, keys.publicKey, { algorithms: ["ES256"], issuer: keys.teamId, maxTokenAge: "1h" });
        if (typeof payload.iat !== "number") throw new Error("iat");
      } catch {
        state.refused.push("InvalidProviderToken");
        return reply(403, "InvalidProviderToken");
      }
      const type = String(headers["apns-push-type"] ?? "");
      const topic = String(headers["apns-topic"] ?? "");
      const wantTopic = type === "voip" ? `${keys.bundleId}.voip` : keys.bundleId;
      if (!["alert", "voip", "background"].includes(type) || topic !== wantTopic) {
        state.refused.push(`BadTopic ${type} ${topic}`);
        return reply(400, "TopicDisallowed");
      }
      if (type === "background" && headers["apns-priority"] !== "5") {
        state.refused.push("BadPriority");
        return reply(400, "BadPriority");
      }
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
        if (typeof payload.aps !== "object") throw new Error("aps");
      } catch {
        state.refused.push("BadPayload");
        return reply(400, "PayloadEmpty");
      }
      if (state.failWith) return reply(state.failWith, "ServiceUnavailable");
      const token = m[1] as string;
      if (state.unregistered.has(token)) return reply(410, "Unregistered");
      const hs: Record<string, string> = {};
      for (const [k, v] of Object.entries(headers)) if (!k.startsWith(":") && typeof v === "string") hs[k] = v;
      state.pushes.push({ token, headers: hs, payload });
      if (state.delayMs > 0) await new Promise((r) => setTimeout(r, state.delayMs));
      if (!stream.destroyed) reply(200);
    })();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  state.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise((r) => {
      for (const s of sessions) s.destroy();
      server.close(() => r());
    });
  return state;
}

// ---------------------------------------------------------------- FCM

export interface FcmAccount {
  project_id: string;
  client_email: string;
  private_key: string;
  publicKeyPem: string;
}

export function fcmAccount(): FcmAccount {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    project_id: "utd-test",
    client_email: "pusher@utd-test.iam.gserviceaccount.com",
    private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

export interface FcmMessage {
  token: string;
  data: Record<string, string>;
  notification?: { title: string; body: string };
  android: { priority: string; ttl: string; collapse_key: string };
}

export interface FcmServer {
  url: string;
  tokenUri: string;
  messages: FcmMessage[];
  tokenFetches: number;
  refused: string[];
  unregistered: Set<string>;
  failWith: number | undefined;
  close(): Promise<void>;
}

export async function startFcmServer(tls: Tls, account: FcmAccount): Promise<FcmServer> {
  const issued = new Set<string>();
  const key = await importSPKI(account.publicKeyPem, "RS256");
  const state: FcmServer = {
    url: "",
    tokenUri: "",
    messages: [],
    tokenFetches: 0,
    refused: [],
    unregistered: new Set(),
    failWith: undefined,
    close: async () => {},
  };
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    void (async () => {
      const raw = (await body(req)).toString("utf8");
      const json = (status: number, b: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(b));
      };
      if (req.method === "POST" && req.url === "/token") {
        const form = new URLSearchParams(raw);
        try {
          if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") throw new Error("grant");
          const { payload } = await jwtVerify(form.get("assertion") ?? "", key, {
            algorithms: ["RS256"],
            issuer: account.client_email,
            audience: state.tokenUri,
          });
          if (payload.scope !== "https://www.googleapis.com/auth/firebase.messaging") throw new Error("scope");
        } catch (err) {
          state.refused.push(`token: ${err instanceof Error ? err.message : String(err)}`);
          return json(400, { error: "invalid_grant" });
        }
        state.tokenFetches++;
        const t = `ya29.${randomBytes(12).toString("hex")}`;
        issued.add(t);
        return json(200, { access_token: t, expires_in: 3600, token_type: "Bearer" });
      }
      if (req.method === "POST" && req.url === `/v1/projects/${account.project_id}/messages:send`) {
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
        if (!bearer || !issued.has(bearer)) {
          state.refused.push("bearer");
          return json(401, { error: { status: "UNAUTHENTICATED" } });
        }
        if (state.failWith) return json(state.failWith, { error: { status: "UNAVAILABLE" } });
        const { message } = JSON.parse(raw) as { message: FcmMessage };
        if (state.unregistered.has(message.token)) {
          return json(404, {
            error: {
              status: "NOT_FOUND",
              details: [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode: "UNREGISTERED" }],
            },
          });
        }
        state.messages.push(message);
        return json(200, { name: `projects/${account.project_id}/messages/${randomBytes(6).toString("hex")}` });
      }
      json(404, { error: { status: "NOT_FOUND" } });
    })();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  state.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.tokenUri = `${state.url}/token`;
  state.close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}

// ---------------------------------------------------------------- Web Push

/** A browser-side subscription: the keys the user agent holds, and the JSON it hands the app. */
export interface BrowserSubscription {
  ecdh: ReturnType<typeof createECDH>;
  auth: Buffer;
  json: { endpoint: string; keys: { p256dh: string; auth: string } };
}

export function browserSubscription(endpoint: string): BrowserSubscription {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return { ecdh, auth, json: { endpoint, keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: auth.toString("base64url") } } };
}

/** RFC 8291 + RFC 8188 decryption of a single-record `aes128gcm` body, as a user agent does it. */
export function decryptAes128gcm(bodyBuf: Buffer, sub: BrowserSubscription): string {
  const salt = bodyBuf.subarray(0, 16);
  const idlen = bodyBuf.readUInt8(20);
  const asPublic = bodyBuf.subarray(21, 21 + idlen);
  const ciphertext = bodyBuf.subarray(21 + idlen);
  const ecdhSecret = sub.ecdh.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0"), sub.ecdh.getPublicKey(), asPublic]);
  const ikm = Buffer.from(hkdfSync("sha256", ecdhSecret, sub.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: aes128gcm\0"), 16));
  const nonce = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: nonce\0"), 12));
  const d = createDecipheriv("aes-128-gcm", cek, nonce);
  d.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const plain = Buffer.concat([d.update(ciphertext.subarray(0, ciphertext.length - 16)), d.final()]);
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--;
  if (plain[end] !== 2) throw new Error("missing last-record padding delimiter");
  return plain.subarray(0, end).toString("utf8");
}

export interface WebPushDelivery {
  id: string;
  headers: Record<string, string>;
  payload: Record<string, unknown>;
}

export interface WebPushServer {
  origin: string;
  /** A new subscription whose endpoint is on this server. */
  subscribe(): BrowserSubscription;
  deliveries: WebPushDelivery[];
  refused: string[];
  gone: Set<string>;
  failWith: number | undefined;
  close(): Promise<void>;
}

export async function startWebPushServer(tls: Tls, vapidPublicKey: string): Promise<WebPushServer> {
  const subs = new Map<string, BrowserSubscription>();
  const vapidKey = createPublicKey({
    key: {
      kty: "EC",
      crv: "P-256",
      x: Buffer.from(vapidPublicKey, "base64url").subarray(1, 33).toString("base64url"),
      y: Buffer.from(vapidPublicKey, "base64url").subarray(33).toString("base64url"),
    },
    format: "jwk",
  });
  const state: WebPushServer = {
    origin: "",
    subscribe: () => {
      throw new Error("not started");
    },
    deliveries: [],
    refused: [],
    gone: new Set(),
    failWith: undefined,
    close: async () => {},
  };
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    void (async () => {
      const raw = await body(req);
      const end = (status: number) => {
        res.writeHead(status);
        res.end();
      };
      const id = /^\/push\/([a-z0-9]+)$/.exec(req.url ?? "")?.[1];
      const sub = id ? subs.get(id) : undefined;
      if (req.method !== "POST" || !id || !sub) return end(404);
      if (state.gone.has(id)) return end(410);
      const h = req.headers;
      try {
        const m = /^vapid t=([^,]+),\s*k=(.+)$/.exec(h.authorization ?? "");
        if (!m || m[2] !== vapidPublicKey) throw new Error("vapid header");
        await jwtVerify(m[1] as string, vapidKey, { algorithms: ["ES256"], audience: state.origin });
        if (h["content-encoding"] !== "aes128gcm") throw new Error("content-encoding");
        if (!h.ttl || !/^\d+$/.test(String(h.ttl))) throw new Error("ttl");
        if (!["very-low", "low", "normal", "high"].includes(String(h.urgency))) throw new Error("urgency");
      } catch (err) {
        state.refused.push(err instanceof Error ? err.message : String(err));
        return end(401);
      }
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(decryptAes128gcm(raw, sub)) as Record<string, unknown>;
      } catch (err) {
        state.refused.push(`decrypt: ${err instanceof Error ? err.message : String(err)}`);
        return end(400);
      }
      if (state.failWith) return end(state.failWith);
      const hs: Record<string, string> = {};
      for (const [k, v] of Object.entries(h)) if (typeof v === "string") hs[k] = v;
      state.deliveries.push({ id, headers: hs, payload });
      end(201);
    })();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  state.origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.subscribe = () => {
    const id = randomBytes(8).toString("hex");
    const s = browserSubscription(`${state.origin}/push/${id}`);
    subs.set(id, s);
    return s;
  };
  state.close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}
