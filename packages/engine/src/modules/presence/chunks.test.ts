import { describe, expect, it } from "vitest";
import { powerOfTwoChunks } from "./service.js";

describe("presence batch statements", () => {
  it("split rows into power-of-two parts up to the cap, largest first, every row once and in order", () => {
    const sizes = (n: number, max: number) =>
      powerOfTwoChunks(
        Array.from({ length: n }, (_, i) => i),
        max,
      ).map((p) => p.length);
    expect(sizes(0, 128)).toEqual([]);
    expect(sizes(1, 128)).toEqual([1]);
    expect(sizes(137, 128)).toEqual([128, 8, 1]);
    expect(sizes(300, 128)).toEqual([128, 128, 32, 8, 4]);
    expect(sizes(1023, 512)).toEqual([512, 256, 128, 64, 32, 16, 8, 4, 2, 1]);
    const seen = new Set<number>();
    for (let n = 0; n <= 600; n++) {
      const parts = powerOfTwoChunks(
        Array.from({ length: n }, (_, i) => i),
        128,
      );
      expect(parts.flat()).toEqual(Array.from({ length: n }, (_, i) => i));
      for (const p of parts) seen.add(p.length);
    }
    // So at most eight statements per kind are ever prepared.
    expect([...seen].sort((a, b) => a - b)).toEqual([1, 2, 4, 8, 16, 32, 64, 128]);
  });
});
