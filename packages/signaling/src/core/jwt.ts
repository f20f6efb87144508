/**
 * When a JWT expires (`exp`), read without verifying it — the engine verifies; the client only wants to
 * know when to ask for a new one. null when the token is not a JWT or has no `exp`.
 */
export function jwtExpiry(token: string): Date | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const claims = JSON.parse(base64UrlDecode(part)) as { exp?: unknown };
    return typeof claims.exp === "number" && Number.isFinite(claims.exp) ? new Date(claims.exp * 1000) : null;
  } catch {
    return null;
  }
}

/** Claims of a JWT, unverified (the widget reads the visitor's identity, `sub`, from the JWT it logs in with). */
export function jwtClaims(token: string): Record<string, unknown> | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const claims = JSON.parse(base64UrlDecode(part)) as unknown;
    return typeof claims === "object" && claims !== null ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** base64url → UTF-8 text, with only `atob` (browsers, Node ≥ 16, React Native). */
function base64UrlDecode(s: string): string {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64.padEnd(b64.length + ((4 - (b64.length % 4)) % 4), "="));
  return decodeURIComponent(Array.from(bin, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join(""));
}
