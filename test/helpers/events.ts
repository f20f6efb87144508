import { isDeepStrictEqual } from "node:util";
import { SIGNAL_ROOM_FRAME_DEFS, WS_EVENTS } from "@utd-stream/protocol/schemas";

/**
 * Holds every event the engine sends to its declaration in `WS_EVENTS`: the data must parse, and parsing
 * must drop nothing (a field the declaration does not name would be stripped). Throws otherwise, which
 * fails the test run, so each suite using these clients (`WsClient`, `EventStream`) also checks the
 * declared wire against the real one.
 */
export function checkDeclaredEvent(f: { type: string; seq?: unknown; data?: unknown; [k: string]: unknown }): void {
  if (f.seq === undefined && Object.hasOwn(SIGNAL_ROOM_FRAME_DEFS, f.type)) {
    // Signalling-room frames carry no seq; they are held to their own declarations (SIGNAL_ROOM_FRAME_DEFS).
    const r = SIGNAL_ROOM_FRAME_DEFS[f.type as keyof typeof SIGNAL_ROOM_FRAME_DEFS].data.safeParse(f.data);
    if (!r.success) throw new Error(`room frame ${f.type} does not match its declared data: ${r.error.message}\n${JSON.stringify(f.data)}`);
    if (!isDeepStrictEqual(r.data, f.data)) throw new Error(`room frame ${f.type} carries undeclared fields: ${JSON.stringify(f.data)}`);
    return;
  }
  if (typeof f.seq !== "number" || f.type === "welcome") return;
  if (!Object.hasOwn(WS_EVENTS, f.type)) {
    if (f.type.startsWith("custom.")) return;
    throw new Error(`event ${f.type} is not declared in WS_EVENTS`);
  }
  const parsed = WS_EVENTS[f.type as keyof typeof WS_EVENTS].data.safeParse(f.data);
  if (!parsed.success)
    throw new Error(`event ${f.type} does not match its declared data: ${parsed.error.message}\n${JSON.stringify(f.data)}`);
  if (!isDeepStrictEqual(parsed.data, f.data)) {
    throw new Error(`event ${f.type} carries fields its declaration does not name: ${JSON.stringify(f.data)}`);
  }
}
