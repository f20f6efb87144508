// The Vite app of the pack-and-install smoke test: served by `vite` in dev mode (which resolves packages with
// the `development` condition), it shows the live messages of a direct conversation.
import { getSession } from "@utd-stream/signaling";

const q = new URLSearchParams(location.search);
const param = (name: string): string => q.get(name) ?? "";
const log = document.querySelector("#log") as HTMLElement;

const session = await getSession({ baseUrl: param("engine"), appId: param("app"), appKey: param("key"), userId: "viewer" });
session.onError((e) => {
  log.dataset.error = e.code;
});
const dm = await session.user("sender").directConversation();
dm.subscribeMessages((messages) => {
  log.textContent = messages.map((m) => m.text).join("\n");
});
document.title = "ready";
