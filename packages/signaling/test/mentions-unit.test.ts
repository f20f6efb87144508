import { describe, expect, it } from "vitest";
import { activeMention, insertMention, suggestMentions } from "../src/index.js";

describe("mention autocomplete helpers", () => {
  const members = [{ identity: "ana" }, { identity: "andrew", name: "Drew" }, { identity: "bo", name: "Anabel" }, { identity: "zed" }];

  it("finds the mention being typed at the caret, as the engine would parse it", () => {
    expect(activeMention("hi @an")).toEqual({ start: 3, query: "an" });
    expect(activeMention("@")).toEqual({ start: 0, query: "" });
    expect(activeMention("(@z")).toEqual({ start: 1, query: "z" });
    expect(activeMention("mail@an")).toBeNull();
    expect(activeMention("hi @ana done")).toBeNull();
    expect(activeMention("hi @ana done", 7)).toEqual({ start: 3, query: "ana" });
    expect(activeMention("no mention")).toBeNull();
  });

  it("suggests identities first, then names, then containing matches; excludes and limits", () => {
    expect(suggestMentions(members, "an").map((m) => m.identity)).toEqual(["ana", "andrew", "bo"]);
    expect(suggestMentions(members, "DR").map((m) => m.identity)).toEqual(["andrew"]);
    expect(suggestMentions(members, "e").map((m) => m.identity)).toEqual(["andrew", "bo", "zed"]);
    expect(suggestMentions(members, "", { exclude: ["ana"], limit: 2 }).map((m) => m.identity)).toEqual(["andrew", "bo"]);
    expect(suggestMentions(members, "qq")).toEqual([]);
  });

  it("inserts the chosen identity in place of the partial", () => {
    const q = activeMention("hi @an and more", 6);
    expect(q).not.toBeNull();
    expect(insertMention("hi @an and more", q as NonNullable<typeof q>, "andrew")).toEqual({ text: "hi @andrew  and more", caret: 11 });
  });
});
