/** Seconds a `typing.start` lasts unless renewed; the engine then sends `typing.stopped` itself. */
export const TYPING_TTL_S = 6;
