import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import type { Bus, BusHandler, BusMessage } from "./port.js";
import type { RedisClient } from "./redis-client.js";

const CHANNEL = "utd:bus:v1";

/**
 * Fan-out across engine nodes through Redis pub/sub. The publishing node delivers to itself at once
 * (no round trip) and ignores its own echo; other nodes get the message from Redis. Wire format:
 * `<nodeId>\n<header JSON>\n<event data JSON>` so the event data is never parsed and re-serialised.
 */
export class RedisBus implements Bus {
  readonly nodeId = `node_${randomBytes(6).toString("hex")}`;
  private readonly handlers = new Set<BusHandler>();
  private readonly pub: RedisClient;
  private readonly sub: RedisClient;
  private readonly subscribed: Promise<void>;

  /** `target`: a Redis URL, or a maker of connections (a Redis Cluster: see redis-client.ts). */
  constructor(
    target: string | (() => RedisClient),
    private readonly onError: (err: Error) => void = () => {},
    private readonly channel = CHANNEL,
  ) {
    this.pub = typeof target === "string" ? new Redis(target, { lazyConnect: false, maxRetriesPerRequest: 2 }) : target();
    this.sub = typeof target === "string" ? new Redis(target, { lazyConnect: false }) : target();
    this.pub.on("error", (e: Error) => this.onError(e));
    this.sub.on("error", (e: Error) => this.onError(e));
    this.sub.on("messageBuffer", (_ch: Buffer, payload: Buffer) => this.receive(payload.toString("utf8")));
    this.subscribed = this.sub.subscribe(this.channel).then(() => undefined);
  }

  publish(msg: BusMessage): void {
    this.deliver(msg);
    const { data, ...header } = msg.kind === "event" ? msg : { ...msg, data: "" };
    this.pub.publish(this.channel, `${this.nodeId}\n${JSON.stringify(header)}\n${data}`).catch((e: Error) => this.onError(e));
  }

  private receive(payload: string): void {
    const a = payload.indexOf("\n");
    const b = payload.indexOf("\n", a + 1);
    if (a < 0 || b < 0 || payload.slice(0, a) === this.nodeId) return;
    try {
      const header = JSON.parse(payload.slice(a + 1, b)) as BusMessage;
      if (header.kind === "event") header.data = payload.slice(b + 1);
      this.deliver(header);
    } catch (err) {
      this.onError(err as Error);
    }
  }

  private deliver(msg: BusMessage): void {
    for (const h of this.handlers) h(msg);
  }

  subscribe(handler: BusHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  ready(): Promise<void> {
    return this.subscribed;
  }

  async close(): Promise<void> {
    this.handlers.clear();
    await Promise.allSettled([this.sub.quit(), this.pub.quit()]);
  }
}
