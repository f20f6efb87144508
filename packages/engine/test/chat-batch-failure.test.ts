import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHAT_TEST_ENV, startEngine, world } from "./chat-world.js";

type Msg = { text: string; type: string };

/**
 * A batch of sends that fails for another reason than a membership change or a duplicate rolls back, its
 * sends run alone (the good ones are stored, the bad one gets its error), and the engine says so in its log
 * — a batch statement that keeps failing would otherwise only make every send slower.
 */
describe("chat: a failing send batch (sqlite)", () => {
  let engine: Awaited<ReturnType<typeof startEngine>>;
  beforeAll(async () => {
    engine = await startEngine({ env: CHAT_TEST_ENV });
  }, 60_000);
  afterAll(async () => {
    await engine?.stop();
  });

  it("the other sends of the batch are stored, the failing one is refused alone, and a warning is logged", async () => {
    const { t, ids } = await world(engine, 4);
    const [o, ...others] = ids as [string, ...string[]];
    const g = (
      await engine.request<{ id: string }>("POST", "/api/v1/conversations", { token: t[o], body: { kind: "group", members: others } })
    ).body;
    // The store refuses one text (a trigger in the engine's own database), as a broken statement would.
    const db = new Database(join(engine.dataDir, "utd.sqlite"));
    db.exec("CREATE TRIGGER refuse_boom BEFORE INSERT ON messages WHEN NEW.text = 'boom' BEGIN SELECT RAISE(ABORT, 'boom refused'); END");
    db.close();
    const texts = ["a", "b", "boom", "c", "d", "e"];
    const sent = await Promise.all(
      texts.map((text, i) =>
        engine.request("POST", `/api/v1/conversations/${g.id}/messages`, {
          token: t[ids[i % ids.length] as string],
          body: { client_msg_id: `bf-${i}`, text },
        }),
      ),
    );
    expect(sent.map((r) => r.status)).toEqual(texts.map((x) => (x === "boom" ? 500 : 201)));
    const stored = (
      await engine.request<{ messages: Msg[] }>("GET", `/api/v1/conversations/${g.id}/messages?after=0&limit=100`, { token: t[o] })
    ).body.messages.filter((m) => m.type === "text");
    expect(stored.map((m) => m.text).sort()).toEqual(["a", "b", "c", "d", "e"]);
    expect(engine.logs.join("\n")).toContain("send batches failed and their sends ran one by one");
  });
});
