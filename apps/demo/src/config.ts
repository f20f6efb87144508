/** What the page needs to know about its engine: the demo app's publishable id and key, and whether media is on. */
export interface DemoConfig {
  appId: string;
  appKey: string;
  livekit: boolean;
}

/**
 * Reads `GET /demo/config.json` (served by `utd serve --demo`, i.e. `npm start`). `?app_id=&app_key=`
 * in the URL points the page at another open-mode app instead.
 */
export async function loadConfig(): Promise<DemoConfig> {
  const q = new URLSearchParams(location.search);
  const res = await fetch("/demo/config.json", { headers: { accept: "application/json" } }).catch(() => undefined);
  const body = res?.ok ? ((await res.json()) as { app_id: string; app_key: string; livekit: boolean }) : undefined;
  const appId = q.get("app_id") ?? body?.app_id;
  const appKey = q.get("app_key") ?? body?.app_key;
  if (!appId || !appKey) throw new Error("no demo app");
  return { appId, appKey, livekit: body?.livekit ?? false };
}
