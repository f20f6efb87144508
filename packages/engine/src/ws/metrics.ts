import type { Call, Message, WsEventMap, WsEventType } from "@utd-stream/protocol";
import { Counter, Gauge, type Registry } from "prom-client";

/** Gateway metrics on the engine's registry (served at `/metrics`). */
export interface GatewayMetrics {
  connections: Gauge;
  events: Counter;
  deliveries: Counter;
  resumes: Counter<"result">;
  closes: Counter<"code">;
  /**
   * Sees every event the engine publishes to users (on the node where it happened, so once per
   * cluster): messages sent, their recipients, calls by outcome and call minutes are counted here,
   * where every module's events pass, rather than in each module.
   */
  published<K extends WsEventType>(appId: string, identities: readonly string[], type: K, data: WsEventMap[K]): void;
}

const CALL_OUTCOME_EVENTS: ReadonlySet<string> = new Set(["call.ended", "call.rejected", "call.busy", "call.missed"]);

export function createGatewayMetrics(registry: Registry | undefined): GatewayMetrics {
  const registers = registry ? [registry] : [];
  // `app` is the only domain label: apps are created by the operator, so it stays bounded (never an
  // identity, conversation or room).
  const messagesSent = new Counter({
    name: "utd_messages_sent_total",
    help: "Chat messages sent (system messages excluded), by app",
    labelNames: ["app"],
    registers,
  });
  const messageDeliveries = new Counter({
    name: "utd_message_deliveries_total",
    help: "Message recipients (members other than the sender) a sent message was published to, by app",
    labelNames: ["app"],
    registers,
  });
  const calls = new Counter({
    name: "utd_calls_total",
    help: "Calls that ended, by app and outcome (hangup = answered and hung up; canceled, declined, busy, timeout)",
    labelNames: ["app", "outcome"],
    registers,
  });
  const callSeconds = new Counter({
    name: "utd_call_seconds_total",
    help: "Seconds of answered calls (answer to hang-up), by app; rate(...)/60 is call minutes",
    labelNames: ["app"],
    registers,
  });
  return {
    connections: new Gauge({ name: "utd_ws_connections", help: "Open authenticated WebSocket connections on this node", registers }),
    events: new Counter({ name: "utd_ws_events_total", help: "Events published to user streams on this node", registers }),
    deliveries: new Counter({ name: "utd_ws_deliveries_total", help: "Event frames sent to sockets (live and replayed)", registers }),
    resumes: new Counter({
      name: "utd_ws_resumes_total",
      help: "hello frames that asked to resume, by result (resumed | resync)",
      labelNames: ["result"],
      registers,
    }),
    closes: new Counter({
      name: "utd_ws_closes_total",
      help: "Sockets closed by the engine, by close code",
      labelNames: ["code"],
      registers,
    }),
    published(appId, identities, type, data) {
      if (type === "message.new") {
        const m = data as Message;
        if (m.type === "system") return;
        messagesSent.inc({ app: appId });
        const others = identities.filter((i) => i !== m.sender).length;
        if (others > 0) messageDeliveries.inc({ app: appId }, others);
        return;
      }
      if (CALL_OUTCOME_EVENTS.has(type)) {
        const call = (data as { call?: Call }).call;
        if (call?.status !== "ended" || !call.end_reason) return;
        calls.inc({ app: appId, outcome: call.end_reason });
        if (call.answered_at && call.ended_at) {
          const s = (Date.parse(call.ended_at) - Date.parse(call.answered_at)) / 1000;
          if (s > 0) callSeconds.inc({ app: appId }, s);
        }
      }
    },
  };
}
