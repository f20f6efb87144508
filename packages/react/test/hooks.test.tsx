// @vitest-environment happy-dom
// The hooks against a real engine (spawned from source), rendered with @testing-library/react in happy-dom.
// Run twice: with React 19 (vitest.config.ts) and React 18 (packages/react/vitest.react18.config.ts).
import { act, cleanup, configure, render, renderHook, screen, waitFor } from "@testing-library/react";
import { type ChatSession, chatSessionStore, type UTDMessage, UTDSignaling } from "@utd-stream/signaling";
import { UTDEventBus } from "@utd-stream/widget";
import { type ReactNode, StrictMode, useEffect, version } from "react";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import {
  ConversationProvider,
  UTDProvider,
  useCall,
  useCapabilities,
  useConnectionState,
  useConversation,
  useConversations,
  useIncomingCalls,
  useMessages,
  usePresence,
  useReceipts,
  useSendMessage,
  useSignaling,
  useTracks,
  useTyping,
  useUnread,
  useUpload,
  useUTDEvent,
} from "../src/index.js";
import { ENGINE_ENV, openSockets, optionsFor, sockets } from "./harness.js";

// These waits are on a real engine over real sockets: on a busy machine a connect takes seconds, not the
// library's default 1 s (each wait still ends as soon as its condition holds).
configure({ asyncUtilTimeout: 15_000 });

let engine: RunningEngine;
let app: TestApp;

beforeAll(async () => {
  engine = await startEngine({ env: ENGINE_ENV });
  app = await engine.createApp({ plan: "pro" });
});
afterAll(async () => {
  await engine?.stop();
});
afterEach(() => cleanup());

/** A provider for `identity` (StrictMode unless `strict: false`). */
function as(identity: string, strict = true) {
  return ({ children }: { children?: ReactNode }) => {
    const p = <UTDProvider options={optionsFor(engine, app, identity)}>{children}</UTDProvider>;
    return strict ? <StrictMode>{p}</StrictMode> : p;
  };
}

/** A REST call as `identity` (a token minted for it). */
async function rest<T>(identity: string, method: string, path: string, body?: unknown): Promise<T> {
  const s = await engine.session(app, identity);
  const r = await engine.request<T>(method, path, { token: s.user_token, body });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function direct(a: string, b: string): Promise<string> {
  await engine.session(app, b); // the other user must exist
  return (await rest<{ id: string }>(a, "POST", "/api/v1/conversations", { kind: "direct", members: [b] })).id;
}

const texts = (ms: readonly UTDMessage[]) => ms.map((m) => m.text);

describe(`@utd-stream/react on React ${version}`, () => {
  it("StrictMode's double mount opens one socket; unmount closes it", async () => {
    const before = sockets.length;
    const { result, unmount } = renderHook(() => useConnectionState(), { wrapper: as("sm-alice") });
    await waitFor(() => expect(result.current).toBe("connected"));
    expect(sockets.length - before).toBe(1);
    unmount();
    await waitFor(() => expect(openSockets()).toBe(0));
  });

  it("an app-built facade: one message window per conversation under StrictMode, closed on unmount; the facade stays connected", async () => {
    const id = await direct("own-bob", "own-alice");
    const signaling = new UTDSignaling(optionsFor(engine, app, "own-alice"));
    await signaling.connect();
    const chat = chatSessionStore(signaling).value as ChatSession;
    const ref = chat.conversation(id);
    let open = 0;
    const subscribe = ref.subscribeMessages.bind(ref);
    ref.subscribeMessages = (...args) => {
      const sub = subscribe(...args);
      open++;
      const close = sub.unsubscribe.bind(sub);
      sub.unsubscribe = () => {
        open--;
        close();
      };
      return sub;
    };
    const wrapper = ({ children }: { children?: ReactNode }) => (
      <StrictMode>
        <UTDProvider signaling={signaling}>{children}</UTDProvider>
      </StrictMode>
    );
    const { result, unmount } = renderHook(() => [useMessages(id), useMessages(id)], { wrapper });
    await rest("own-bob", "POST", `/api/v1/conversations/${id}/messages`, { client_msg_id: "o-1", text: "to both views" });
    await waitFor(() => expect(result.current.map((m) => texts(m.messages))).toEqual([["to both views"], ["to both views"]]));
    expect(open).toBe(1);
    unmount();
    await waitFor(() => expect(open).toBe(0));
    expect(signaling.state.value).toBe("connected");
    signaling.disconnect();
  });

  it("useCapabilities reads the minted session's flags and plan limits", async () => {
    const { result } = renderHook(() => useCapabilities(), { wrapper: as("caps") });
    await waitFor(() => expect(result.current.chat).toBe(true));
    expect(result.current.signaling).toBe(true);
    expect(result.current.planLimits).not.toBeNull();
  });

  it("useSendMessage in a StrictMode effect sends once; useMessages shows it, live messages, loadOlder pages back", async () => {
    const id = await direct("msg-bob", "msg-alice");
    for (let i = 1; i <= 5; i++) {
      await rest("msg-bob", "POST", `/api/v1/conversations/${id}/messages`, { client_msg_id: `old-${i}`, text: `old ${i}` });
    }
    function Once() {
      const send = useSendMessage(id);
      useEffect(() => {
        // Before the chat session exists the send is refused (and the effect runs again once it does).
        send("sent once").catch(() => {});
      }, [send]);
      return null;
    }
    const { result } = renderHook(
      () => {
        const m = useMessages(id, { limit: 3 });
        return { ...m, conversation: useConversation(id) };
      },
      {
        wrapper: ({ children }) => {
          const W = as("msg-alice");
          return (
            <W>
              <Once />
              {children}
            </W>
          );
        },
      },
    );
    await waitFor(() => expect(texts(result.current.messages).at(-1)).toBe("sent once"));
    expect(result.current.messages.filter((m) => m.text === "sent once")).toHaveLength(1);
    const history = await rest<{ messages: { text: string }[] }>("msg-bob", "GET", `/api/v1/conversations/${id}/messages?limit=50`);
    expect(history.messages.filter((m) => m.text === "sent once")).toHaveLength(1);
    // Live: bob speaks over REST; alice's window and conversation follow.
    await rest("msg-bob", "POST", `/api/v1/conversations/${id}/messages`, { client_msg_id: "live-1", text: "live one" });
    await waitFor(() => expect(texts(result.current.messages).at(-1)).toBe("live one"));
    await waitFor(() => expect(result.current.conversation?.lastMessage?.text).toBe("live one"));
    expect(result.current.loadedAll).toBe(false);
    await act(async () => {
      await result.current.loadOlder(10);
    });
    expect(texts(result.current.messages)).toEqual(["old 1", "old 2", "old 3", "old 4", "old 5", "sent once", "live one"]);
    expect(result.current.loadedAll).toBe(true);
  });

  it("a refused send shows under `failed`; retry sends it again under the same client id (one entry)", async () => {
    // A conversation alice is not a member of: the engine refuses.
    const id = await direct("fail-bob", "fail-carol");
    const { result } = renderHook(() => ({ m: useMessages(id), send: useSendMessage(id) }), { wrapper: as("fail-alice", false) });
    await waitFor(() => expect(result.current.send).toBeTypeOf("function"));
    await waitFor(async () => {
      await expect(result.current.send("nope")).rejects.toMatchObject({ code: expect.any(String) });
    });
    await waitFor(() => expect(result.current.m.failed).toHaveLength(1));
    const failed = result.current.m.failed[0] as UTDMessage;
    await act(async () => {
      await result.current.m.retry(failed).catch(() => {});
    });
    expect(result.current.m.failed).toHaveLength(1);
    expect(result.current.m.failed[0]?.clientMsgId).toBe(failed.clientMsgId);
  });

  it("useConversations lists live; useUnread counts; useReceipts sees the other member read", async () => {
    const id = await direct("inbox-bob", "inbox-alice");
    const { result } = renderHook(
      () => ({ list: useConversations(), unread: useUnread(), one: useUnread(id), receipts: useReceipts(id) }),
      { wrapper: as("inbox-alice") },
    );
    await waitFor(() => expect(result.current.list.conversations.map((c) => c.id)).toContain(id));
    const sent = await rest<{ seq: number }>("inbox-bob", "POST", `/api/v1/conversations/${id}/messages`, {
      client_msg_id: "u-1",
      text: "unread me",
    });
    await waitFor(() => expect(result.current.one).toBe(1));
    expect(result.current.unread.total).toBeGreaterThanOrEqual(1);
    await waitFor(() => expect(result.current.list.conversations[0]?.lastMessage?.text).toBe("unread me"));
    await act(() => result.current.receipts.markRead());
    await waitFor(() => expect(result.current.one).toBe(0));
    // Alice answers; bob reads it: alice's receipts say so, live.
    const reply = await rest<{ seq: number }>("inbox-alice", "POST", `/api/v1/conversations/${id}/messages`, {
      client_msg_id: "r-1",
      text: "reply",
    });
    expect(result.current.receipts.readBy(reply.seq)).toEqual([]);
    await rest("inbox-bob", "POST", `/api/v1/conversations/${id}/read`, { seq: reply.seq });
    await waitFor(() => expect(result.current.receipts.readBy(reply.seq)).toEqual(["inbox-bob"]));
    expect(result.current.receipts.readBy(sent.seq)).toEqual(["inbox-bob"]);
  });

  it("useTyping shows the other member typing; usePresence sees them online", async () => {
    const id = await direct("ty-alice", "ty-bob");
    const bob = renderHook(() => ({ typing: useTyping(id), state: useConnectionState() }), { wrapper: as("ty-bob") });
    const alice = renderHook(() => ({ typing: useTyping(id), presence: usePresence(["ty-bob"]) }), { wrapper: as("ty-alice") });
    await waitFor(() => expect(bob.result.current.state).toBe("connected"));
    await waitFor(() => expect(alice.result.current.presence["ty-bob"]?.status).toBe("online"));
    act(() => bob.result.current.typing.keystroke());
    await waitFor(() => expect(alice.result.current.typing.typing).toEqual(["ty-bob"]));
    act(() => bob.result.current.typing.stop());
    await waitFor(() => expect(alice.result.current.typing.typing).toEqual([]));
  });

  it("hooks re-subscribe when their arguments change", async () => {
    const one = await direct("rs-bob", "rs-alice");
    const two = await direct("rs-carol", "rs-alice");
    await rest("rs-bob", "POST", `/api/v1/conversations/${one}/messages`, { client_msg_id: "a", text: "from bob" });
    await rest("rs-carol", "POST", `/api/v1/conversations/${two}/messages`, { client_msg_id: "b", text: "from carol" });
    function Show() {
      const { messages } = useMessages();
      return <p data-testid="texts">{texts(messages).join(",")}</p>;
    }
    const Wrapper = as("rs-alice");
    const view = (id: string) => (
      <Wrapper>
        <ConversationProvider id={id}>
          <Show />
        </ConversationProvider>
      </Wrapper>
    );
    const { rerender } = render(view(one));
    await waitFor(() => expect(screen.getByTestId("texts").textContent).toBe("from bob"));
    rerender(view(two));
    await waitFor(() => expect(screen.getByTestId("texts").textContent).toBe("from carol"));
  });

  it("useUpload reports progress and resolves to a file token", async () => {
    const { result } = renderHook(() => ({ up: useUpload(), state: useConnectionState() }), { wrapper: as("up-alice") });
    await waitFor(() => expect(result.current.state).toBe("connected"));
    const bytes = new Uint8Array(64 * 1024).fill(7);
    let token = "";
    await act(async () => {
      token = await result.current.up.upload(bytes, { filename: "x.bin", contentType: "application/octet-stream" }, "file");
    });
    expect(token).toMatch(/\S/);
    expect(result.current.up.progress).toMatchObject({ state: "done", sent: bytes.byteLength, total: bytes.byteLength, token });
  });

  it("useIncomingCalls rings; useCall(call).reject ends it for both sides", async () => {
    const callee = renderHook(() => ({ incoming: useIncomingCalls(), state: useConnectionState() }), { wrapper: as("call-bob") });
    const caller = renderHook(() => ({ signaling: useSignaling(), state: useConnectionState() }), { wrapper: as("call-alice") });
    await waitFor(() => expect(callee.result.current.state).toBe("connected"));
    await waitFor(() => expect(caller.result.current.state).toBe("connected"));
    const signaling: UTDSignaling = caller.result.current.signaling;
    const invited = await signaling.invite("call-bob", { type: "audio_call" });
    await waitFor(() => expect(callee.result.current.incoming.calls.map((c) => c.id)).toEqual([invited.id]));
    const call = callee.result.current.incoming.calls[0];
    const { result } = renderHook(() => useCall(call), { wrapper: as("call-bob", false) });
    await waitFor(() => expect(result.current.status).toBe("ringing"));
    await act(() => callee.result.current.incoming.reject(invited));
    await waitFor(() => expect(callee.result.current.incoming.calls).toEqual([]));
    await waitFor(async () => expect((await signaling.getCall(invited.id)).status).toBe("rejected"));
  });

  it("useUTDEvent listens on the app-wide bus while mounted; media hooks without a session are empty", () => {
    const bus = new UTDEventBus();
    const seen: string[] = [];
    const wrapper = ({ children }: { children?: ReactNode }) => (
      <UTDProvider options={optionsFor(engine, app, "ev-alice")} events={bus} autoConnect={false}>
        {children}
      </UTDProvider>
    );
    const { result, unmount } = renderHook(
      () => {
        useUTDEvent("conversationWasClosed", (e) => seen.push(e.id));
        return useTracks();
      },
      { wrapper },
    );
    expect(result.current).toEqual([]);
    bus.emit("conversationWasClosed", { id: "c1", closedBy: null });
    expect(seen).toEqual(["c1"]);
    unmount();
    expect(bus.listenerCount("conversationWasClosed")).toBe(0);
  });
});
