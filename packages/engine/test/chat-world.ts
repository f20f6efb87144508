import { afterAll, beforeAll } from "vitest";
import { type FreshStore, freshStore } from "../../../test/helpers/backends.js";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";

/** Generous rate limits: chat tests send bursts on purpose. */
export const CHAT_TEST_ENV: Record<string, string> = {
  UTD_RATE_REQUESTS_USER: "100000/100000",
  UTD_RATE_REQUESTS_APP: "100000/100000",
  UTD_RATE_SESSION_IDENTITY: "100000/100000",
  UTD_RATE_SESSION_APP: "100000/100000",
};

/** A fresh store for one suite's engine (`env` selects it). */
export type Backend = FreshStore;

/**
 * The two stores every engine-level suite runs on (test/helpers/backends.ts decides): a setup resolves
 * to undefined (skip, loudly) when PostgreSQL is absent outside CI.
 */
export const BACKENDS: [string, () => Promise<Backend | undefined>][] = [
  ["sqlite", () => freshStore("sqlite")],
  ["postgres", () => freshStore("postgres")],
];

let counter = 0;

/** A fresh app with `count` signed-in users; tokens by identity. */
export async function world(
  engine: RunningEngine,
  count: number,
  plan = "free",
): Promise<{ app: TestApp; t: Record<string, string>; ids: string[] }> {
  const app = await engine.createApp({ plan });
  const ids = Array.from({ length: count }, (_, i) => `u${++counter}_${i}`);
  const t: Record<string, string> = {};
  for (const id of ids) t[id] = (await engine.session(app, id)).user_token;
  return { app, t, ids };
}

export { startEngine };

/** One engine per backend for a `describe.each(BACKENDS)` block; `skip` is true when the backend is absent (outside CI). */
export interface SuiteEngine {
  readonly engine: RunningEngine;
  readonly skip: boolean;
}

/** Starts the suite's engine before its tests (chat-friendly rate limits + `env`) and stops it after. */
export function engineFor(setup: () => Promise<Backend | undefined>, env: Record<string, string> = {}): SuiteEngine {
  const suite = { engine: undefined as unknown as RunningEngine, skip: false };
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const s = await setup();
    if (!s) {
      suite.skip = true;
      return;
    }
    drop = s.drop;
    suite.engine = await startEngine({ env: { ...CHAT_TEST_ENV, ...env, ...s.env } });
  });
  afterAll(async () => {
    await suite.engine?.stop();
    await drop?.();
  });
  return suite;
}
