import { afterAll, beforeAll } from "vitest";
import { type RunningEngine, startEngine, type TestApp } from "../../../test/helpers/engine.js";
import { freshPostgres } from "../../../test/helpers/services.js";

/** Generous rate limits: chat tests send bursts on purpose. */
export const CHAT_TEST_ENV: Record<string, string> = {
  UTD_RATE_REQUESTS_USER: "100000/100000",
  UTD_RATE_REQUESTS_APP: "100000/100000",
  UTD_RATE_SESSION_IDENTITY: "100000/100000",
  UTD_RATE_SESSION_APP: "100000/100000",
};

export interface Backend {
  env: Record<string, string>;
  pgUrl?: string;
  drop?: () => Promise<void>;
}

/** The two stores every chat suite runs on; PostgreSQL resolves to undefined (skip) when absent outside CI. */
export const BACKENDS: [string, () => Promise<Backend | undefined>][] = [
  ["sqlite", async () => ({ env: {} })],
  [
    "postgres",
    async () => {
      const pg = await freshPostgres();
      return pg ? { env: { DATABASE_URL: pg.url }, pgUrl: pg.url, drop: pg.drop } : undefined;
    },
  ],
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
