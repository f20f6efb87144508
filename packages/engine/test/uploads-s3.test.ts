import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEngine } from "../../../test/helpers/engine.js";
import { startS3, type TestS3 } from "../../../test/helpers/s3.js";
import { CHAT_TEST_ENV, startEngine, world } from "./chat-world.js";

/** The S3-compatible backend against a real S3 protocol server (s3rver, in-process, on disk, SigV4 checked: helpers/s3.ts). */
describe("uploads on an S3-compatible bucket", () => {
  let engine: RunningEngine;
  let s3: TestS3;
  beforeAll(async () => {
    s3 = await startS3();
    engine = await startEngine({ env: { ...CHAT_TEST_ENV, ...s3.env("test/") } });
  });
  afterAll(async () => {
    await engine?.stop();
    await s3?.stop();
  });

  it("presigned PUT to the bucket, the token is sendable once stored, members download by presigned GET", async () => {
    const { t, ids } = await world(engine, 3);
    const [a, b, stranger] = ids as [string, string, string];
    const req = <T>(method: string, path: string, token: string, body?: unknown) => engine.request<T>(method, path, { token, body });
    const bytes = Buffer.from("hello from the bucket ".repeat(100));
    const p = await req<{ file_token: string; upload_url: string; method: string; headers: Record<string, string> }>(
      "POST",
      "/api/v1/uploads",
      t[a] as string,
      {
        kind: "file",
        filename: "notes.txt",
        content_type: "text/plain",
        size: bytes.length,
      },
    );
    expect(p.status).toBe(201);
    expect(p.body.upload_url).toContain("/utd-files/test/");
    expect(p.body.upload_url).toContain("X-Amz-Signature=");
    const g = (await req<{ id: string }>("POST", "/api/v1/conversations", t[a] as string, { kind: "group", members: [b] })).body;
    const early = await req<{ error: { code: string } }>("POST", `/api/v1/conversations/${g.id}/messages`, t[a] as string, {
      client_msg_id: "s3-0",
      attachments: [{ file_token: p.body.file_token }],
    });
    expect(early.status).toBe(409);
    const put = await fetch(p.body.upload_url, {
      method: p.body.method,
      headers: p.body.headers,
      body: new Uint8Array(bytes) as Uint8Array<ArrayBuffer>,
    });
    expect(put.status).toBe(200);
    const sent = await req("POST", `/api/v1/conversations/${g.id}/messages`, t[a] as string, {
      client_msg_id: "s3-1",
      attachments: [{ file_token: p.body.file_token }],
    });
    expect(sent.status).toBe(201);
    const info = await req<{ download_url: string }>("GET", `/api/v1/uploads/${p.body.file_token}`, t[b] as string);
    expect(info.status).toBe(200);
    const dl = await fetch(info.body.download_url);
    expect(dl.status).toBe(200);
    expect(Buffer.from(await dl.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await req("GET", `/api/v1/uploads/${p.body.file_token}`, t[stranger] as string)).status).toBe(403);
  });
});
