import { Counter, Gauge, type Registry } from "prom-client";

/** Gateway metrics on the engine's registry (served at `/metrics`). */
export interface GatewayMetrics {
  connections: Gauge;
  events: Counter;
  deliveries: Counter;
  resumes: Counter<"result">;
  closes: Counter<"code">;
}

export function createGatewayMetrics(registry: Registry | undefined): GatewayMetrics {
  const registers = registry ? [registry] : [];
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
  };
}
