import { z } from "zod";
import { Identity } from "./common.js";
import { MAX_SEATS, SEAT_MODES, SPEAK_REQUEST_KINDS, SPEAK_REQUEST_STATUSES } from "./constants/seats.js";
import { RoomName } from "./media.js";

/** `POST /api/v1/rooms/{room_name}/seats` (host only): configure the grid; omitted fields keep their value. */
export const SetupSeatsRequestSchema = z.strictObject({
  seat_count: z.number().int().min(1).max(MAX_SEATS).optional(),
  seat_mode: z.enum(SEAT_MODES).optional(),
  mode_id: z.string().min(1).max(64).nullable().optional(),
});
export type SetupSeatsRequest = z.infer<typeof SetupSeatsRequestSchema>;

export const SeatSchema = z.object({
  index: z.number().int(),
  /** Who sits here; null when empty. */
  identity: z.string().nullable(),
  name: z.string().nullable(),
});
export type Seat = z.infer<typeof SeatSchema>;

/** A listener's request to speak (or a host's invitation). Approved/invited users may take a seat in request mode. */
export const SpeakRequestSchema = z.object({
  request_id: z.number().int(),
  room_name: z.string(),
  identity: z.string(),
  name: z.string().nullable(),
  kind: z.enum(SPEAK_REQUEST_KINDS),
  status: z.enum(SPEAK_REQUEST_STATUSES),
  /** For an invitation: the seat offered, if any. */
  seat_index: z.number().int().nullable(),
});
export type SpeakRequest = z.infer<typeof SpeakRequestSchema>;

/** `GET /api/v1/rooms/{room_name}/seats`, and the `seats.updated` event's data. */
export const SeatsStateSchema = z.object({
  room_name: z.string(),
  seat_count: z.number().int(),
  seat_mode: z.enum(SEAT_MODES),
  mode_id: z.string().nullable(),
  seats: z.array(SeatSchema),
  /** Open requests and invitations (hosts act on them). */
  requests: z.array(SpeakRequestSchema),
});
export type SeatsState = z.infer<typeof SeatsStateSchema>;

/** `/api/v1/rooms/{room_name}/seats/{index}/take` path parameters. */
export const SeatParamsSchema = z.strictObject({
  room_name: RoomName,
  index: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_SEATS - 1),
});

/** `/api/v1/rooms/{room_name}/seats/requests/{request_id}/approve` path parameters. */
export const SpeakRequestParamsSchema = z.strictObject({
  room_name: RoomName,
  request_id: z.coerce
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1),
});

/** `POST /api/v1/rooms/{room_name}/seats/invite` (host only). */
export const InviteToSpeakRequestSchema = z.strictObject({
  identity: Identity,
  seat_index: z
    .number()
    .int()
    .min(0)
    .max(MAX_SEATS - 1)
    .optional(),
});

/** `speak.requested` (to hosts), `speak.invited` and `speak.approved` (to the listener). */
export const SpeakEventSchema = SpeakRequestSchema;
export type SpeakEvent = SpeakRequest;
