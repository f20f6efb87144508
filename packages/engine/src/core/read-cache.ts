/**
 * A bounded map of recent reads, each good for `ttlMs` by the caller's clock (a clock stepped back counts as
 * stale). When it holds `max`, the oldest read goes first.
 */
export class ReadCache<V> {
  private readonly m = new Map<string, { v: V; at: number }>();
  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
  ) {}
  get(k: string, now: number): V | undefined {
    const e = this.m.get(k);
    if (!e) return undefined;
    if (now - e.at < this.ttlMs && now >= e.at) return e.v;
    this.m.delete(k);
    return undefined;
  }
  set(k: string, v: V, now: number): void {
    this.m.delete(k); // re-inserted last: the map's order is the order of the reads
    if (this.m.size >= this.max) {
      const oldest = this.m.keys().next();
      if (!oldest.done) this.m.delete(oldest.value);
    }
    this.m.set(k, { v, at: now });
  }
  delete(k: string): void {
    this.m.delete(k);
  }
}
