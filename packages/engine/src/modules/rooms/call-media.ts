import { type Call, CallIdParamsSchema, type CallMedia, CallMediaSchema, TERMINAL_CALL_STATUSES } from "@utd-stream/protocol/schemas";
import type { FastifyInstance } from "fastify";
import { type AuthContext, requireCapability } from "../../core/caller.js";
import { iso } from "../../core/clock.js";
import { ApiError } from "../../core/errors.js";
import { type RouteDeps, route } from "../../http/route.js";
import type { MediaWebhookHub } from "../../media/hub.js";
import { callRoomKey, parseRoomKey } from "../../media/names.js";
import { type MediaPort, requireMedia } from "../../media/port.js";
import type { CallsService } from "../calls/index.js";
import { ISSUED_AT_ATTRIBUTE, permissionWith } from "./permissions.js";

/** Seconds a call room stays open after the last participant leaves. */
const CALL_DEPARTURE_TIMEOUT_S = 10;

/**
 * A 1:1 call's media: on accept the engine opens the call's LiveKit room, capped at 2 participants;
 * only the caller and the callee can get a token for it (`POST /api/v1/calls/{id}/token`, while the
 * call is active); the end of the call deletes the room.
 */
export class CallMediaService {
  constructor(
    private readonly media: MediaPort | undefined,
    private readonly calls: CallsService,
    private readonly tokenTtlS: number,
    /** Seconds an answered call's room waits for anyone to join before LiveKit closes it (and the call ends). */
    private readonly joinTimeoutS: number,
    hub: MediaWebhookHub,
    private readonly log: { warn(obj: unknown, msg: string): void },
  ) {
    calls.onTransition(async (t) => {
      if (!this.media) return;
      const key = callRoomKey(t.appId, t.call.id);
      if (t.to === "active") await this.open(key, t.call);
      else if (t.from === "active" && TERMINAL_CALL_STATUSES.includes(t.to)) await this.media.deleteRoom(key);
    });
    hub.on(async (ev) => {
      const scoped = parseRoomKey(ev.room);
      if (scoped?.kind !== "call" || !this.media) return;
      // Once nobody is left in the room, the call is over (hung up by the last to leave).
      if ((ev.event === "participant_left" || ev.event === "participant_connection_aborted") && ev.identity) {
        if ((await this.media.listIdentities(ev.room)).length > 0) return;
        await this.endAs(scoped.appId, scoped.callId, ev.identity);
      }
      // LiveKit closed the room: nobody joined in time (or everyone left). An active call ends with it.
      if (ev.event === "room_finished") {
        await this.endAs(scoped.appId, scoped.callId, null);
      }
    });
  }

  /** Ends the call if it is still active; `by` is the party who left last (null when LiveKit closed the room). */
  private async endAs(appId: string, callId: string, by: string | null): Promise<void> {
    try {
      await this.calls.endActiveBySystem(appId, callId, by);
    } catch (err) {
      this.log.warn({ err, call: callId }, "could not end a call whose room emptied");
    }
  }

  private async open(key: string, call: Call): Promise<void> {
    await requireMedia(this.media).createRoom(key, {
      maxParticipants: 2,
      emptyTimeoutS: this.joinTimeoutS,
      departureTimeoutS: CALL_DEPARTURE_TIMEOUT_S,
      metadata: JSON.stringify({ call_id: call.id, caller: call.caller_identity, callee: call.callee_identity }),
    });
  }

  /** A party's token for the call's room. Outsiders get `not_found`; a call that is not active, `conflict`. */
  async token(ctx: AuthContext, callId: string): Promise<CallMedia> {
    // A disabled capability answers before media availability does.
    requireCapability(ctx.app, "signaling");
    const media = requireMedia(this.media);
    const call = await this.calls.get(ctx, callId);
    if (call.status !== "active") throw ApiError.conflict(`the call is ${call.status}; media is only for an active call`, call.status);
    const key = callRoomKey(ctx.app.id, call.id);
    // The transition listener usually opened it already; creating is idempotent and closes the race.
    await this.open(key, call);
    const permission = permissionWith(call.type === "video_call" ? ["camera", "microphone"] : ["microphone"]);
    const name = call.caller_identity === ctx.identity ? call.caller_name : call.callee_name;
    const { token, expiresAt } = await media.mintToken({
      room: key,
      identity: ctx.identity,
      name: name ?? undefined,
      permission,
      ttlS: this.tokenTtlS,
      attributes: { type: call.type, call_id: call.id, [ISSUED_AT_ATTRIBUTE]: String(ctx.claims.issuedAt) },
    });
    return { token, url: media.url, room_name: call.id, expires_at: iso(expiresAt) };
  }
}

export function registerCallMediaRoutes(app: FastifyInstance, deps: RouteDeps, svc: CallMediaService): void {
  route(app, deps, {
    method: "POST",
    url: "/api/v1/calls/:id/token",
    summary: "A party's LiveKit token for an active call's room (capped at 2 participants)",
    tags: ["media", "calls"],
    auth: "user",
    params: CallIdParamsSchema,
    response: CallMediaSchema,
    handler: async ({ auth, params }) => svc.token(auth, params.id),
  });
}
