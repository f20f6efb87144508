// The plain Node app of the pack-and-install smoke test (test/packages.test.ts): signalling, chat and media
// from the installed tarballs against a real engine. Usage: node node-app.mjs <engine url> <app id> <app key>
import { UTDStreamClient } from "@utd-stream/media";
import { getSession, UTDSignaling } from "@utd-stream/signaling";
import WebSocket from "ws";

const [baseUrl, appId, appKey] = process.argv.slice(2);
const common = { baseUrl, appId, appKey, WebSocket };

// Signalling: two users connect.
const alice = new UTDSignaling({ ...common, userId: "alice" });
const bob = new UTDSignaling({ ...common, userId: "bob" });
await Promise.all([alice.connect(), bob.connect()]);
console.log("signaling: connected");

// Chat: sessions from getSession (each mints its own user token), a message delivered live.
const aliceChat = await getSession({ ...common, userId: "alice" });
const bobChat = await getSession({ ...common, userId: "bob" });
const dm = await aliceChat.user("bob").directConversation();
const delivered = new Promise((resolve) => {
  bobChat.conversation(dm.id).subscribeMessages((messages) => {
    if (messages.some((m) => m.text === "from a tarball")) resolve();
  });
});
await dm.send("from a tarball");
await delivered;
console.log("chat: delivered");

// Media on alice's session (one session per user): a call session rings bob, who declines; the caller's
// status follows the call on alice's socket.
bob.on("call", ({ type, call }) => {
  if (type === "incoming") void bob.reject(call.id);
});
const media = new UTDStreamClient({ signaling: alice });
const call = media.callSession("audio_call");
await call.start({ calleeIdentity: "bob" });
await call.status.when((s) => s === "rejected", 10_000, "the call to be rejected");
console.log("media: call rejected");

await call.dispose();
media.disconnect();
aliceChat.disconnect();
bobChat.disconnect();
alice.disconnect();
bob.disconnect();
