import { chatSessionFor, UTDSignaling } from "@utd-stream/signaling";
import WebSocket from "ws"; // Node 20 only; browsers, Node 22+ and React Native have a global WebSocket

const common = {
  baseUrl: process.env.UTD_URL ?? "http://127.0.0.1:7800",
  appId: process.env.UTD_APP_ID ?? "app_…", // the demo app's id and key, as `npm start` printed them
  appKey: process.env.UTD_APP_KEY ?? "pk_…",
  WebSocket,
};

// 1. Connect two users (one socket per device; reconnects and resumes by itself).
const alice = new UTDSignaling({ ...common, userId: "alice", deviceId: "alice-laptop" });
const bob = new UTDSignaling({ ...common, userId: "bob", deviceId: "bob-phone" });
await Promise.all([alice.connect(), bob.connect()]);
if (alice.chatEnabled === false) console.log("chat is not in this plan: show an upsell");

// 2. Presence: where bob is now, and every change from here on.
const [bobNow] = await alice.watchPresence(["bob"]);
console.log("bob is", bobNow?.status);
alice.on("presenceChanged", (p) => console.log(p.identity, "is", p.status));

// 3. Chat: durable, idempotent sends; live delivery; unread counts that stay right.
const aliceChat = chatSessionFor(alice);
const bobChat = chatSessionFor(bob);
bobChat.unread.subscribe((u) => console.log("bob unread:", u.total)); // the current value first, then every change
const dm = await aliceChat.user("bob").directConversation();
await dm.send("hi bob");
await bobChat.unread.when((u) => u.total > 0);

// 4. A call that rings every device of bob's; bob answers, alice hangs up.
bob.on("call", ({ type, call }) => {
  if (type === "incoming") bob.accept(call.id).catch((e) => console.log("bob could not answer:", e.code));
});
const answered = new Promise<string>((resolve) => alice.on("call", ({ type, call }) => type === "accepted" && resolve(call.id)));
const call = await alice.invite("bob", { type: "video_call" });
if ((await answered) === call.id) console.log("bob answered");
await alice.end(call.id); // hanging up twice is harmless

// 5. Sign out: closes the sockets, so the process exits.
alice.disconnect();
bob.disconnect();
