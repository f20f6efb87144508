import type { FastifyRequest } from "fastify";

/** Where a client should open its WebSocket, as seen from the request (or the configured public URL). */
export function wsUrlFor(req: FastifyRequest, publicUrl: string | undefined): string {
  const base = publicUrl ?? `${req.protocol}://${req.host}`;
  return `${base.replace(/^http/, "ws")}/api/v1/ws`;
}
