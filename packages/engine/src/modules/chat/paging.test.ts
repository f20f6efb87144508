import { describe, expect, it } from "vitest";
import { requireRole } from "./access.js";
import { cursorOf, historyWindow, pageOf, parseCursor } from "./paging.js";

describe("chat keyset cursors", () => {
  it("round-trip a position whose key contains underscores", () => {
    const c = cursorOf(1_700_000_000_123, "user_with_underscores");
    expect(c).toBe("1700000000123_user_with_underscores");
    expect(parseCursor(c)).toEqual({ at: 1_700_000_000_123, key: "user_with_underscores" });
  });

  it("ignore missing and malformed cursors", () => {
    for (const bad of [undefined, "", "_x", "abc_x", "12_", "12"]) expect(parseCursor(bad)).toBeUndefined();
  });

  it("pageOf: the extra row only says there is a next page, and the cursor names the last row served", () => {
    const rows = [1, 2, 3].map((n) => ({ at: n * 10, id: `r${n}` }));
    const pos = (r: { at: number; id: string }) => ({ at: r.at, key: r.id });
    expect(pageOf(rows, 2, pos)).toEqual({ page: rows.slice(0, 2), next: "20_r2" });
    expect(pageOf(rows, 3, pos)).toEqual({ page: rows, next: null });
    expect(pageOf(rows, 5, pos)).toEqual({ page: rows, next: null });
    expect(pageOf([], 2, pos)).toEqual({ page: [], next: null });
    // Without a limit (the whole member list): every row, no cursor.
    expect(pageOf(rows, undefined, pos)).toEqual({ page: rows, next: null });
  });
});

describe("chat history window", () => {
  it("a backward page (newest first from the query) is served oldest first", () => {
    expect(historyWindow([9, 8, 7, 6], 3, false)).toEqual({ page: [7, 8, 9], has_more: true });
    expect(historyWindow([9, 8], 3, false)).toEqual({ page: [8, 9], has_more: false });
  });

  it("a forward page keeps the query's order", () => {
    expect(historyWindow([4, 5, 6, 7], 3, true)).toEqual({ page: [4, 5, 6], has_more: true });
    expect(historyWindow([4], 3, true)).toEqual({ page: [4], has_more: false });
  });
});

describe("chat roles", () => {
  it("requireRole admits the role and those above it, and refuses those below with forbidden", () => {
    expect(() => requireRole({ role: "owner", last_read_seq: 0 }, "admin", "x")).not.toThrow();
    expect(() => requireRole({ role: "admin", last_read_seq: 0 }, "admin", "x")).not.toThrow();
    expect(() => requireRole({ role: "member", last_read_seq: 0 }, "admin", "add members")).toThrow(
      expect.objectContaining({ code: "forbidden", message: "only a admin or above may add members" }),
    );
    expect(() => requireRole({ role: "admin", last_read_seq: 0 }, "owner", "change roles")).toThrow(
      expect.objectContaining({ code: "forbidden" }),
    );
  });
});
