import { randomBytes } from "node:crypto";
import type { Bus, BusHandler, BusMessage } from "./port.js";

/**
 * A group of in-process buses that hear each other (one per simulated node). The engine makes a hub
 * of its own with one bus; tests make several to run the bus contract suite without Redis.
 */
export class MemoryBusHub {
  readonly buses = new Set<MemoryBus>();
  /** A new node on this hub. */
  bus(): MemoryBus {
    const b = new MemoryBus(this);
    this.buses.add(b);
    return b;
  }
}

/** The single-node default: delivers synchronously, in publish order. */
export class MemoryBus implements Bus {
  readonly nodeId = `node_${randomBytes(6).toString("hex")}`;
  private readonly handlers = new Set<BusHandler>();
  constructor(private readonly hub: MemoryBusHub = new MemoryBusHub()) {
    hub.buses.add(this);
  }

  publish(msg: BusMessage): void {
    for (const b of this.hub.buses) b.deliver(msg);
  }

  /** @internal */
  deliver(msg: BusMessage): void {
    for (const h of this.handlers) h(msg);
  }

  subscribe(handler: BusHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async ready(): Promise<void> {}

  async close(): Promise<void> {
    this.hub.buses.delete(this);
    this.handlers.clear();
  }
}
