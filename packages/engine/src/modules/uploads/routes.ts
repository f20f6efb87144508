import { CreateUploadRequestSchema, CreateUploadResponseSchema, Id, UploadInfoSchema } from "@utd-stream/protocol/schemas";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { type RouteDeps, route } from "../../http/route.js";
import type { UploadsService } from "./service.js";

function baseUrl(req: FastifyRequest, publicUrl: string | undefined): string {
  return publicUrl ?? `${req.protocol}://${req.host}`;
}

/** `POST /api/v1/uploads` (presign) and `GET /api/v1/uploads/{file_token}` (info + signed download URL). */
export function registerUploadRoutes(app: FastifyInstance, deps: RouteDeps, uploads: UploadsService, publicUrl: string | undefined): void {
  route(app, deps, {
    method: "POST",
    url: "/api/v1/uploads",
    summary: "Reserve an upload: returns a signed upload URL, method, headers and the file token to send in a message",
    tags: ["uploads"],
    auth: "user",
    body: CreateUploadRequestSchema,
    response: CreateUploadResponseSchema,
    status: 201,
    handler: async ({ auth, body, req }) => uploads.create(auth.app, auth.identity, body, baseUrl(req, publicUrl)),
  });
  route(app, deps, {
    method: "GET",
    url: "/api/v1/uploads/:file_token",
    summary: "A file's record and a signed download URL (uploader, or members of a conversation where it was sent)",
    tags: ["uploads"],
    auth: "user",
    params: z.strictObject({ file_token: Id }),
    response: UploadInfoSchema,
    handler: async ({ auth, params, req }) => uploads.info(auth.app, auth.identity, params.file_token, baseUrl(req, publicUrl)),
  });
}
