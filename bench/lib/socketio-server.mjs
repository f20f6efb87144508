// The Socket.IO peer for bench/rooms: every client joins one room on connect; POST /publish with
// {"data": …} emits it to the room (Socket.IO encodes the packet once per broadcast, like a room should).
import { createServer } from "node:http";
import { Server } from "socket.io";

const server = createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/publish") {
    if (!req.url?.startsWith("/socket.io/")) res.writeHead(404).end();
    return;
  }
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (c) => {
    body += c;
  });
  req.on("end", () => {
    const msg = JSON.parse(body);
    io.to("bench").emit("room.message", msg.data);
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ members: io.of("/").adapter.rooms.get("bench")?.size ?? 0 }));
  });
});
const io = new Server(server, { transports: ["websocket"], serveClient: false, perMessageDeflate: false });
io.on("connection", (socket) => socket.join("bench"));
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on("SIGTERM", () => process.exit(0));
