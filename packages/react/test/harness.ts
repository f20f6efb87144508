import type { UTDSignalingOptions, WebSocketConstructor } from "@utd-stream/signaling";
import WebSocket from "ws";
import type { RunningEngine, TestApp } from "../../../test/helpers/engine.js";

/** Rate limits off: the tests mint and send a lot from one address. */
export const ENGINE_ENV = {
  UTD_RATE_REQUESTS_USER: "100000/100000",
  UTD_RATE_REQUESTS_APP: "100000/100000",
  UTD_RATE_SESSION_IDENTITY: "100000/100000",
  UTD_RATE_SESSION_APP: "100000/100000",
  UTD_PRESENCE_GRACE_S: "0",
  UTD_CORS_ORIGINS: "*",
};

/** Every socket the SDK opened in this file (the `ws` package, counted). */
export const sockets: WebSocket[] = [];

/** The `ws` WebSocket, counting what it opens. */
export const CountingWS = class extends WebSocket {
  constructor(url: string) {
    super(url);
    sockets.push(this);
  }
} as unknown as WebSocketConstructor;

/** Sockets of this file still open. */
export function openSockets(): number {
  return sockets.filter((s) => s.readyState === WebSocket.OPEN || s.readyState === WebSocket.CONNECTING).length;
}

/** Node's own fetch, captured before a DOM environment replaces globals. */
const nodeFetch = globalThis.fetch.bind(globalThis);

/** Provider options for `identity` against the test engine (Node's WebSocket and fetch). */
export function optionsFor(engine: RunningEngine, app: TestApp, identity: string): UTDSignalingOptions {
  return {
    baseUrl: engine.url,
    appId: app.app_id,
    appKey: app.app_key,
    userId: identity,
    WebSocket: CountingWS,
    fetch: nodeFetch as unknown as UTDSignalingOptions["fetch"],
  };
}
