import { Cluster, Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { has, redisUrlOrSkip, uniqueName } from "../../../test/helpers/backends.js";
import { type LocalRedisCluster, startRedisCluster } from "../../../test/helpers/redis-cluster.js";
import { RedisAnnounceLedger } from "../src/modules/chat/announce-ledger.js";
import { SeqOrder } from "../src/modules/chat/order.js";
import { sleep } from "./ws-helpers.js";

const redisUrl = await redisUrlOrSkip("conversation order across nodes (announce ledger)");
const cluster: LocalRedisCluster | undefined = (await has("redis-cluster", "announce ledger on a Redis Cluster"))
  ? await startRedisCluster()
  : undefined;
const ledgers: RedisAnnounceLedger[] = [];
afterAll(async () => {
  await Promise.all(ledgers.map((l) => l.close()));
  await cluster?.stop();
});

const CONNECTORS: [string, (() => Redis | Cluster) | undefined][] = [
  ["redis", redisUrl ? () => new Redis(redisUrl, { maxRetriesPerRequest: 2 }) : undefined],
  ["redis-cluster", cluster ? () => new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: 2 } }) : undefined],
];

/** Two nodes' SeqOrders over one ledger prefix (each node its own connection, as in a deployment). */
function twoNodes(connect: () => Redis | Cluster, waitMs = 5000) {
  const prefix = uniqueName("utd:test:o");
  const gaveUp: [string, number][] = [];
  const node = () => {
    const ledger = new RedisAnnounceLedger({ connect, prefix });
    ledgers.push(ledger);
    return new SeqOrder({ ledger, waitMs, onGiveUp: (c, s) => gaveUp.push([c, s]) });
  };
  return { a: node(), b: node(), gaveUp };
}

for (const [name, connect] of CONNECTORS) {
  describe.skipIf(!connect)(`announce order across two nodes (${name})`, () => {
    const mk = connect as () => Redis | Cluster;

    it("a node announces seq N only after another node's N-1 is in the streams; then at once", async () => {
      const { a, b, gaveUp } = twoNodes(mk);
      const out: string[] = [];
      // Node A takes 1..2 (one batch, two slots), node B then 3 (allocations are serialised by the row lock).
      const a1 = a.claim("conv", 1);
      const a2 = a.claim("conv", 2);
      await Promise.all([a1.recorded, a2.recorded]);
      const b3 = b.claim("conv", 3);
      await b3.recorded;
      // B committed first: it must wait for A's announcements, which finish only once "in the streams".
      let finishA!: () => void;
      const slowPublish = new Promise<void>((r) => {
        finishA = r;
      });
      const pb = b.ready(b3, () => void out.push("b3"));
      await sleep(50);
      expect(out).toEqual([]);
      const pa1 = a.ready(a1, () => {
        out.push("a1");
        return slowPublish;
      });
      const pa2 = a.ready(a2, () => {
        out.push("a2");
        return slowPublish;
      });
      await sleep(50);
      expect(out).toEqual(["a1", "a2"]); // issued in order on A, still not done: B waits
      finishA();
      await Promise.all([pa1, pa2, pb]);
      expect(out).toEqual(["a1", "a2", "b3"]);
      // Next on A: 4 follows B's 3 (already announced): no wait.
      const a4 = a.claim("conv", 4);
      await a4.recorded;
      expect(a4.seen).toBe(3);
      await a.ready(a4, () => void out.push("a4"));
      expect(out).toEqual(["a1", "a2", "b3", "a4"]);
      expect(gaveUp).toEqual([]);
    });

    it("a conversation the ledger holds nothing for goes out at once; a dead node's seq is waited for only so long", async () => {
      const { a, b, gaveUp } = twoNodes(mk, 300);
      // A conversation idle past the ledger's retention (or new): the first claim counts everything before as out.
      const fresh = b.claim("old-conv", 41);
      await fresh.recorded;
      expect(fresh.seen).toBe(40);
      const out: number[] = [];
      await b.ready(fresh, () => void out.push(41));
      // A claims 42 and dies before announcing it; B's 43 goes out after the wait, and says so.
      const lost = a.claim("old-conv", 42);
      await lost.recorded;
      const next = b.claim("old-conv", 43);
      await next.recorded;
      const t0 = Date.now();
      await b.ready(next, () => void out.push(43));
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      expect(out).toEqual([41, 43]);
      expect(gaveUp).toEqual([["old-conv", 42]]);
    });

    it("B's later slots queue behind its waiting one, and a failed announcement still releases the next node", async () => {
      const { a, b, gaveUp } = twoNodes(mk);
      const out: string[] = [];
      const a1 = a.claim("c2", 1);
      await a1.recorded;
      const b2 = b.claim("c2", 2);
      const b3 = b.claim("c2", 3);
      await Promise.all([b2.recorded, b3.recorded]);
      const pb3 = b.ready(b3, () => void out.push("b3"));
      const pb2 = b.ready(b2, () => void out.push("b2"));
      await sleep(30);
      expect(out).toEqual([]);
      // A's publish fails (the sender retries it later): B may go on.
      await expect(a.ready(a1, () => Promise.reject(new Error("streams unreachable")))).rejects.toThrow("streams unreachable");
      await Promise.all([pb2, pb3]);
      expect(out).toEqual(["b2", "b3"]);
      expect(gaveUp).toEqual([]);
    });
  });
}
