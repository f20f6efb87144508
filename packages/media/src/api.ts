import { UTDStreamException } from "@utd-stream/protocol";
import { snakeBody } from "./wire.js";

/** The engine's REST API as the media SDK uses it: JSON, bearer auth, errors as `UTDStreamException`. */
export class UTDApiClient {
  /** Default engine base URL (same origin in a browser). */
  static readonly defaultBaseUrl = "";
  static readonly defaultTokenBaseUrl = "";
  private bearer: string | undefined;
  private readonly controllers = new Set<AbortController>();
  /** Mints a fresh user token; set by `UTDStreamClient.authenticate`. Used once per call refused with 401. */
  reauthenticate: (() => Promise<string>) | undefined;

  constructor(
    readonly baseUrl: string,
    readonly tokenBaseUrl: string,
  ) {}

  /** The user token attached to privileged calls. */
  get userToken(): string | undefined {
    return this.bearer;
  }

  setUserToken(token: string | undefined): void {
    this.bearer = token;
  }

  /**
   * A JSON request to the engine. `body` keys are camelCase; they go out snake_case. An authenticated
   * call refused with 401 is retried once after `reauthenticate`.
   */
  async request<T>(method: string, path: string, body?: Record<string, unknown>, opts: { base?: string; auth?: boolean } = {}): Promise<T> {
    try {
      return await this.send<T>(method, path, body, opts);
    } catch (err) {
      const authed = opts.auth !== false && this.bearer !== undefined;
      if (!authed || !this.reauthenticate || !(err instanceof UTDStreamException) || err.statusCode !== 401) throw err;
      this.bearer = await this.reauthenticate();
      return this.send<T>(method, path, body, opts);
    }
  }

  private async send<T>(
    method: string,
    path: string,
    body: Record<string, unknown> | undefined,
    opts: { base?: string; auth?: boolean },
  ): Promise<T> {
    const headers: Record<string, string> = {};
    if (opts.auth !== false && this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const ctl = new AbortController();
    this.controllers.add(ctl);
    let res: Response;
    try {
      res = await fetch(`${opts.base ?? this.baseUrl}${path}`, {
        method,
        headers,
        signal: ctl.signal,
        ...(body !== undefined ? { body: JSON.stringify(snakeBody(body)) } : {}),
      });
    } catch (err) {
      throw UTDStreamException.network(err instanceof Error ? err.message : String(err));
    } finally {
      this.controllers.delete(ctl);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) throw UTDStreamException.fromResponse(res.status, parsed);
    return parsed as T;
  }

  /** Aborts requests in flight (the seed's "releases the underlying HTTP pools"). */
  dispose(): void {
    for (const c of this.controllers) c.abort();
    this.controllers.clear();
  }
}
