// Server rendering: the provider and every hook render their initial values with renderToString, without a
// window, a socket or a request (Node environment, no DOM).
import type { UTDSignalingOptions, WebSocketConstructor } from "@utd-stream/signaling";
import { renderToString } from "react-dom/server";
import { describe, expect, it } from "vitest";
import {
  ConversationProvider,
  UTDProvider,
  useCapabilities,
  useConnectionState,
  useConversation,
  useConversations,
  useIncomingCalls,
  useMessages,
  usePresence,
  useReceipts,
  useTracks,
  useTyping,
  useUnread,
} from "../src/index.js";

function Everything() {
  const state = useConnectionState();
  const caps = useCapabilities();
  const { conversations } = useConversations();
  const conversation = useConversation();
  const { messages, loadedAll } = useMessages();
  const { typing } = useTyping();
  const unread = useUnread();
  const { receipts } = useReceipts();
  const presence = usePresence(["bob"]);
  const { calls } = useIncomingCalls();
  const tracks = useTracks();
  return (
    <pre>
      {JSON.stringify({
        state,
        chat: caps.chat,
        conversations: conversations.length,
        conversation,
        messages: messages.length,
        loadedAll,
        typing,
        unread: unread.total,
        receipts,
        presence,
        calls: calls.length,
        tracks: tracks.length,
      })}
    </pre>
  );
}

describe("server rendering", () => {
  it("renders initial state without touching window, opening a socket or fetching", () => {
    expect(typeof (globalThis as { window?: unknown }).window).toBe("undefined");
    let sockets = 0;
    let requests = 0;
    const opts: UTDSignalingOptions = {
      baseUrl: "http://127.0.0.1:9",
      appId: "app",
      appKey: "pk",
      userId: "alice",
      WebSocket: class {
        constructor() {
          sockets++;
        }
      } as unknown as WebSocketConstructor,
      fetch: async () => {
        requests++;
        throw new Error("no network on the server");
      },
    };
    const html = renderToString(
      <UTDProvider options={opts}>
        <ConversationProvider id="c1">
          <Everything />
        </ConversationProvider>
      </UTDProvider>,
    );
    expect(html).toContain("&quot;state&quot;:&quot;idle&quot;");
    expect(html).toContain("&quot;conversations&quot;:0");
    expect(html).toContain("&quot;conversation&quot;:null");
    expect(sockets).toBe(0);
    expect(requests).toBe(0);
  });
});
