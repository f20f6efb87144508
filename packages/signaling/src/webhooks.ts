/**
 * Verifying UTD Stream webhooks (and before-send hook calls) in an app's backend: Node ≥ 20, Deno, Bun and
 * edge runtimes (Web Crypto only). Deliveries follow the Standard Webhooks format: `webhook-id`,
 * `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>` entries separated by
 * spaces, two during a secret rotation) over `"<id>.<timestamp>.<raw body>"`.
 *
 * @example
 * ```ts
 * import { verifyWebhook } from "@utd-stream/signaling/webhooks";
 * app.post("/utd", express.text({ type: "*\/*" }), async (req, res) => {
 *   const event = await verifyWebhook(process.env.UTD_WEBHOOK_SECRET!, req.body, req.headers);
 *   if (event.type === "message.new") console.log(event.data.message.text);
 *   res.sendStatus(204); // answer 2xx quickly; the same webhook-id may arrive again (at-least-once)
 * });
 * ```
 *
 * @module @utd-stream/signaling/webhooks
 */
import type { WebhookPayload } from "@utd-stream/protocol";

export type { WebhookEventType, WebhookPayload } from "@utd-stream/protocol";

/** The signature, timestamp or headers do not check out; answer 400 and do not act on the body. */
export class WebhookVerificationError extends Error {
  override name = "WebhookVerificationError";
}

export interface VerifyOptions {
  /** Largest accepted distance between the `webhook-timestamp` and now, seconds (default 300: replay protection). */
  toleranceS?: number;
  /** Current time in ms (tests). */
  now?: () => number;
}

type HeaderBag = Headers | Record<string, string | string[] | undefined>;

function header(h: HeaderBag, name: string): string | undefined {
  if (typeof (h as Headers).get === "function") return (h as Headers).get(name) ?? undefined;
  const bag = h as Record<string, string | string[] | undefined>;
  const v = bag[name] ?? bag[name.toLowerCase()] ?? Object.entries(bag).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(v) ? v[0] : v;
}

function fromBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function toBase64(b: ArrayBuffer): string {
  let s = "";
  for (const x of new Uint8Array(b)) s += String.fromCharCode(x);
  return btoa(s);
}

/** Compares without an early exit, so timing does not tell how much of a guess was right. */
function sameString(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Checks a delivery and returns its parsed payload. `secret` is the endpoint's `whsec_…` secret (or several,
 * e.g. while you roll one out); `body` must be the raw request body, exactly as received.
 * @throws {WebhookVerificationError} when a header is missing, the timestamp is outside the tolerance, or no signature matches.
 */
export async function verifyWebhook(
  secret: string | readonly string[],
  body: string,
  headers: HeaderBag,
  opts: VerifyOptions = {},
): Promise<WebhookPayload> {
  const id = header(headers, "webhook-id");
  const ts = header(headers, "webhook-timestamp");
  const sigs = header(headers, "webhook-signature");
  if (!id || !ts || !sigs) throw new WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature");
  const t = Number(ts);
  if (!/^\d+$/.test(ts) || !Number.isSafeInteger(t)) throw new WebhookVerificationError("malformed webhook-timestamp");
  const now = Math.floor((opts.now?.() ?? Date.now()) / 1000);
  if (Math.abs(now - t) > (opts.toleranceS ?? 300)) throw new WebhookVerificationError("webhook-timestamp is too old or in the future");
  const given = sigs
    .split(" ")
    .map((s) => s.split(","))
    .filter(([v, sig]) => v === "v1" && sig)
    .map(([, sig]) => sig as string);
  const data = new TextEncoder().encode(`${id}.${ts}.${body}`);
  for (const s of typeof secret === "string" ? [secret] : secret) {
    const raw = fromBase64(s.startsWith("whsec_") ? s.slice(6) : s);
    const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const expected = toBase64(await crypto.subtle.sign("HMAC", key, data));
    if (given.some((g) => sameString(g, expected))) {
      try {
        return JSON.parse(body) as WebhookPayload;
      } catch {
        throw new WebhookVerificationError("the body is not JSON");
      }
    }
  }
  throw new WebhookVerificationError("no matching signature");
}
