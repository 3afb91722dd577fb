// The HTTP layer under the client: endpoints, timeouts, cancellation and
// failover. Internal; the v2 specifics live in client.ts.

import {
  ClientClosed,
  ConnectionFailed,
  type EndpointFailure,
  RequestTimeout,
  UnexpectedResponse,
} from "./errors.ts";

/** One HTTP request to etcd. */
export interface HttpRequest {
  method: "GET" | "PUT" | "POST" | "DELETE";
  /** Path and query, such as `/v2/keys/a?recursive=true`. */
  path: string;
  /** A form-encoded body, or JSON when `json` is set. */
  body?: string | undefined;
  json?: boolean;
  signal?: AbortSignal | undefined;
  /** Milliseconds for the whole exchange; 0 for none. Defaults to the client's. */
  timeout?: number | undefined;
  /** A write that etcd may apply even if the answer never arrives. */
  write?: boolean;
  /** Ask the same endpoint again when an answer is cut after its headers (long polls). */
  retryCut?: boolean;
}

/** How many cut answers in a row a `retryCut` request tolerates. */
const MAX_CUTS = 3;

/** An answer whose body has been read. */
export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  endpoint: string;
}

/** Options of the transport. */
export interface HttpOptions {
  endpoints: readonly string[];
  timeout: number;
}

const FORM = "application/x-www-form-urlencoded";
const JSON_TYPE = "application/json";

/** Sends requests to the first endpoint that works. */
export class Http {
  readonly endpoints: string[];
  readonly timeout: number;
  #current = 0;
  readonly #closed = new AbortController();

  constructor(options: HttpOptions) {
    this.endpoints = [...options.endpoints];
    this.timeout = options.timeout;
  }

  get closed(): boolean {
    return this.#closed.signal.aborted;
  }

  close(): void {
    this.#closed.abort();
  }

  /** Sends the request and reads the whole answer. */
  async request(request: HttpRequest): Promise<HttpResponse> {
    if (this.#closed.signal.aborted) throw new ClientClosed();
    request.signal?.throwIfAborted();
    const failures: EndpointFailure[] = [];
    const count = this.endpoints.length;
    let cuts = 0;
    for (let attempt = 0; attempt < count; attempt++) {
      const index = (this.#current + attempt) % count;
      const endpoint = this.endpoints[index]!;
      try {
        const response = await this.#send(endpoint, request);
        this.#current = index;
        return response;
      } catch (error) {
        if (!(error instanceof Unreachable)) throw error;
        if (request.retryCut && error.afterHeaders && ++cuts <= MAX_CUTS) {
          attempt--;
          continue;
        }
        failures.push({ endpoint, error: error.cause });
        // A write that may have reached the server is not sent again.
        if (request.write && !error.beforeConnecting) break;
      }
    }
    throw new ConnectionFailed(describeRequest(request), failures);
  }

  async #send(endpoint: string, request: HttpRequest): Promise<HttpResponse> {
    const controller = new AbortController();
    const abort = () => controller.abort();
    const closed = this.#closed.signal;
    const signal = request.signal;
    closed.addEventListener("abort", abort);
    signal?.addEventListener("abort", abort);
    const timeout = request.timeout ?? this.timeout;
    let timedOut = false;
    const timer = timeout > 0
      ? setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeout)
      : undefined;
    let sent = false;
    try {
      const init: RequestInit = {
        method: request.method,
        redirect: "manual",
        signal: controller.signal,
      };
      if (request.body !== undefined) {
        init.body = request.body;
        init.headers = { "content-type": request.json ? JSON_TYPE : FORM };
      }
      const response = await fetch(endpoint + request.path, init);
      sent = true;
      const text = await response.text();
      const status = response.status;
      if (status >= 300 && status < 400) {
        throw new UnexpectedResponse(
          describeRequest(request),
          status,
          text,
          `HTTP ${status} redirect to ${
            JSON.stringify(response.headers.get("location"))
          } was not followed`,
        );
      }
      return { status, headers: response.headers, text, endpoint };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (closed.aborted) throw new ClientClosed();
      if (timedOut) {
        throw new RequestTimeout(
          describeRequest(request),
          endpoint,
          timeout,
          request.write === true,
        );
      }
      if (error instanceof TypeError) {
        throw new Unreachable(error, !sent && isConnectError(error), sent);
      }
      throw error;
    } finally {
      clearTimeout(timer);
      closed.removeEventListener("abort", abort);
      signal?.removeEventListener("abort", abort);
    }
  }
}

/** A transport failure that another endpoint may not have. */
class Unreachable extends Error {
  /** The connection was never made, so nothing reached the server. */
  readonly beforeConnecting: boolean;
  /** The answer's headers had arrived when it broke. */
  readonly afterHeaders: boolean;
  constructor(
    cause: unknown,
    beforeConnecting: boolean,
    afterHeaders: boolean,
  ) {
    super("unreachable", { cause });
    this.beforeConnecting = beforeConnecting;
    this.afterHeaders = afterHeaders;
  }
}

function isConnectError(error: Error): boolean {
  let text = error.message;
  let cause: unknown = error.cause;
  while (cause instanceof Error) {
    text += " " + cause.message;
    cause = cause.cause;
  }
  return /connect|refused|dns error|blocked/i.test(text);
}

/** `GET /v2/keys/a`, without the query. */
export function describeRequest(request: HttpRequest): string {
  const query = request.path.indexOf("?");
  return `${request.method} ${
    query < 0 ? request.path : request.path.slice(0, query)
  }`;
}
