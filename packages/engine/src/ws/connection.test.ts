import type { Duplex } from "node:stream";
import { describe, expect, it } from "vitest";
import type { WebSocket } from "ws";
import { Conn, type ConnHost } from "./connection.js";
import { payloadOf, textFrame } from "./wire.js";

/** A Conn over a fake `ws` and a fake socket, recording what reaches the wire, in order. */
function setup(extensions = "") {
  const wire: string[] = [];
  const queued: Conn[] = [];
  const ws = {
    readyState: 1,
    extensions,
    bufferedAmount: 0,
    send: (d: string | Buffer) => wire.push(`ws:${d.toString()}`),
    close() {
      this.readyState = 2;
      wire.push("ws:close");
    },
    terminate() {},
  };
  const raw = { write: (b: Buffer) => wire.push(`raw:${b.toString("latin1")}`) };
  const host: ConnHost = { watch() {}, unwatch() {}, closedWith() {}, queueFlush: (c) => queued.push(c) };
  const config = { frameBurst: 10, framesPerS: 10, maxBufferedBytes: 1 << 20 };
  const conn = new Conn("c1", ws as unknown as WebSocket, host, 0, config, raw as unknown as Duplex);
  const flushQueued = () => {
    for (const c of queued.splice(0)) c.flush();
  };
  return { conn, wire, queued, flushQueued, ws };
}
const f = (text: string) => textFrame(Buffer.from(text));
const onWire = (text: string) => `raw:${f(text).toString("latin1")}`;

describe("Conn: event frames written straight to the socket", () => {
  it("frames of one turn go out in one write when the turn ends; the socket is queued once", () => {
    const { conn, wire, queued, flushQueued } = setup();
    conn.sendWire(f("a"));
    conn.sendWire(f("b"));
    conn.sendWire(f("c"));
    expect(wire).toEqual([]);
    expect(queued).toHaveLength(1);
    flushQueued();
    expect(wire).toEqual([`raw:${Buffer.concat([f("a"), f("b"), f("c")]).toString("latin1")}`]);
    conn.sendWire(f("d"));
    flushQueued();
    expect(wire.at(-1)).toBe(onWire("d"));
  });

  it("a reply, a room frame or a close writes the held frames first: the wire keeps the call order", () => {
    const { conn, wire, flushQueued } = setup();
    conn.sendWire(f("e1"));
    conn.sendRaw("reply");
    conn.sendWire(f("e2"));
    conn.sendFrame(Buffer.from("room"));
    conn.sendWire(f("e3"));
    conn.close(1000, "bye");
    conn.sendWire(f("late"));
    flushQueued();
    // A reply is framed by the Conn itself and goes out in the same write as the frames held before it.
    const e1AndReply = `raw:${Buffer.concat([f("e1"), f("reply")]).toString("latin1")}`;
    expect(wire).toEqual([e1AndReply, onWire("e2"), "ws:room", onWire("e3"), "ws:close"]);
  });

  it("a reply framed by the Conn is a valid text frame of its UTF-8 bytes, whatever its length", () => {
    const { conn, wire } = setup();
    for (const text of ["ok", "é".repeat(100), "x".repeat(70_000)]) {
      conn.sendRaw(text);
      expect(wire.at(-1)).toBe(onWire(text));
    }
  });

  it("frames held when the socket stops being open are dropped, as ws drops sends then", () => {
    const { conn, wire, flushQueued, ws } = setup();
    conn.sendWire(f("x"));
    ws.readyState = 2;
    flushQueued();
    expect(wire).toEqual([]);
  });

  it("with an extension negotiated (permessage-deflate) ws frames each event itself", () => {
    const { conn, wire, queued } = setup("permessage-deflate");
    conn.sendWire(f("z"));
    expect(queued).toHaveLength(0);
    expect(wire).toEqual(["ws:z"]);
    expect(payloadOf(f("z")).toString()).toBe("z");
  });
});
