// The HTTP layer under the client: endpoints, timeouts, cancellation and
// failover. Internal; the v2 specifics live in client.ts.

import {
  ClientClosed,
  ClusterError,
  ClusterMismatch,
  ConnectionFailed,
  type EndpointFailure,
  EtcdError,
  RequestTimeout,
  UnexpectedResponse,
} from "./errors.ts";
import { backoff } from "./_retry.ts";
import {
  FetchTransport,
  type Incoming,
  NetworkError,
  type ResponseHeaders,
  SocketTransport,
  type TlsOptions,
  type Transport,
} from "./_transport.ts";

export type { TlsOptions } from "./_transport.ts";

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
  /**
   * Never send again once it reached a server, like a write: its meaning
   * depends on when it arrived (a watch stream "from now").
   */
  once?: boolean;
  /** Ask the same endpoint again when an answer is cut after its headers (long polls). */
  retryCut?: boolean;
  /** A 5xx answer is data (health), not a reason to try another member. */
  keep5xx?: boolean;
  /** Called when the answer's headers have arrived, before its body. */
  onHeaders?: (headers: ResponseHeaders) => void;
  /**
   * A watch: outside the concurrency limit (and, over fetch, on a
   * connection pool of its own, apart from other traffic).
   */
  poll?: boolean;
  /**
   * Reads a 200 answer line by line as it arrives (a `stream=true` watch);
   * the returned `text` is then whatever followed the last line break.
   */
  onLine?: (line: string) => void;
  /**
   * Turns the answer into the caller's result inside the exchange, saving
   * an async step; `request()` then resolves with what it returns.
   */
  decode?: (response: HttpResponse, request: HttpRequest) => unknown;
}

/** How many cut answers in a row a `retryCut` request tolerates. */
const MAX_CUTS = 3;

/** An answer whose body has been read. */
export interface HttpResponse {
  status: number;
  headers: ResponseHeaders;
  text: string;
  endpoint: string;
}

/** Options of the transport. */
export interface HttpOptions {
  endpoints: readonly string[];
  timeout: number;
  /** Most requests (watches aside) in flight at once; the rest wait their turn. */
  maxConcurrency: number;
  /** PEM certificates and key for TLS; absent: the platform's defaults. */
  tls?: TlsOptions | undefined;
  /** The `Authorization` header for every request. */
  authorization?: string | undefined;
  /**
   * `"sockets"` (the default): HTTP/1.1 over Deno's sockets, keep-alive;
   * `"fetch"`: the runtime's fetch.
   */
  transport?: "sockets" | "fetch" | undefined;
}

const FORM = "application/x-www-form-urlencoded";
const JSON_TYPE = "application/json";

/** A request in flight, for timeouts and `close()`. */
interface InFlight {
  readonly controller: AbortController;
  /** `performance.now()` after which it times out; `Infinity` for never. */
  readonly deadline: number;
  timedOut: boolean;
}

/** Sends requests to the first endpoint that works. */
export class Http {
  readonly endpoints: string[];
  readonly timeout: number;
  #current = 0;
  #closed = false;
  readonly #inFlight = new Set<InFlight>();
  // One coarse ticker enforces every deadline, instead of a timer per
  // request: it runs only while requests are in flight.
  readonly #tickEvery: number;
  #ticker: ReturnType<typeof setTimeout> | undefined;
  readonly #transport: Transport;
  readonly #tls: TlsOptions | undefined;
  readonly #authorization: string | undefined;
  /** The cluster id of the first answer that had one. */
  #clusterId: string | undefined;
  readonly #maxConcurrency: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(options: HttpOptions) {
    this.endpoints = [...options.endpoints];
    this.timeout = options.timeout;
    this.#tickEvery = Math.min(100, Math.max(5, options.timeout / 20));
    this.#maxConcurrency = options.maxConcurrency;
    this.#tls = options.tls;
    this.#authorization = options.authorization;
    this.#transport = options.transport === "fetch"
      ? new FetchTransport(options.tls)
      : new SocketTransport(options.tls, options.maxConcurrency);
  }

  /**
   * A TLS server that wants a client certificate closes the connection
   * during the handshake without saying why: say what it most likely means.
   */
  #explain(endpoint: string, error: Error): Error {
    if (
      endpoint.startsWith("https:") && this.#tls?.cert === undefined &&
      /connection closed|connection reset|broken pipe|handshake/i.test(
        innermost(error),
      )
    ) {
      return new TypeError(
        "TLS: the server closed the connection during the handshake: it probably requires a client certificate it accepts (give cert and key / --cert and --key)",
        { cause: error },
      );
    }
    return error;
  }

  /** The endpoint requests go to first now. */
  get current(): string {
    return this.endpoints[this.#current]!;
  }

  /**
   * Replaces the endpoints, keeping the current one first if it is among
   * them.
   */
  setEndpoints(endpoints: readonly string[]): void {
    const current = this.current;
    const ordered = endpoints.includes(current)
      ? [current, ...endpoints.filter((endpoint) => endpoint !== current)]
      : endpoints;
    this.endpoints.splice(0, this.endpoints.length, ...ordered);
    this.#current = 0;
    this.#transport.retain(this.endpoints);
  }

  /** Aborts every request in flight; later requests reject. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#ticker);
    this.#ticker = undefined;
    for (const entry of this.#inFlight) entry.controller.abort();
    this.#inFlight.clear();
    this.#transport.close();
    for (const wake of this.#waiting.splice(0)) wake();
  }

  #tick = (): void => {
    const now = performance.now();
    let timed = 0;
    for (const entry of this.#inFlight) {
      if (entry.deadline <= now) {
        entry.timedOut = true;
        this.#inFlight.delete(entry);
        entry.controller.abort();
      } else if (entry.deadline !== Infinity) {
        timed++;
      }
    }
    this.#ticker = timed > 0 ? this.#arm() : undefined;
  };

  #arm(): ReturnType<typeof setTimeout> {
    const ticker = setTimeout(this.#tick, this.#tickEvery);
    // Pending deadlines alone do not keep the process alive.
    Deno.unrefTimer(Number(ticker));
    return ticker;
  }

  /** Sends the request and reads the whole answer. */
  request(request: HttpRequest): Promise<HttpResponse> {
    if (this.#closed) return Promise.reject(new ClientClosed());
    if (request.signal?.aborted) return Promise.reject(request.signal.reason);
    if (request.poll) return this.#dispatch(request);
    if (this.#active >= this.#maxConcurrency) return this.#queue(request);
    this.#active++;
    return this.#dispatch(request, true);
  }

  /** Waits for a turn, then sends. */
  async #queue(request: HttpRequest): Promise<HttpResponse> {
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#active++;
    try {
      if (this.#closed) throw new ClientClosed();
      request.signal?.throwIfAborted();
    } catch (error) {
      this.#release();
      throw error;
    }
    return await this.#dispatch(request, true);
  }

  #release = (): void => {
    this.#active--;
    this.#waiting.shift()?.();
  };

  /**
   * Sends to the current endpoint, failing over if need be. A `counted`
   * request holds a concurrency slot, released when it settles.
   */
  #dispatch(request: HttpRequest, counted = false): Promise<HttpResponse> {
    // The common case, one endpoint that answers, takes no extra async step.
    const first = this.#current;
    const timeout = request.timeout ?? this.timeout;
    const deadline = timeout > 0 ? performance.now() + timeout : Infinity;
    return this.#send(this.endpoints[first]!, request, timeout, counted).catch(
      (error) => this.#failover(request, first, error, deadline, counted),
    );
  }

  /** Goes on after `#send` to endpoint `first` failed with `error`. */
  async #failover(
    request: HttpRequest,
    first: number,
    error: unknown,
    deadline: number,
    counted: boolean,
  ): Promise<HttpResponse> {
    try {
      return await this.#failoverFrom(request, first, error, deadline);
    } finally {
      if (counted) this.#release();
    }
  }

  async #failoverFrom(
    request: HttpRequest,
    first: number,
    error: unknown,
    deadline: number,
  ): Promise<HttpResponse> {
    const failures: EndpointFailure[] = [];
    const endpoints = this.endpoints;
    const count = endpoints.length;
    let cuts = 0;
    for (let attempt = 0;;) {
      const index = (first + attempt) % count;
      if (!(error instanceof Unreachable)) throw error;
      if (request.retryCut && error.afterHeaders && ++cuts <= MAX_CUTS) {
        // A long poll cut short: ask the same endpoint again.
      } else {
        failures.push({ endpoint: endpoints[index]!, error: error.cause });
        // Later requests start at the next endpoint.
        if (this.#current === index) this.#current = (index + 1) % count;
        // A write that may have reached the server is not sent again.
        if ((request.write || request.once) && !error.resend) {
          throw error.cause instanceof RequestTimeout ||
              !(error.cause instanceof TypeError ||
                error.cause instanceof DOMException)
            ? error.cause
            : new ConnectionFailed(
              describeRequest(request),
              failures,
              request.write === true,
            );
        }
        if (++attempt >= count) break;
        // Capped, jittered backoff between endpoints, within the deadline.
        const pause = Math.min(
          backoff(attempt - 1),
          deadline - performance.now(),
        );
        if (pause > 0) await new Promise((done) => setTimeout(done, pause));
        if (this.#closed) throw new ClientClosed();
        request.signal?.throwIfAborted();
      }
      const left = deadline - performance.now();
      if (left <= 0) break;
      const next = (first + attempt) % count;
      try {
        const response = await this.#send(
          endpoints[next]!,
          request,
          deadline === Infinity ? 0 : left,
        );
        this.#current = next;
        return response;
      } catch (failure) {
        error = failure;
      }
    }
    // One endpoint, one failure that is etcd's own answer: that answer.
    const only = failures.length === 1 ? failures[0]!.error : undefined;
    if (
      only !== undefined && !(only instanceof TypeError) &&
      !(only instanceof DOMException)
    ) {
      throw only;
    }
    if (deadline - performance.now() <= 0 && failures.length < count) {
      throw new RequestTimeout(
        describeRequest(request),
        failures.map((failure) => failure.endpoint).join(", "),
        request.timeout ?? this.timeout,
        request.write === true,
      );
    }
    throw new ConnectionFailed(describeRequest(request), failures);
  }

  /**
   * One exchange within `timeout` ms (0: none); `release` frees the
   * concurrency slot if it succeeds. Anything that another endpoint might
   * do better is thrown as {@linkcode Unreachable}.
   */
  async #send(
    endpoint: string,
    request: HttpRequest,
    timeout: number,
    release = false,
  ): Promise<HttpResponse> {
    const controller = new AbortController();
    const entry: InFlight = {
      controller,
      deadline: timeout > 0 ? performance.now() + timeout : Infinity,
      timedOut: false,
    };
    this.#inFlight.add(entry);
    if (timeout > 0 && this.#ticker === undefined) this.#ticker = this.#arm();
    const signal = request.signal;
    const abort = () => controller.abort();
    signal?.addEventListener("abort", abort);
    let sent = false;
    let incoming: Incoming | undefined;
    try {
      incoming = await this.#transport.open(endpoint, {
        method: request.method,
        path: request.path,
        body: request.body,
        contentType: request.body === undefined
          ? undefined
          : request.json
          ? JSON_TYPE
          : FORM,
        authorization: this.#authorization,
        poll: request.poll,
      }, controller.signal);
      sent = true;
      const headers = incoming.headers;
      const cluster = headers.get("x-etcd-cluster-id");
      if (cluster !== null && cluster !== this.#clusterId) {
        if (this.#clusterId === undefined) {
          this.#clusterId = cluster;
        } else {
          incoming.discard();
          // It was not applied to our cluster: safe to send elsewhere.
          throw new Unreachable(
            new ClusterMismatch(endpoint, this.#clusterId, cluster),
            true,
            false,
          );
        }
      }
      request.onHeaders?.(headers);
      const status = incoming.status;
      const text = request.onLine && status === 200
        ? await incoming.lines(request.onLine)
        : incoming.body ?? await incoming.text();
      if (status >= 300 && status < 400) {
        throw new UnexpectedResponse(
          describeRequest(request),
          status,
          text,
          `HTTP ${status} redirect to ${
            JSON.stringify(headers.get("location"))
          } was not followed`,
        );
      }
      const answer = { status, headers, text, endpoint };
      let result: unknown = answer;
      if (request.decode) {
        try {
          result = request.decode(answer, request);
        } catch (error) {
          // etcd's "no leader" and "raft internal" errors are this member's
          // trouble: another may answer.
          if (error instanceof ClusterError) {
            throw new Unreachable(error, false, false);
          }
          // So is any other 5xx that is not etcd's own error (a gateway's).
          if (status >= 500 && !(error instanceof EtcdError)) {
            throw new Unreachable(serverError(request, answer), false, false);
          }
          throw error;
        }
      } else if (status >= 500 && !request.keep5xx) {
        throw new Unreachable(serverError(request, answer), false, false);
      }
      if (release) this.#release();
      return result as HttpResponse;
    } catch (error) {
      // An answer given up on before its end frees its connection.
      incoming?.discard();
      if (error instanceof Unreachable) throw error;
      if (signal?.aborted) throw signal.reason;
      if (this.#closed) throw new ClientClosed();
      if (entry.timedOut) {
        // Another endpoint may answer in time; a write is not sent again.
        throw new Unreachable(
          new RequestTimeout(
            describeRequest(request),
            endpoint,
            request.timeout ?? this.timeout,
            request.write === true,
          ),
          false,
          sent,
        );
      }
      // A connection that breaks mid-answer can surface as an AbortError
      // although nobody aborted: that is a transport failure too.
      if (
        error instanceof TypeError ||
        (error instanceof DOMException && error.name === "AbortError")
      ) {
        throw new Unreachable(
          sent ? error : this.#explain(endpoint, error),
          !sent &&
            (error instanceof NetworkError
              ? error.connecting
              : isConnectError(error)),
          sent,
        );
      }
      throw error;
    } finally {
      this.#inFlight.delete(entry);
      signal?.removeEventListener("abort", abort);
    }
  }
}

/** A 5xx answer that is not etcd's: the member (or its gateway) failed. */
function serverError(
  request: HttpRequest,
  response: HttpResponse,
): UnexpectedResponse {
  return new UnexpectedResponse(
    describeRequest(request),
    response.status,
    response.text,
    undefined,
    request.write === true,
  );
}

/** A failure of one endpoint, which another endpoint may not have. */
class Unreachable extends Error {
  /** Nothing reached the cluster, so even a write may be sent elsewhere. */
  readonly resend: boolean;
  /** The answer's headers had arrived when it broke. */
  readonly afterHeaders: boolean;
  constructor(cause: unknown, resend: boolean, afterHeaders: boolean) {
    super("unreachable", { cause });
    this.resend = resend;
    this.afterHeaders = afterHeaders;
  }
}

function innermost(error: Error): string {
  let message = error.message;
  let cause: unknown = error.cause;
  while (cause instanceof Error) {
    message = cause.message;
    cause = cause.cause;
  }
  return message;
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

/**
 * Each client's transport, for the internal modules that need more than the
 * public API (the store seam's raw snapshot). Filled by the `Client`
 * constructor.
 */
export const transports: WeakMap<object, Http> = new WeakMap();

/** `GET /v2/keys/a`, without the query. */
export function describeRequest(request: HttpRequest): string {
  const query = request.path.indexOf("?");
  return `${request.method} ${
    query < 0 ? request.path : request.path.slice(0, query)
  }`;
}
