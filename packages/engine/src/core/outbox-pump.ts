/**
 * Drives an outbox drain: `wake()` right after a commit, a poll timer for what came due meanwhile (retries,
 * leases that ran out, rows another node wrote), one run at a time, and one more run at once when woken
 * while a run was going (or, with `again` answering true, when the run says there is more to do).
 */
export class OutboxPump {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private pending = false;

  constructor(
    private readonly run: () => Promise<number>,
    private readonly opts: { pollMs: number; onError(err: unknown): void; again?(handled: number): boolean },
  ) {}

  /** Runs the outbox now instead of at the next poll. */
  wake(): void {
    if (this.running) {
      this.pending = true;
      return;
    }
    this.running = this.run()
      .then((n) => {
        if (this.opts.again?.(n)) this.pending = true;
        return n;
      })
      .catch((err: unknown) => {
        this.opts.onError(err);
        return 0;
      })
      .finally(() => {
        this.running = undefined;
        if (this.pending) {
          this.pending = false;
          this.wake();
        }
      });
  }

  /** Starts polling (and runs once now). */
  start(): void {
    this.timer = setInterval(() => this.wake(), this.opts.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** Stops polling and waits for the run in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.pending = false;
    await this.running;
  }
}
