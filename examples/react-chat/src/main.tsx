// The React chat example: sign in, conversations, history paging, an image upload with progress, typing,
// receipts, an incoming call that rings and a two-tile video call — on @utd-stream/react's hooks.
import { UTDStreamClient } from "@utd-stream/media";
import { UTDProvider } from "@utd-stream/react";
import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.js";

/** The demo app `npm start` creates (`GET /demo/config.json`); `?app_id=&app_key=` overrides it. */
async function appConfig(): Promise<{ appId: string; appKey: string }> {
  const q = new URLSearchParams(location.search);
  if (q.get("app_id") && q.get("app_key")) return { appId: q.get("app_id") as string, appKey: q.get("app_key") as string };
  const c = (await (await fetch("/demo/config.json")).json()) as { app_id: string; app_key: string };
  return { appId: c.app_id, appKey: c.app_key };
}

function Root() {
  const [config, setConfig] = useState<{ appId: string; appKey: string } | null>(null);
  const [me, setMe] = useState("");
  useEffect(() => {
    appConfig().then(setConfig, (e: unknown) => console.error("no app config", e));
  }, []);
  if (!config) return <p>Loading…</p>;
  if (!me) {
    return (
      <form
        className="signin"
        onSubmit={(e) => {
          e.preventDefault();
          setMe(String(new FormData(e.currentTarget).get("name") ?? "").trim());
        }}
      >
        <input name="name" placeholder="Your name" data-testid="name" required />
        <button type="submit" data-testid="signin">
          Sign in
        </button>
      </form>
    );
  }
  return (
    <UTDProvider
      key={me}
      options={{ baseUrl: location.origin, appId: config.appId, appKey: config.appKey, userId: me }}
      media={(signaling) => new UTDStreamClient({ signaling })}
      onError={(e) => console.error("connect failed", e)}
    >
      <App me={me} />
    </UTDProvider>
  );
}

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
