import Database from "better-sqlite3";
import { mkdtempSync } from "node:fs"; import { tmpdir } from "node:os"; import { join } from "node:path";
const db = new Database(join(mkdtempSync(join(tmpdir(), "raw-")), "x.db"));
db.pragma("journal_mode = WAL"); db.pragma("synchronous = FULL");
db.exec("create table t (id integer primary key, v text)");
const ins = db.prepare("insert into t (v) values (?)");
let n = 0; const t0 = performance.now();
while (performance.now() - t0 < 2000) { ins.run("x".repeat(100)); n++; }
console.log(`single-row autocommit tx/s: ${Math.round(n / 2)}`);
