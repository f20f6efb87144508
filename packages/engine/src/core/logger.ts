import type { Logger as PinoLogger } from "pino";

/** The logger port: a pino logger (Fastify logs through the same instance, so one stream carries everything). */
export type Logger = PinoLogger;
