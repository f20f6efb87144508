import { type GatewayConfig, loadGatewayConfig } from "../../ws/config.js";
import { Gateway } from "../../ws/gateway.js";
import { createGatewayMetrics } from "../../ws/metrics.js";
import { defineModule } from "../module.js";
import { registerGatewayRoutes } from "./routes.js";

/** The realtime plane other modules publish to and read their timings from. */
export interface Realtime {
  /** The WebSocket gateway: the engine's `EventSink` (per-user streams, resume, cross-node fan-out) and presence publisher. */
  events: Gateway;
  /** Gateway timings from the environment (`UTD_WS_*`, `UTD_PRESENCE_*`, `UTD_TYPING_TTL_S`). */
  config: GatewayConfig;
}

declare module "../module.js" {
  interface ModuleServices {
    realtime: Realtime;
  }
}

/**
 * User event streams over WebSocket (`/api/v1/ws`): the gateway adapter, wired to auth (who a socket is)
 * and apps (capability switches reach open sockets), plus the admin publish of `custom.*` events.
 * Other modules' verbs and connection listeners are registered on it by `createEngine`.
 */
export const realtimeModule = defineModule({
  name: "realtime",
  needs: ["apps", "auth"],
  create: ({ bus, streams, hooks, clock, log, metrics, apps, auth }) => {
    const config = loadGatewayConfig();
    const gateway = new Gateway({
      config,
      // Handshakes may reuse a recent read of the app (cleared by every app change, on every node).
      authenticate: (token, opts) => auth.authenticate(token, { ...opts, cached: true }),
      findApp: (appId) => apps.find(appId),
      chargeRequest: (ctx) => auth.chargeRequest(ctx.app.id, ctx.identity),
      hooks,
      bus,
      streams,
      clock,
      log,
      metrics: createGatewayMetrics(metrics),
    });
    return {
      service: { events: gateway, config },
      routes: (http, deps) => {
        gateway.attach(http);
        registerGatewayRoutes(http, deps, apps, gateway);
      },
      // Sockets close earlier, in Fastify's preClose (see Gateway.attach); this is a no-op then.
      stop: () => gateway.shutdown(),
    };
  },
});
