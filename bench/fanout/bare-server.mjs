// The peer for bench/fanout: a bare `ws` broadcast server. POST /publish with the same JSON body the
// engine's publish endpoint takes; it parses it, encodes one frame once, and sends it to every client.
import { createServer } from "node:http";
import { WebSocketServer } from "ws";

const server = createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/publish") {
    res.writeHead(404).end();
    return;
  }
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (c) => {
    body += c;
  });
  req.on("end", () => {
    const msg = JSON.parse(body);
    const frame = Buffer.from(JSON.stringify({ type: msg.type, seq: 0, data: msg.data }));
    let n = 0;
    for (const c of wss.clients) {
      c.send(frame);
      n++;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ recipients: n }));
  });
});
const wss = new WebSocketServer({ server });
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on("SIGTERM", () => process.exit(0));
