import type { Logger } from "../../core/logger.js";
import type { AppsService } from "../apps/index.js";
import type { UploadsService } from "../uploads/index.js";
import type { ChatService } from "./service.js";

/**
 * The retention sweeper: every `sweepS` it deletes messages older than each app's `history_days` (the
 * cutoff comes from the injected clock), then the files no kept message refers to.
 */
export class ChatRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: { chat: ChatService; uploads: UploadsService; apps: AppsService; sweepS: number; log: Logger }) {}

  /** Runs one purge now; resolves to the number of messages deleted. */
  async purgeNow(): Promise<number> {
    const apps = await this.d.apps.list();
    const messages = await this.d.chat.purgeExpired(apps);
    await this.d.uploads.purge(apps);
    return messages;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.running = this.purgeNow().catch((err: unknown) => this.d.log.error({ err }, "chat retention purge failed"));
    }, this.d.sweepS * 1000);
    this.timer.unref();
  }

  /** Stops the timer and waits for a purge in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
