import { z } from "zod";

/** Data of a `custom.*` event: whatever JSON the app's backend published. */
export const CustomEventDataSchema = z.json();
export type CustomEventData = z.infer<typeof CustomEventDataSchema>;

/** Type of a custom event (`custom.<name>`), published by the app's backend (`POST /admin/v1/apps/{app_id}/events`). */
export type CustomEventType = `custom.${string}`;
