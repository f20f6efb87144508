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
function twoNodes(connect: () => Redis | Cluster) {
  const prefix = uniqueName("utd:test:o");
  const gaveUp: [string, number][] = [];
  const node = (nodeId: string) => {
    const ledger = new RedisAnnounceLedger({ connect, prefix, nodeId, heartbeatMs: 1000 });
    ledgers.push(ledger);
    return { order: new SeqOrder({ ledger, waitMs: 20_000, checkMs: 100, onGiveUp: (c, s) => gaveUp.push([c, s]) }), ledger };
  };
  const a = node("node-a");
  const b = node("node-b");
  return { a: a.order, b: b.order, aLedger: a.ledger, gaveUp, node };
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

    it("a conversation the ledger holds nothing for goes out at once; a slow node is waited for, a dead one is not", async () => {
      const { a, b, aLedger, gaveUp, node } = twoNodes(mk);
      // A conversation idle past the ledger's retention (or new): the first claim counts everything before as out.
      const fresh = b.claim("old-conv", 41);
      await fresh.recorded;
      expect(fresh.seen).toBe(40);
      const out: number[] = [];
      await b.ready(fresh, () => void out.push(41));
      // A takes 42 and is slow to announce it (several liveness checks): B's 43 waits for it, however long.
      const slow = a.claim("old-conv", 42);
      await slow.recorded;
      const after = b.claim("old-conv", 43);
      await after.recorded;
      expect(after.claimer).toBe("node-a");
      const p43 = b.ready(after, () => void out.push(43));
      await sleep(600);
      expect(out).toEqual([41]);
      await a.ready(slow, () => void out.push(42));
      await p43;
      expect(out).toEqual([41, 42, 43]);
      expect(gaveUp).toEqual([]);
      // A takes 44 and dies before announcing it (its heartbeat stops): B announces 44 from the store in
      // its place (the chat service reads it back), then its own 45.
      const recovered: [number, number][] = [];
      b.recoverWith(async (_c, from, to) => {
        recovered.push([from, to]);
        for (let seq = from; seq <= to; seq++) out.push(seq);
      });
      const lost = a.claim("old-conv", 44);
      await lost.recorded;
      const next = b.claim("old-conv", 45);
      await next.recorded;
      await aLedger.close();
      await b.ready(next, () => void out.push(45));
      expect(out).toEqual([41, 42, 43, 44, 45]);
      expect(recovered).toEqual([[44, 44]]);
      expect(gaveUp).toEqual([]);
      // Without a way to recover (or when it fails), the wait gives up and says so.
      b.recoverWith(() => Promise.reject(new Error("store unreachable")));
      const c = node("node-c");
      const lost2 = c.order.claim("old-conv", 46);
      await lost2.recorded;
      const next2 = b.claim("old-conv", 47);
      await next2.recorded;
      await c.ledger.close();
      await b.ready(next2, () => void out.push(47));
      expect(out).toEqual([41, 42, 43, 44, 45, 47]);
      expect(gaveUp).toEqual([["old-conv", 46]]);
    });

    it("a retried send whose first announcement was lost announces it in its place, releasing the node waiting for it", async () => {
      const { a, b, gaveUp } = twoNodes(mk);
      const out: number[] = [];
      const s9 = a.claim("c3", 9);
      await s9.recorded;
      await a.ready(s9, () => void out.push(9));
      // A stores 10 and never announces it (its node is cut off mid-publish); B's 11 waits for it.
      const s10 = a.claim("c3", 10);
      await s10.recorded;
      const s11 = b.claim("c3", 11);
      await s11.recorded;
      const p11 = b.ready(s11, () => void out.push(11));
      await sleep(50);
      expect(out).toEqual([9]);
      // The sender's retry (on B here) finds 10 stored and announces it again: in its place.
      await b.reannounce("c3", 10, () => void out.push(10));
      await p11;
      expect(out).toEqual([9, 10, 11]);
      // A retry of a message announced long ago publishes nothing (the streams' once window may be past).
      await b.reannounce("c3", 9, () => void out.push(-9));
      expect(out).toEqual([9, 10, 11]);
      // One whose publish failed is announced again by the retry, once.
      const s12 = b.claim("c3", 12);
      await s12.recorded;
      await expect(b.ready(s12, () => Promise.reject(new Error("streams unreachable")))).rejects.toThrow();
      // (B's retry: the failure went to the ledger on B's connection first.)
      await b.reannounce("c3", 12, () => void out.push(12));
      await a.reannounce("c3", 12, () => void out.push(-12));
      expect(out).toEqual([9, 10, 11, 12]);
      expect(gaveUp).toEqual([]);
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
