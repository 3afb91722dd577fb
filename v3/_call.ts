// How every v3 call travels: JSON to `/v3/<service>/<method>` through the
// dispatcher, with the auth token when there is one (renewed once,
// transparently, when etcd says it is no longer valid), and the gateway's
// answer decoded into a result or a typed error. Internal.

import type {
  Dispatcher,
  HttpResponse,
  RequestKind,
} from "../_http/dispatcher.ts";
import { UnexpectedResponse } from "../_http/errors.ts";
import { decodeAnswer } from "./_decode.ts";
import { InvalidAuthToken } from "./_errors.ts";

/** What a call needs besides its path and body. */
export interface CallOptions {
  /** Aborts the call. */
  signal?: AbortSignal | undefined;
  /** Milliseconds for the whole call (0: none); default the client's. */
  timeout?: number | undefined;
  /** What the call is about, for error messages (a key, say). */
  context?: string | undefined;
  /** Send without a token (the call that gets one). */
  anonymous?: boolean | undefined;
}

/** A user's token, fetched when first needed and renewed when stale. */
export class TokenAuth {
  readonly #authenticate: () => Promise<string>;
  #token: Promise<string> | undefined;

  /** @param authenticate Asks etcd for a new token. */
  constructor(authenticate: () => Promise<string>) {
    this.#authenticate = authenticate;
  }

  /** The token (one request fetches it for every call waiting). */
  token(): Promise<string> {
    if (this.#token === undefined) {
      const pending = this.#authenticate();
      this.#token = pending;
      pending.catch(() => {
        if (this.#token === pending) this.#token = undefined;
      });
    }
    return this.#token;
  }

  /** Drops `stale` (if it is still the token) and gets a new one. */
  renew(stale: string): Promise<string> {
    return this.#token === undefined ? this.token() : this.#token.then(
      (current) => {
        if (current === stale) this.#token = undefined;
        return this.token();
      },
      () => this.token(),
    );
  }
}

/** Sends v3 calls. */
export class Caller {
  readonly http: Dispatcher;
  readonly auth: TokenAuth | undefined;
  /** The server's limits that callers plan by. */
  readonly limits: { readonly maxTxnOps: number };
  /** The gateway's path prefix: `/v3` (3.4 and later) or `/v3beta` (3.3). */
  #prefix: string | undefined;

  constructor(
    http: Dispatcher,
    auth: TokenAuth | undefined,
    limits: { maxTxnOps: number } = { maxTxnOps: 128 },
  ) {
    this.http = http;
    this.auth = auth;
    this.limits = limits;
  }

  /**
   * One call: `body` to `/v3/<path>`, decoded by `decode` from the answer's
   * JSON.
   */
  async call<T>(
    path: string,
    body: unknown,
    kind: RequestKind,
    decode: (body: Record<string, unknown>) => T,
    options: CallOptions = {},
  ): Promise<T> {
    const text = JSON.stringify(body);
    const prefix = this.#prefix ?? await this.#detect(options.signal);
    const send = async (token: string | undefined) =>
      await this.http.request({
        kind,
        method: "POST",
        path: `${prefix}/${path}`,
        body: text,
        headers: token ? { authorization: token } : undefined,
        signal: options.signal,
        timeout: options.timeout,
        decode: (response: HttpResponse, request) =>
          decode(decodeAnswer(request, response, options.context)),
      }) as unknown as T;
    const auth = this.auth;
    if (auth === undefined || options.anonymous) return await send(undefined);
    const token = await auth.token();
    try {
      return await send(token);
    } catch (error) {
      // A token etcd no longer takes (expired, or auth re-enabled): the
      // call was refused before anything happened, so it goes again, once.
      if (!(error instanceof InvalidAuthToken)) throw error;
      return await send(await auth.renew(token));
    }
  }

  /** The headers a stream needs: the token, when there is one. */
  async streamHeaders(): Promise<Record<string, string> | undefined> {
    const auth = this.auth;
    if (auth === undefined) return undefined;
    const token = await auth.token();
    return token === "" ? undefined : { authorization: token };
  }

  /** The path of a service method, once the prefix is known. */
  async path(path: string, signal?: AbortSignal): Promise<string> {
    return `${this.#prefix ?? await this.#detect(signal)}/${path}`;
  }

  /**
   * Which prefix the gateway serves: `/v3` since etcd 3.4; 3.3 served
   * `/v3beta`. Asked once, of `/version`.
   */
  async #detect(signal?: AbortSignal): Promise<string> {
    const response = await this.http.request({
      kind: "read",
      method: "GET",
      path: "/version",
      signal,
    });
    if (response.status !== 200) {
      throw new UnexpectedResponse(
        "GET /version",
        response.status,
        response.text,
      );
    }
    let version = "";
    try {
      version = String(JSON.parse(response.text).etcdserver ?? "");
    } catch {
      throw new UnexpectedResponse(
        "GET /version",
        response.status,
        response.text,
        `${response.endpoint} is not etcd (its /version is not JSON)`,
      );
    }
    this.#prefix = /^3\.3\./.test(version) ? "/v3beta" : "/v3";
    return this.#prefix;
  }
}
