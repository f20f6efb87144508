import type { FastifyRequest } from "fastify";
import { pino } from "pino";
import type { Logger } from "../core/logger.js";

/** Never log these, wherever they appear. */
export const REDACT = [
  "req.headers.authorization",
  "req.headers.cookie",
  "*.token",
  "*.user_token",
  "*.identity_token",
  "*.app_key",
  "*.app_secret",
  "*.secret",
  // The console: passwords, the admin token it signs in with, the session cookie and its CSRF token.
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  "*.password",
  "*.admin_token",
  "*.csrf_token",
];

/** Query strings may carry signed-URL signatures; log the path only. */
export function logPath(req: FastifyRequest | { url?: string }): string {
  const url = req.url ?? "";
  const q = url.indexOf("?");
  return q < 0 ? url : `${url.slice(0, q)}?…`;
}

/** Bytes of log lines the stdout sink holds for a slow reader before it drops new lines. */
export const LOG_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * A pino destination that never blocks the event loop. Lines go through `process.stdout`, which on a
 * pipe or socket writes asynchronously (libuv queues what the reader has not taken); once more than
 * `maxBuffered` bytes wait, new lines are dropped and counted (`utd_log_lines_dropped_total`) instead
 * of waiting for the reader. A stalled log shipper, a paused pipe or a parent gone therefore cost log
 * lines, never liveness (pino's default sonic-boom destination retries EAGAIN with a blocking
 * `Atomics.wait`, for ever, in its exit flush). A reader that is gone for good (EPIPE) makes every
 * later line a dropped one instead of an unhandled error. Files and terminals are written
 * synchronously, as before.
 */
export class StdoutSink {
  /** Lines dropped because the reader fell behind. */
  dropped = 0;
  /** Dropped since the reader last caught up (reported in one line once it does). */
  private unreported = 0;
  /** The stream failed (EPIPE: nobody reads it any more); nothing is written to it again. */
  private broken = false;

  constructor(
    private readonly out: NodeJS.WritableStream & { writableLength: number } = process.stdout,
    /** Bytes waiting for the reader past which new lines are dropped. */
    public maxBuffered = LOG_BUFFER_BYTES,
  ) {
    out.on("error", () => {
      this.broken = true;
    });
  }

  /** pino calls this with one serialised line. */
  write(line: string): void {
    if (this.broken || this.out.writableLength > this.maxBuffered) {
      this.dropped++;
      this.unreported++;
      return;
    }
    if (this.unreported > 0) {
      this.out.write(
        `${JSON.stringify({ level: 40, time: Date.now(), dropped: this.unreported, msg: "log lines dropped: stdout reader too slow" })}\n`,
      );
      this.unreported = 0;
    }
    this.out.write(line);
  }

  /** Waits until the reader has taken what is buffered, or `ms` passed (before a process exit). */
  async waitForReader(ms: number): Promise<void> {
    const out = this.out;
    if (this.broken || out.writableLength === 0) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        out.off("drain", done);
        resolve();
      };
      const t = setTimeout(done, ms);
      t.unref();
      out.once("drain", done);
    });
  }
}

let stdoutSingleton: StdoutSink | undefined;
/** The process's one stdout sink (every engine in the process logs through it); `maxBuffered` resets its bound. */
export function stdoutSink(maxBuffered?: number): StdoutSink {
  stdoutSingleton ??= new StdoutSink();
  if (maxBuffered !== undefined) stdoutSingleton.maxBuffered = maxBuffered;
  return stdoutSingleton;
}

/**
 * The engine's default logger (the `logger` port): JSON to stdout through a {@link StdoutSink} (drops
 * lines rather than block), secrets redacted, request URLs without query strings.
 */
export function createLogger(level: string, sink: StdoutSink = stdoutSink()): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT, censor: "[redacted]" },
      serializers: {
        req: (req: FastifyRequest) => ({ method: req.method, url: logPath(req), id: req.id }),
      },
    },
    sink,
  );
}
