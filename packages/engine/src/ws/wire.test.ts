import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { prepareEvent, wireOf } from "./stream.js";
import { payloadOf, textFrame } from "./wire.js";

describe("wire frames", () => {
  it("a ws client reads frames written straight to the socket as the text messages they hold, at every header size", async () => {
    // Payload sizes around the 7-bit, 16-bit and 64-bit length encodings.
    const sizes = [0, 1, 125, 126, 127, 65535, 65536, 70_000];
    const payloads = sizes.map((n, i) => Buffer.from(`${i}`.padEnd(n, "x").slice(0, n)));
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await new Promise<void>((r) => wss.once("listening", () => r()));
    wss.on("connection", (_ws, req) => {
      // Several frames in one write, as Conn.flush does.
      req.socket.write(Buffer.concat(payloads.map(textFrame)));
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
      const got = await new Promise<{ text: string; binary: boolean }[]>((res, rej) => {
        const out: { text: string; binary: boolean }[] = [];
        ws.on("message", (d, binary) => {
          out.push({ text: (d as Buffer).toString("utf8"), binary });
          if (out.length === payloads.length) res(out);
        });
        ws.on("error", rej);
        ws.on("close", (code) => rej(new Error(`closed ${code}`)));
      });
      ws.terminate();
      expect(got.map((m) => m.binary)).toEqual(payloads.map(() => false));
      expect(got.map((m) => m.text)).toEqual(payloads.map((p) => p.toString("utf8")));
    } finally {
      wss.close();
    }
  });

  it("payloadOf gives back the payload of a frame", () => {
    for (const n of [0, 125, 126, 65535, 65536]) {
      const p = Buffer.alloc(n, 0x61);
      expect(payloadOf(textFrame(p)).equals(p)).toBe(true);
    }
  });

  it("an event's frame is its JSON with the seq spliced in", () => {
    const ev = prepareEvent("custom.x", JSON.stringify({ text: "héllo", n: [1, 2] }));
    for (const seq of [1, 42, 1_000_000]) {
      expect(JSON.parse(payloadOf(wireOf(ev, seq)).toString("utf8"))).toEqual({
        type: "custom.x",
        seq,
        data: { text: "héllo", n: [1, 2] },
      });
    }
  });
});
