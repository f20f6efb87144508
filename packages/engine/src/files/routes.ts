import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { ApiError } from "../core/errors.js";
import { parseOr400 } from "../core/validation.js";
import type { LocalFileStore, SignedParams } from "./local.js";

const Query = z.object({
  exp: z.coerce.number().int(),
  ct: z.string().min(1).max(255),
  size: z.coerce.number().int().min(0).optional(),
  fn: z.string().max(255).optional(),
  sig: z.string().min(1).max(128),
});

function keyOf(req: FastifyRequest): string {
  const p = req.params as { app: string; file: string };
  return `${p.app}/${p.file}`;
}

/**
 * Serves the local file store's signed URLs: `PUT /api/v1/files/{app}/{file}` takes the raw bytes,
 * `GET` returns them. No bearer: the signature in the URL is the permission, and it expires.
 */
export async function registerLocalFileRoutes(app: FastifyInstance, files: LocalFileStore): Promise<void> {
  await app.register(async (scope) => {
    // Uploads are raw bytes of any type: no parser consumes the body; the handler streams it to disk.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_req, _payload, done) => done(null));
    scope.route({
      method: "PUT",
      url: "/api/v1/files/:app/:file",
      schema: { summary: "Upload a file's bytes to a signed URL from POST /api/v1/uploads", tags: ["uploads"] },
      handler: async (req, reply) => {
        const q = parseOr400(Query, req.query, "query");
        const p: SignedParams = { op: "put", key: keyOf(req), exp: q.exp, ct: q.ct, size: q.size ?? -1 };
        files.verify(p, q.sig);
        if ((req.headers["content-type"] ?? "") !== q.ct) throw ApiError.invalid(`content-type must be ${q.ct}`);
        await files.write(p.key, q.size ?? 0, req.raw);
        reply.code(200).send({ ok: true });
      },
    });
    scope.route({
      method: "GET",
      url: "/api/v1/files/:app/:file",
      schema: { summary: "Download a file from a signed URL", tags: ["uploads"] },
      handler: async (req, reply) => {
        const q = parseOr400(Query, req.query, "query");
        const p: SignedParams = { op: "get", key: keyOf(req), exp: q.exp, ct: q.ct };
        if (q.fn !== undefined) p.fn = q.fn;
        files.verify(p, q.sig);
        const st = await files.stat(p.key);
        if (!st) throw ApiError.notFound("file");
        reply
          .code(200)
          .header("content-type", q.ct)
          .header("content-length", String(st.size))
          .header("cache-control", "private, max-age=300")
          .header("x-content-type-options", "nosniff")
          // Uploaded content never runs as a page on the engine's origin.
          .header("content-security-policy", "sandbox; default-src 'none'")
          .header("content-disposition", `attachment; filename*=UTF-8''${encodeURIComponent(q.fn ?? "file")}`);
        return reply.send(files.read(p.key));
      },
    });
  });
}
