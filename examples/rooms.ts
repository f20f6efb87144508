import { UTDSignaling } from "@utd-stream/signaling";
import WebSocket from "ws"; // Node 20 only; browsers, Node 22+ and React Native have a global WebSocket

const common = {
  baseUrl: process.env.UTD_URL ?? "http://127.0.0.1:7800",
  appId: process.env.UTD_APP_ID ?? "app_…",
  appKey: process.env.UTD_APP_KEY ?? "pk_…",
  WebSocket,
};

// A watch party: two people on their own devices.
const alice = new UTDSignaling({ ...common, userId: "alice", name: "Alice", deviceId: "alice-tv" });
const bob = new UTDSignaling({ ...common, userId: "bob", name: "Bob", deviceId: "bob-phone" });
await Promise.all([alice.connect(), bob.connect()]);

// 1. Join: resolves once in the room, with the member list filled. Member data (≤ 1 KiB) is shown to the others.
const party = await alice.room("movie-night", { data: { avatar: "fox" } });
party.members.subscribe((ms) => console.log("watching:", ms.map((m) => m.name).join(", "))); // now, then every change

const seat = await bob.room("movie-night", { data: { avatar: "panda" } });
await party.members.when((ms) => ms.length === 2);

// 2. Broadcast: every other device in the room gets it, once, in order (each carries the room's offset).
const heard = new Promise<void>((resolve) =>
  seat.messages.subscribe(({ from, data }) => {
    console.log(`${from?.name}: ${JSON.stringify(data)}`);
    resolve();
  }),
);
await party.publish({ action: "pause", at: 754.2 });
await heard;

// 3. Leave (a dropped connection rejoins by itself; leave() is for good), then sign out so the process exits.
await seat.leave();
await party.members.when((ms) => ms.length === 1);
alice.disconnect();
bob.disconnect();
