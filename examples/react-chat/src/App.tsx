import type { UTDCallSession } from "@utd-stream/media";
import {
  AudioTrack,
  CallProvider,
  ConversationProvider,
  useCall,
  useChatSession,
  useConnectionState,
  useConversationRef,
  useConversations,
  useIncomingCalls,
  useMessages,
  useOutgoingCall,
  useReceipts,
  useSendMessage,
  useTracks,
  useTyping,
  useUnread,
  useUpload,
  VideoTrack,
} from "@utd-stream/react";
import type { UTDAttachment, UTDConversation, UTDMessage } from "@utd-stream/signaling";
import { useEffect, useRef, useState } from "react";

export function App({ me }: { me: string }) {
  const state = useConnectionState();
  const unread = useUnread();
  const [open, setOpen] = useState<string | null>(null);
  const [call, setCall] = useState<UTDCallSession | null>(null);
  return (
    <main>
      <header>
        <strong data-testid="me">{me}</strong>
        <span data-testid="connection" data-state={state}>
          {state}
        </span>
        <span>unread: {unread.total}</span>
      </header>
      <IncomingCall onAnswered={setCall} />
      <aside>
        <NewChat onOpen={setOpen} />
        <Conversations me={me} open={open} onOpen={setOpen} />
      </aside>
      <section>
        {call ? (
          <CallProvider session={call}>
            <CallView onClose={() => setCall(null)} />
          </CallProvider>
        ) : open ? (
          <ConversationProvider id={open}>
            <Conversation me={me} onCall={setCall} />
          </ConversationProvider>
        ) : (
          <p>Pick a conversation, or start one.</p>
        )}
      </section>
    </main>
  );
}

/** The other member of a direct conversation (its id names both). */
function other(c: UTDConversation | undefined, me: string): string {
  return c?.name ?? c?.members?.find((m) => m !== me) ?? "";
}

function NewChat({ onOpen }: { onOpen(id: string): void }) {
  const chat = useChatSession();
  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        const form = e.currentTarget;
        const who = String(new FormData(form).get("who") ?? "").trim();
        if (!chat || !who) return;
        onOpen((await chat.createConversation("direct", { members: [who] })).id);
        form.reset();
      }}
    >
      <input name="who" placeholder="Chat with…" data-testid="new-chat" />
    </form>
  );
}

function Conversations({ me, open, onOpen }: { me: string; open: string | null; onOpen(id: string): void }) {
  const { conversations } = useConversations();
  return (
    <ul data-testid="conversations">
      {conversations.map((c) => (
        <li key={c.id}>
          <button type="button" className="conv" data-selected={c.id === open} data-testid="conversation" onClick={() => onOpen(c.id)}>
            <span>{other(c, me) || c.id}</span>
            {c.unreadCount > 0 && <span className="badge">{c.unreadCount}</span>}
          </button>
        </li>
      ))}
    </ul>
  );
}

function Conversation({ me, onCall }: { me: string; onCall(s: UTDCallSession): void }) {
  const ref = useConversationRef();
  const { messages, loadedAll, loadOlder, failed, retry } = useMessages(undefined, { limit: 20 });
  const send = useSendMessage();
  const { typing, keystroke, stop } = useTyping();
  const { readBy, markRead } = useReceipts();
  const { upload, progress } = useUpload();
  const { start } = useOutgoingCall();
  const [peer, setPeer] = useState("");
  const last = messages.at(-1);
  useEffect(() => {
    ref?.members().then(
      (ms) => setPeer(ms.find((m) => m.identity !== me)?.identity ?? ""),
      () => {},
    );
  }, [ref, me]);
  useEffect(() => {
    if (last?.seq && last.sender !== me) void markRead(last.seq).catch(() => {});
  }, [last?.seq, last?.sender, me, markRead]);
  const lastMine = [...messages].reverse().find((m) => m.sender === me && m.seq !== null);
  const list = useRef<HTMLDivElement>(null);
  // Follow the newest message (paging back keeps the view where it is: only the count's last id matters).
  useEffect(() => {
    if (last?.id) list.current?.scrollTo({ top: list.current.scrollHeight });
  }, [last?.id]);
  return (
    <div>
      <h3>
        {peer}{" "}
        <button type="button" data-testid="video-call" disabled={!peer} onClick={async () => onCall(await start(peer))}>
          Video call
        </button>
      </h3>
      <div className="messages" data-testid="messages" ref={list}>
        {!loadedAll && (
          <button type="button" data-testid="load-older" onClick={() => void loadOlder(20)}>
            Load older
          </button>
        )}
        {messages.map((m) => (
          <Message key={m.id} m={m} mine={m.sender === me} />
        ))}
        {lastMine && readBy(lastMine.seq).length > 0 && (
          <div className="mine" data-testid="seen">
            Seen by {readBy(lastMine.seq).join(", ")}
          </div>
        )}
        {failed.map((m) => (
          <button type="button" key={m.id} onClick={() => void retry(m)}>
            Retry “{m.text}”
          </button>
        ))}
      </div>
      <p data-testid="typing">{typing.length > 0 ? `${typing.join(", ")} is typing…` : " "}</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const form = e.currentTarget;
          const text = String(new FormData(form).get("text") ?? "").trim();
          if (text) void send(text).catch(() => {});
          stop();
          form.reset();
        }}
      >
        <input name="text" placeholder="Message" data-testid="composer" onChange={keystroke} autoComplete="off" />
        <button type="submit" data-testid="send">
          Send
        </button>
        <input
          type="file"
          accept="image/*"
          data-testid="image"
          onChange={async (e) => {
            const file = e.currentTarget.files?.[0];
            if (!file) return;
            const token = await upload(file, { filename: file.name, contentType: file.type }, "image");
            await send({ files: [token] });
          }}
        />
        {progress && <progress data-testid="upload-progress" data-state={progress.state} max={progress.total} value={progress.sent} />}
      </form>
    </div>
  );
}

function Message({ m, mine }: { m: UTDMessage; mine: boolean }) {
  return (
    <div className={`msg${mine ? " mine" : ""}`} data-testid="message" data-pending={m.pending ? "true" : undefined}>
      {!mine && <b>{m.sender}: </b>}
      {m.text}
      {m.attachments.map((a) => (
        <Attachment key={a.fileToken} a={a} />
      ))}
    </div>
  );
}

/** An image attachment, shown from its signed download URL. */
function Attachment({ a }: { a: UTDAttachment }) {
  const chat = useChatSession();
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    chat?.chat.file(a.fileToken).then(
      (f) => setUrl(f.downloadUrl),
      () => {},
    );
  }, [chat, a.fileToken]);
  return url ? <img className="attachment" data-testid="attachment" src={url} alt={a.filename} /> : <span>[{a.filename}]</span>;
}

/** Rings (a tone and a banner) while a call comes in; answering opens the call. */
function IncomingCall({ onAnswered }: { onAnswered(s: UTDCallSession): void }) {
  const { calls, accept, reject } = useIncomingCalls();
  const ringing = calls[0];
  useEffect(() => {
    if (!ringing) return;
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    tone.frequency.value = 440;
    tone.connect(audio.destination);
    tone.start();
    return () => void audio.close();
  }, [ringing]);
  if (!ringing) return null;
  return (
    <div className="ring" data-testid="incoming-call" data-caller={ringing.callerIdentity}>
      {ringing.callerIdentity} is calling…{" "}
      <button type="button" data-testid="accept" onClick={async () => onAnswered(await accept(ringing))}>
        Accept
      </button>{" "}
      <button type="button" data-testid="decline" onClick={() => void reject(ringing)}>
        Decline
      </button>
    </div>
  );
}

/** The call: its status, a tile per camera (yours and theirs), their microphone, hang up. */
function CallView({ onClose }: { onClose(): void }) {
  const { status, endReason, end } = useCall();
  const cameras = useTracks({ sources: ["camera"] });
  const mics = useTracks({ sources: ["microphone"] }).filter((t) => !t.local);
  return (
    <div>
      <p data-testid="call-status" data-status={status ?? ""}>
        Call: {status} {endReason ? `(${endReason})` : ""}
      </p>
      <div className="tiles">
        {cameras.map((t) => (
          <div key={`${t.identity}/${t.source}`} data-testid="tile" data-identity={t.identity} data-local={String(t.local)}>
            <VideoTrack trackRef={t} />
            <small>{t.local ? "you" : t.identity}</small>
          </div>
        ))}
      </div>
      {mics.map((t) => (
        <AudioTrack key={t.identity} trackRef={t} />
      ))}
      <button type="button" data-testid="hang-up" onClick={() => void end().finally(onClose)}>
        {endReason ? "Close" : "Hang up"}
      </button>
    </div>
  );
}
