import type { z } from "zod";

/**
 * One server event as the protocol declares it: the schema of its `data`, who receives it and what it
 * means. `WsEventMap` and the event table of docs/websocket.md are both derived from these.
 */
export interface WsEventDef {
  /** Schema of the event's `data`. */
  data: z.ZodType;
  /** Who receives it (for the docs' "to whom" column). */
  to: string;
  /** What happened (for the docs). */
  doc: string;
}

/** A domain's events: type → declaration. */
export type WsEventDefs = Record<string, WsEventDef>;

/** The `data` type of each event of `D`. */
export type EventDataOf<D extends WsEventDefs> = { [K in keyof D]: z.output<D[K]["data"]> };
