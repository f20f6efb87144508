import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BACKENDS, engineFor, world } from "./chat-world.js";

interface Presign {
  file_token: string;
  upload_url: string;
  method: string;
  headers: Record<string, string>;
  expires_at: string;
}
interface Info {
  uploaded: boolean;
  download_url: string | null;
  size: number;
  metadata: Record<string, number>;
}
interface Err {
  error: { code: string; status?: string };
}

describe.each(BACKENDS)("uploads on %s", (_name, setup) => {
  const suite = engineFor(setup, { UTD_UPLOAD_MAX_BYTES: "100000" });
  const req = <T>(method: string, path: string, token: string, body?: unknown) => suite.engine.request<T>(method, path, { token, body });
  const put = (p: Presign, body: Uint8Array, headers: Record<string, string> = p.headers, url = p.upload_url) =>
    fetch(url, { method: p.method, headers, body: new Uint8Array(body) as Uint8Array<ArrayBuffer> });

  it("round trip: presign, PUT the bytes, send the token, members download the same bytes", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await world(suite.engine, 3);
    const [a, b, stranger] = ids as [string, string, string];
    const other = await world(suite.engine, 1);
    const outsider = other.t[other.ids[0] as string] as string;
    const bytes = randomBytes(20_000);
    const p = await req<Presign>("POST", "/api/v1/uploads", t[a] as string, {
      kind: "image",
      filename: "cat photo.png",
      content_type: "image/png",
      size: bytes.length,
      metadata: { width: 640, height: 480 },
    });
    expect(p.status).toBe(201);
    expect(p.body).toMatchObject({ method: "PUT", headers: { "content-type": "image/png" } });
    expect(Date.parse(p.body.expires_at)).toBeGreaterThan(Date.now());
    const g = (await req<{ id: string }>("POST", "/api/v1/conversations", t[a] as string, { kind: "group", members: [b] })).body;
    // Not uploaded yet: the token cannot be sent.
    const early = await req<Err>("POST", `/api/v1/conversations/${g.id}/messages`, t[a] as string, {
      client_msg_id: "f0",
      attachments: [{ file_token: p.body.file_token }],
    });
    expect(early.status).toBe(409);
    expect(early.body.error).toMatchObject({ code: "conflict", status: "pending" });
    // Too many bytes, a forged signature or a wrong content type are refused; then the real upload works once.
    expect((await put(p.body, randomBytes(bytes.length + 1))).status).toBe(413);
    expect((await put(p.body, bytes, p.body.headers, p.body.upload_url.replace(/sig=[^&]+/, "sig=forged"))).status).toBe(403);
    expect((await put(p.body, bytes, p.body.headers, p.body.upload_url.replace("size=20000", "size=10"))).status).toBe(403);
    expect((await put(p.body, bytes, { "content-type": "text/plain" })).status).toBe(400);
    expect((await put(p.body, bytes.subarray(0, 100))).status).toBe(400);
    // Three racing uploads: exactly one is stored, the others are told it already was.
    const racing = await Promise.all([put(p.body, bytes), put(p.body, bytes), put(p.body, bytes)]);
    expect(racing.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    expect((await put(p.body, bytes)).status).toBe(409);
    const sent = await req<{ attachments: unknown[] }>("POST", `/api/v1/conversations/${g.id}/messages`, t[a] as string, {
      client_msg_id: "f1",
      text: "look",
      attachments: [{ file_token: p.body.file_token }],
    });
    expect(sent.status).toBe(201);
    expect(sent.body.attachments).toEqual([
      {
        file_token: p.body.file_token,
        kind: "image",
        filename: "cat photo.png",
        content_type: "image/png",
        size: 20_000,
        metadata: { width: 640, height: 480 },
      },
    ]);
    const info = await req<Info>("GET", `/api/v1/uploads/${p.body.file_token}`, t[b] as string);
    expect(info.status).toBe(200);
    expect(info.body.uploaded).toBe(true);
    const dl = await fetch(info.body.download_url as string);
    expect(dl.status).toBe(200);
    expect(dl.headers.get("content-type")).toBe("image/png");
    expect(dl.headers.get("content-disposition")).toMatch(/^attachment; filename\*=UTF-8''cat%20photo\.png$/);
    expect(dl.headers.get("content-security-policy")).toContain("sandbox");
    expect(Buffer.from(await dl.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await fetch((info.body.download_url as string).replace(/sig=[^&]+/, "sig=x"))).status).toBe(403);
    // A non-member of the conversation cannot download; another app cannot even see it, nor send it.
    expect((await req<Err>("GET", `/api/v1/uploads/${p.body.file_token}`, t[stranger] as string)).status).toBe(403);
    expect((await req<Err>("GET", `/api/v1/uploads/${p.body.file_token}`, outsider)).status).toBe(404);
    const og = (await req<{ id: string }>("POST", "/api/v1/conversations", outsider, { kind: "group" })).body;
    const foreign = await req<Err>("POST", `/api/v1/conversations/${og.id}/messages`, outsider, {
      client_msg_id: "f2",
      attachments: [{ file_token: p.body.file_token }],
    });
    expect(foreign.status).toBe(404);
    expect((await req<{ messages: unknown[] }>("GET", `/api/v1/conversations/${og.id}/messages`, outsider)).body.messages).toEqual([]);
  });

  it("refuses bad upload requests", async (ctx) => {
    if (suite.skip) return ctx.skip();
    const { t, ids } = await world(suite.engine, 1);
    const tok = t[ids[0] as string] as string;
    const ok = { kind: "file", filename: "a.txt", content_type: "text/plain", size: 10 };
    const cases: [Record<string, unknown>, number][] = [
      [{ ...ok, kind: "image" }, 400],
      [{ ...ok, kind: "voice", content_type: "video/mp4" }, 400],
      [{ ...ok, kind: "hologram" }, 400],
      [{ ...ok, size: 100_001 }, 413],
      [{ ...ok, size: 0 }, 400],
      [{ ...ok, size: "10" }, 400],
      [{ ...ok, filename: "../etc/passwd" }, 400],
      [{ ...ok, filename: "" }, 400],
      [{ ...ok, content_type: "nonsense" }, 400],
      [{ ...ok, metadata: { width: -1 } }, 400],
      [{ ...ok, metadata: { colour: "red" } }, 400],
      [{ ...ok, extra: true }, 400],
    ];
    for (const [body, status] of cases) {
      const r = await req<Err>("POST", "/api/v1/uploads", tok, body);
      expect(r.status, JSON.stringify(body)).toBe(status);
    }
    expect((await req<Err>("GET", "/api/v1/uploads/file_nope", tok)).status).toBe(404);
    expect((await suite.engine.request<Err>("POST", "/api/v1/uploads", { body: ok })).status).toBe(401);
    const voice = await req<Presign>("POST", "/api/v1/uploads", tok, {
      kind: "voice",
      filename: "v.ogg",
      content_type: "audio/ogg",
      size: 3,
      metadata: { duration: 1.5 },
    });
    expect(voice.status).toBe(201);
  });
});
