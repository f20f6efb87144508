import SqliteDatabase from "better-sqlite3";
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryCompiler,
  type QueryResult,
  SqliteDialect,
  type TransactionSettings,
} from "kysely";

/**
 * A Kysely dialect for SQLite (better-sqlite3, WAL) with **group commit**: transactions that run while a
 * commit is due share one durable `COMMIT` (one fsync under `synchronous=FULL`) instead of one each.
 *
 * - A Kysely transaction becomes a savepoint inside the open group transaction (`BEGIN` when none is
 *   open); its `commit` releases the savepoint and then **waits for the group's `COMMIT`** before it
 *   resolves, so a caller that acknowledges after its transaction still acknowledges only what is stored.
 *   A rollback rolls back its own savepoint only. If the group's `COMMIT` fails, every transaction in the
 *   group fails with that error (none was acknowledged).
 * - A transaction or statement that **fails** also reports only after the group it ran in is committed. A
 *   failure is often about data another transaction of the same group wrote (a unique key taken by a
 *   concurrent request); the caller's next read outside a transaction (on the read connection below)
 *   must see that data, or "insert, catch the conflict, read the winner" finds nothing and answers 500.
 * - A single write statement outside a transaction is a one-statement transaction of the same kind.
 * - Reads outside a transaction run on a second, read-only connection, which sees committed data only
 *   (WAL snapshot): nothing a client can read is still waiting for its commit.
 * - The group commits on the next turn of the event loop after its first transaction finished: everything
 *   already queued for the write connection by then joins it. Under no load that is one extra tick.
 *
 * Prepared statements are cached per connection (bounded), which Kysely's stock driver does not do.
 */
export class GroupCommitSqliteDialect extends SqliteDialect {
  constructor(
    private readonly file: string,
    private readonly writer: SqliteDatabase.Database,
  ) {
    super({ database: writer });
  }

  override createDriver(): Driver {
    return new GroupCommitDriver(this.writer, new SqliteDatabase(this.file, { readonly: true, fileMustExist: true }));
  }
}

/** A FIFO lock: waiters get it in the order they asked. */
class FifoLock {
  private held = false;
  private readonly queue: (() => void)[] = [];
  lock(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((res) => this.queue.push(res));
  }
  unlock(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.held = false;
  }
}

/** Bounded statement cache for one connection. */
class Statements {
  private readonly cache = new Map<string, SqliteDatabase.Statement>();
  constructor(private readonly db: SqliteDatabase.Database) {}
  get(sql: string): SqliteDatabase.Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      if (this.cache.size >= 1000) this.cache.clear();
      this.cache.set(sql, s);
    }
    return s;
  }
}

function run(stmt: SqliteDatabase.Statement, parameters: readonly unknown[]): QueryResult<unknown> {
  if (stmt.reader) return { rows: stmt.all(...parameters) };
  const { changes, lastInsertRowid } = stmt.run(...parameters);
  return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
}

const SP = "utd_tx";

class GroupCommitDriver implements Driver {
  private readonly lock = new FifoLock();
  private readonly writes: Statements;
  private readonly reads: Statements;
  /** An outer `BEGIN` was issued and not yet committed. */
  private open = false;
  /** Finished transactions waiting for the group's COMMIT. */
  private waiting: { res: () => void; rej: (e: unknown) => void }[] = [];
  private flushScheduled = false;

  constructor(
    private readonly writer: SqliteDatabase.Database,
    private readonly reader: SqliteDatabase.Database,
  ) {
    this.writes = new Statements(writer);
    this.reads = new Statements(reader);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new Handle(this);
  }

  async beginTransaction(conn: DatabaseConnection, _settings: TransactionSettings): Promise<void> {
    const h = conn as Handle;
    await this.lock.lock();
    h.locked = true;
    this.enter();
    h.inTx = true;
  }

  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    const h = conn as Handle;
    h.inTx = false;
    const done = this.leave();
    h.locked = false;
    this.lock.unlock();
    await done;
  }

  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    const h = conn as Handle;
    if (!h.inTx) return; // its commit already failed with the group (and released the lock)
    h.inTx = false;
    this.undo();
    // Release the lock before waiting: the group's COMMIT needs it.
    if (h.locked) {
      h.locked = false;
      this.lock.unlock();
    }
    await this.settled();
  }

  async releaseConnection(conn: DatabaseConnection): Promise<void> {
    const h = conn as Handle;
    if (h.locked) {
      h.locked = false;
      this.lock.unlock();
    }
  }

  async savepoint(conn: DatabaseConnection, name: string, _c: QueryCompiler["compileQuery"]): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw(`savepoint "${name}"`));
  }
  async rollbackToSavepoint(conn: DatabaseConnection, name: string, _c: QueryCompiler["compileQuery"]): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw(`rollback to "${name}"`));
  }
  async releaseSavepoint(conn: DatabaseConnection, name: string, _c: QueryCompiler["compileQuery"]): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw(`release "${name}"`));
  }

  async destroy(): Promise<void> {
    await this.lock.lock();
    this.commitGroup();
    this.reader.close();
    this.writer.close();
  }

  /** One statement for handle `h`. */
  async execute(h: Handle, q: CompiledQuery): Promise<QueryResult<unknown>> {
    const params = q.parameters as unknown[];
    if (h.inTx) return run(this.writes.get(q.sql), params);
    const ro = this.readOnly(q.sql);
    if (ro) return run(ro, params);
    // A write outside a transaction: a one-statement transaction in the group.
    await this.lock.lock();
    let result: QueryResult<unknown>;
    try {
      this.enter();
      try {
        result = run(this.writes.get(q.sql), params);
      } catch (err) {
        this.undo();
        throw err;
      }
    } catch (err) {
      this.lock.unlock();
      await this.settled();
      throw err;
    }
    const done = this.leave();
    this.lock.unlock();
    await done;
    return result;
  }

  async *stream(h: Handle, q: CompiledQuery): AsyncIterableIterator<QueryResult<unknown>> {
    const stmt = h.inTx ? this.writes.get(q.sql) : this.readOnly(q.sql);
    if (!stmt?.reader) throw new Error("the SQLite driver streams select queries only");
    for (const row of stmt.iterate(...(q.parameters as unknown[]))) yield { rows: [row] };
  }

  /** The statement on the read connection when it only reads (and is not a transaction command). */
  private readOnly(sql: string): SqliteDatabase.Statement | undefined {
    if (!/^\s*(select|with)\b/i.test(sql)) return undefined;
    try {
      const s = this.reads.get(sql);
      return s.readonly ? s : undefined;
    } catch {
      return undefined; // e.g. a table created in a still-open group: the write connection knows it
    }
  }

  /** Under the lock: opens the group if needed and a savepoint for one transaction. */
  private enter(): void {
    if (!this.open) {
      this.writer.exec("BEGIN");
      this.open = true;
    }
    this.writer.exec(`SAVEPOINT ${SP}`);
  }

  /** Under the lock: the transaction's work joins the group; resolves once the group is committed. */
  private leave(): Promise<void> {
    this.writer.exec(`RELEASE ${SP}`);
    const done = new Promise<void>((res, rej) => this.waiting.push({ res, rej }));
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => void this.flush());
    }
    return done;
  }

  /**
   * Resolves once the group open now (if any) is committed or has failed: what a failed write saw is then
   * readable outside a transaction. Never rejects (the failure being reported is the caller's own).
   */
  private settled(): Promise<void> {
    if (!this.open) return Promise.resolve();
    const done = new Promise<void>((res) => this.waiting.push({ res, rej: () => res() }));
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => void this.flush());
    }
    return done;
  }

  /** Under the lock: rolls back one transaction's savepoint (or, if SQLite already ended the group, the group). */
  private undo(): void {
    if (this.writer.inTransaction) {
      this.writer.exec(`ROLLBACK TO ${SP}`);
      this.writer.exec(`RELEASE ${SP}`);
      return;
    }
    // SQLite rolled the whole transaction back (I/O error, disk full…): the group is gone.
    this.open = false;
    this.fail(new Error("the SQLite transaction was rolled back by the database"));
  }

  private async flush(): Promise<void> {
    await this.lock.lock();
    this.flushScheduled = false;
    try {
      this.commitGroup();
    } finally {
      this.lock.unlock();
    }
  }

  /** Under the lock: the one durable COMMIT for everything in the group. */
  private commitGroup(): void {
    if (!this.open) return;
    const waiting = this.waiting;
    this.waiting = [];
    try {
      this.writer.exec("COMMIT");
      this.open = false;
      for (const w of waiting) w.res();
    } catch (err) {
      if (this.writer.inTransaction) this.writer.exec("ROLLBACK");
      this.open = false;
      for (const w of waiting) w.rej(err);
    }
  }

  private fail(err: unknown): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w.rej(err);
  }
}

/** What Kysely holds while it runs a query or a transaction. */
class Handle implements DatabaseConnection {
  inTx = false;
  locked = false;
  constructor(private readonly driver: GroupCommitDriver) {}
  executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    return this.driver.execute(this, q) as Promise<QueryResult<R>>;
  }
  streamQuery<R>(q: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    return this.driver.stream(this, q) as AsyncIterableIterator<QueryResult<R>>;
  }
}
