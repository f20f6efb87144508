// The peer for bench/chat: what a hand-written chat server does with plain `ws` + better-sqlite3 (or `pg`).
// A pre-shared token per member (BASELINE_TOKENS = {"<token>": "<member>"}; all members are in group "g").
// Sends: WS `{"type":"message.send","id","conversation_id","client_msg_id","text"}` -> reply, or REST
// `POST /conversations/g/messages` (Bearer token) -> 201. Every message is committed before its ack
// (SQLite `synchronous=FULL` in WAL mode, PostgreSQL `synchronous_commit=on`): sends that arrive while a
// commit is being written share the next one (group commit). Then `message.new` goes to every member socket.
// Argv: sqlite <file> | postgres <url>. Prints {"port": N} once it listens.
import { createServer } from "node:http";
import Database from "better-sqlite3";
import pg from "pg";
import { WebSocketServer } from "ws";

const [kind, where] = process.argv.slice(2);
const tokens = JSON.parse(process.env.BASELINE_TOKENS ?? "{}");
const DDL =
  "CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, sender TEXT NOT NULL, client_msg_id TEXT NOT NULL, text TEXT NOT NULL, created_at TEXT NOT NULL)";
let seq = 0;
let commit; // (rows) => Promise<void>: one durable commit for the batch
if (kind === "sqlite") {
  const db = new Database(where);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec(DDL);
  const ins = db.prepare("INSERT INTO messages (seq, sender, client_msg_id, text, created_at) VALUES (?, ?, ?, ?, ?)");
  const tx = db.transaction((rows) => {
    for (const m of rows) ins.run(m.seq, m.sender, m.client_msg_id, m.text, m.created_at);
  });
  commit = async (rows) => tx(rows);
} else {
  const db = new pg.Client({ connectionString: where });
  await db.connect();
  await db.query(DDL.replace("INTEGER PRIMARY KEY", "BIGINT PRIMARY KEY"));
  commit = async (rows) => {
    const cols = ["seq", "sender", "client_msg_id", "text", "created_at"];
    await db.query(
      `INSERT INTO messages (${cols.join(",")}) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])`,
      cols.map((c) => rows.map((m) => m[c])),
    );
  };
}

const sockets = new Set(); // authenticated member sockets (one group: every member gets every message)
let pending = []; // [message, ack]
let writing = false;
async function flush() {
  writing = true;
  while (pending.length > 0) {
    const batch = pending;
    pending = [];
    await commit(batch.map((p) => p[0]));
    for (const [m, ack] of batch) {
      ack(m);
      const frame = JSON.stringify({ type: "message.new", seq: 0, data: m });
      for (const s of sockets) s.send(frame);
    }
  }
  writing = false;
}
function send(sender, body, ack) {
  const m = {
    id: `m${seq + 1}`,
    conversation_id: "g",
    seq: ++seq,
    sender,
    client_msg_id: String(body.client_msg_id),
    text: String(body.text),
    created_at: new Date().toISOString(),
  };
  pending.push([m, ack]);
  if (!writing) setImmediate(flush);
  writing = true;
}

const server = createServer((req, res) => {
  const user = tokens[(req.headers.authorization ?? "").replace(/^Bearer /, "")];
  if (req.method !== "POST" || req.url !== "/conversations/g/messages") return res.writeHead(404).end();
  if (!user) return res.writeHead(401).end();
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (c) => (body += c));
  req.on("end", () =>
    send(user, JSON.parse(body), (m) => res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify(m))),
  );
});
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on("connection", (ws) => {
  let user;
  ws.on("message", (d) => {
    const f = JSON.parse(d.toString());
    if (!user) {
      user = f.type === "hello" ? tokens[f.token] : undefined;
      if (!user) return ws.close(4001, "unauthenticated");
      sockets.add(ws);
      return ws.send(JSON.stringify({ type: "welcome", epoch: "e", seq: 0 }));
    }
    if (f.type === "message.send") send(user, f, (m) => ws.send(JSON.stringify({ type: "reply", id: f.id, ok: true, data: m })));
  });
  ws.on("close", () => sockets.delete(ws));
});
server.listen(0, "127.0.0.1", () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
process.on("SIGTERM", () => process.exit(0));
