import { Worker } from "node:worker_threads";

/**
 * The watchdog's code: a timer on its own thread that SIGKILLs the whole process at the deadline. It
 * writes nothing (stderr may be the very pipe that stalled).
 */
const WATCHDOG_SOURCE = `
const { workerData } = require("node:worker_threads");
setTimeout(() => process.kill(workerData.pid, "SIGKILL"), workerData.ms);
`;

/**
 * Guarantees that this process is gone `ms` from now, whatever its main thread is doing: the timer
 * runs in a worker thread, so a main thread stuck in a blocking call (a synchronous write to a stalled
 * pipe, a busy loop) cannot hold the exit. The worker does not keep the process alive; the returned
 * function disarms it.
 */
export function armExitWatchdog(ms: number): () => void {
  // execArgv []: the worker loads no loader hooks (tsx in development), so it starts in milliseconds.
  const worker = new Worker(WATCHDOG_SOURCE, { eval: true, workerData: { ms, pid: process.pid }, execArgv: [] });
  worker.unref();
  return () => void worker.terminate();
}
