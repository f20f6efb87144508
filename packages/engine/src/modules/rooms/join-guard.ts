import type { AppRecord } from "../../core/caller.js";
import type { Logger } from "../../core/logger.js";
import type { MediaWebhookHub } from "../../media/hub.js";
import { parseRoomKey } from "../../media/names.js";
import type { MediaPort } from "../../media/port.js";
import type { UserRow } from "../users/index.js";
import { ISSUED_AT_ATTRIBUTE } from "./permissions.js";
import type { RoomsService } from "./service.js";

export interface JoinGuardDeps {
  hub: MediaWebhookHub;
  media: MediaPort;
  findUser(appId: string, identity: string): Promise<UserRow | undefined>;
  findApp(appId: string): Promise<AppRecord | undefined>;
  rooms: RoomsService;
  /** A call's state and parties (undefined when there is no such call). */
  findCall(appId: string, callId: string): Promise<{ status: string; caller_identity: string; callee_identity: string } | undefined>;
  log: Logger;
}

/**
 * LiveKit room tokens stay valid for `UTD_MEDIA_TOKEN_TTL_S` (600 s), and a client may connect again
 * with one after the engine removed it. So every join is checked against what is true now:
 * - a banned user, or a token minted before the user's or the app's revocation (sign-out everywhere,
 *   ban, key rotation, auth-mode change), is removed at once;
 * - in a live stream or audio room the participant's permission is applied again, so a co-host sent
 *   back to the audience or a speaker who left a seat cannot rejoin with their old publish grant;
 * - a call room admits only the two parties of a call that is still active.
 */
export class JoinGuard {
  constructor(private readonly d: JoinGuardDeps) {
    d.hub.on(async (ev) => {
      if (ev.event !== "participant_joined" || !ev.identity) return;
      await this.check(ev.room, ev.identity, ev.attributes ?? {});
    });
  }

  private async check(roomKey: string, identity: string, attributes: Record<string, string>): Promise<void> {
    const scoped = parseRoomKey(roomKey);
    if (!scoped) return;
    const reason = await this.refusal(scoped, identity, attributes);
    if (reason) {
      this.d.log.info({ room: roomKey, identity, reason }, "media: removed a participant who may no longer be in the room");
      await this.d.media.removeParticipant(roomKey, identity);
      return;
    }
    if (scoped.kind === "room") {
      const room = await this.d.rooms.find(scoped.appId, scoped.name);
      if (room) await this.d.rooms.apply(room, identity);
    }
  }

  /** Why `identity` may not be in the room now, or undefined. */
  private async refusal(
    scoped: NonNullable<ReturnType<typeof parseRoomKey>>,
    identity: string,
    attributes: Record<string, string>,
  ): Promise<string | undefined> {
    const [user, app] = await Promise.all([this.d.findUser(scoped.appId, identity), this.d.findApp(scoped.appId)]);
    if (!app) return "app deleted";
    if (!user) return "unknown user";
    if (user.banned_at != null) return "banned";
    const issuedAt = Number(attributes[ISSUED_AT_ATTRIBUTE]);
    if (Number.isFinite(issuedAt) && issuedAt < Math.max(Number(user.tokens_valid_after), app.tokensValidAfter)) return "token revoked";
    if (!app.signalingEnabled) return "signalling disabled";
    if (scoped.kind === "call") {
      const call = await this.d.findCall(scoped.appId, scoped.callId);
      if (!call || call.status !== "active") return "the call is not active";
      if (call.caller_identity !== identity && call.callee_identity !== identity) return "not a party of the call";
    }
    return undefined;
  }
}
