// The React app of the pack-and-install smoke test (Vite dev mode, the installed @utd-stream/react): it shows
// the live messages of the newest conversation of "viewer-react", under StrictMode.
import { UTDProvider, useConnectionState, useConversations, useMessages } from "@utd-stream/react";
import { StrictMode, useEffect } from "react";
import { createRoot } from "react-dom/client";

const q = new URLSearchParams(location.search);
const param = (name: string): string => q.get(name) ?? "";

function Log() {
  const state = useConnectionState();
  const { conversations } = useConversations();
  const { messages } = useMessages(conversations[0]?.id ?? null);
  useEffect(() => {
    if (state === "connected") document.title = "ready";
  }, [state]);
  return <pre id="log">{messages.map((m) => m.text).join("\n")}</pre>;
}

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <UTDProvider options={{ baseUrl: param("engine"), appId: param("app"), appKey: param("key"), userId: "viewer-react" }}>
      <Log />
    </UTDProvider>
  </StrictMode>,
);
