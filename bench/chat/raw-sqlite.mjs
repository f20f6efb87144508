// What this disk allows: single-row better-sqlite3 transactions per second with the engine's durability
// (WAL, synchronous=FULL: one fsync per commit), and rows per second when 20 rows share a commit.
// Run: `node bench/chat/raw-sqlite.mjs` (a 2-second loop each, in a throwaway dir under the OS tmpdir).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";

const dir = mkdtempSync(join(tmpdir(), "utd-raw-"));
const db = new Database(join(dir, "raw.db"));
db.pragma("journal_mode = WAL");
db.pragma("synchronous = FULL");
db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
const ins = db.prepare("INSERT INTO t (v) VALUES (?)");
const group = db.transaction((n) => {
  for (let i = 0; i < n; i++) ins.run("x".repeat(100));
});
const rate = (fn, perCall) => {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 2000) {
    fn();
    n += perCall;
  }
  return Math.round(n / ((performance.now() - t0) / 1000));
};
const single = rate(() => ins.run("x".repeat(100)), 1);
const grouped = rate(() => group(20), 20);
console.log(`raw better-sqlite3, synchronous=FULL: ${single} single-row transactions/s; ${grouped} rows/s in groups of 20`);
db.close();
rmSync(dir, { recursive: true, force: true });
