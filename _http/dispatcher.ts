// The protocol-neutral HTTP layer under every client: which member a
// request goes to, deadlines, cancellation, the concurrency limit and
// failover. Internal. What an answer means is the protocol backend's: it
// gives the hooks of `Protocol` and decodes answers itself.

import {
  ClientClosed,
  ConnectionFailed,
  type EndpointFailure,
  RequestAborted,
  RequestTimeout,
  UnexpectedResponse,
} from "./errors.ts";
import { Deadlines, type Timed } from "./deadlines.ts";
import { ClusterPin, failover } from "./failover.ts";
import { Slots } from "./slots.ts";
import {
  FetchTransport,
  type Incoming,
  NetworkError,
  type ResponseHeaders,
  SocketTransport,
  type TlsOptions,
  type Transport,
} from "./transport.ts";

export type { TlsOptions } from "./transport.ts";

/**
 * What a request is, which decides how it may be retried:
 *
 * - `read`: sent again to the next member after any failure of this one.
 * - `write`: never sent again once it may have reached a member.
 * - `probe`: a read whose 5xx answer is the data (`/health`).
 * - `poll`: a long poll: no timeout, outside the concurrency limit, asked
 *   again of the same member when the answer is cut after its headers.
 * - `stream`: a stream of changes: no timeout, outside the concurrency
 *   limit, never sent again (its meaning depends on when it arrived).
 */
export type RequestKind = "read" | "write" | "probe" | "poll" | "stream";

/** One HTTP request to etcd. */
export interface HttpRequest {
  kind: RequestKind;
  method: "GET" | "PUT" | "POST" | "DELETE";
  /** Path and query, such as `/v2/keys/a?recursive=true`. */
  path: string;
  body?: string | undefined;
  /** The body's content type; the protocol's default if absent. */
  contentType?: string | undefined;
  /** Headers of this request only (lower-case names). */
  headers?: Readonly<Record<string, string>> | undefined;
  signal?: AbortSignal | undefined;
  /** Milliseconds for the whole call; 0 for none. Default: the client's. */
  timeout?: number | undefined;
  /** Called when the answer's headers have arrived, before its body. */
  onHeaders?: ((headers: ResponseHeaders) => void) | undefined;
  /**
   * Reads a 200 answer line by line as it arrives (a stream), from
   * `endpoint`; the returned `text` is then whatever followed the last
   * line break.
   */
  onLine?: ((line: string, endpoint: string) => void) | undefined;
  /**
   * Turns the answer into the caller's result inside the exchange, saving
   * an async step; `request()` then resolves with what it returns.
   */
  decode?:
    | ((response: HttpResponse, request: HttpRequest) => unknown)
    | undefined;
  /**
   * Runs before each attempt at a member, with nothing sent yet (a check
   * that the member is of the right cluster, say), within the attempt's
   * `timeout` (ms; 0: none), which its time comes out of; undefined when
   * there is nothing to wait for. Its failure is that member's, and the
   * request may go to the next one, even a write.
   */
  before?:
    | ((endpoint: string, timeout: number) => Promise<void> | undefined)
    | undefined;
}

/** An answer whose body has been read. */
export interface HttpResponse {
  status: number;
  headers: ResponseHeaders;
  text: string;
  endpoint: string;
}

/** What the dispatcher asks of the protocol it carries. */
export interface Protocol {
  /**
   * The cluster an answer comes from, when the protocol says in its
   * headers: the first one seen is pinned, and an answer from another is a
   * member failure (`ClusterMismatch`), never data.
   */
  clusterOf?(headers: ResponseHeaders): string | undefined;
  /**
   * Whether an error thrown by `decode` is this member's trouble (no
   * leader, say), so that another member may answer a read; `"not applied"`
   * when the error also proves that a write was not applied, so that it may
   * go to another member too.
   */
  memberTrouble(error: unknown): boolean | "not applied";
  /** The default content type of request bodies. */
  readonly contentType: string;
  /** What to say when an answer is 404 because of a path in the endpoint. */
  describe?(request: HttpRequest): string;
}

/** Options of the dispatcher. */
export interface DispatcherOptions {
  endpoints: readonly string[];
  timeout: number;
  /** Most requests (polls and streams aside) in flight at once. */
  maxConcurrency: number;
  /** PEM certificates and key for TLS; absent: the platform's defaults. */
  tls?: TlsOptions | undefined;
  /** Headers of every request (lower-case names), such as `authorization`. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** `"sockets"` (the default): our HTTP/1.1; `"fetch"`: the runtime's. */
  transport?: "sockets" | "fetch" | undefined;
  protocol: Protocol;
  /** Told of each member failure (the member a request failed on). */
  onMemberFailure?: ((endpoint: string) => void) | undefined;
}

/** How many cut answers in a row a long poll tolerates from one member. */
const MAX_CUTS = 3;

/** A request in flight, for timeouts and `close()`. */
class InFlight implements Timed {
  readonly controller = new AbortController();
  timedOut = false;

  constructor(readonly deadline: number) {}

  expire(): void {
    this.timedOut = true;
    this.controller.abort();
  }
}

/** A failure of one member, which another member may not have. */
class MemberFailure extends Error {
  /** Nothing reached the cluster, so even a write may go elsewhere. */
  readonly resendable: boolean;
  /** The answer's headers had arrived when it broke. */
  readonly afterHeaders: boolean;

  constructor(
    cause: unknown,
    how: { resendable: boolean; afterHeaders: boolean },
  ) {
    super("member failure", { cause });
    this.resendable = how.resendable;
    this.afterHeaders = how.afterHeaders;
  }
}

/**
 * Marks `error`, thrown by a request's `onLine` before any line was taken,
 * as the member's failure: nothing was applied there (an answer of another
 * cluster, say), so the request goes on to the next member.
 */
export function notAppliedHere(error: unknown): Error {
  return new MemberFailure(error, { resendable: true, afterHeaders: false });
}

/**
 * Sends each request to a member that works, the one that worked last
 * first; moves on after a connection error, a timeout, a 5xx answer or the
 * protocol's "member trouble", within one deadline per call.
 */
export class Dispatcher {
  readonly endpoints: string[];
  readonly timeout: number;
  readonly #protocol: Protocol;
  readonly #schemes: ReadonlySet<string>;
  #current = 0;
  #closed = false;
  /**
   * One coarse ticker enforces every deadline of the client (gRPC's calls
   * too), instead of a timer per request.
   */
  readonly deadlines: Deadlines;
  readonly #transport: Transport;
  readonly #tls: TlsOptions | undefined;
  #headers: Readonly<Record<string, string>> | undefined;
  /** The cluster of the first answer that named one. */
  readonly #pin = new ClusterPin();
  readonly #onMemberFailure: ((endpoint: string) => void) | undefined;
  readonly #slots: Slots;

  constructor(options: DispatcherOptions) {
    this.endpoints = [...options.endpoints];
    this.#schemes = new Set(
      options.endpoints.map((endpoint) => endpoint.split(":")[0]!),
    );
    this.timeout = options.timeout;
    this.#protocol = options.protocol;
    this.#onMemberFailure = options.onMemberFailure;
    this.deadlines = new Deadlines(Deadlines.periodFor(options.timeout));
    this.#slots = new Slots(options.maxConcurrency);
    this.#tls = options.tls;
    this.#headers = options.headers;
    this.#transport = options.transport === "fetch"
      ? new FetchTransport(options.tls)
      : new SocketTransport(options.tls, options.maxConcurrency);
  }

  /** The endpoint requests go to first now. */
  get current(): string {
    return this.endpoints[this.#current]!;
  }

  /** Whether TLS client options were given. */
  get hasClientCertificate(): boolean {
    return this.#tls?.cert !== undefined;
  }

  /** Moves on from `endpoint`: later requests start at the next one. */
  avoid(endpoint: string): void {
    if (this.current === endpoint && this.endpoints.length > 1) {
      this.#current = (this.#current + 1) % this.endpoints.length;
    }
  }

  /** Replaces the headers sent with every request (a new token, say). */
  setHeaders(headers: Readonly<Record<string, string>> | undefined): void {
    this.#headers = headers;
  }

  /**
   * Replaces the endpoints, keeping the current one first if it is among
   * them.
   */
  setEndpoints(endpoints: readonly string[]): void {
    // Never another scheme than the client was given: an https client's
    // credentials must not travel over http.
    endpoints = endpoints.filter((endpoint) =>
      this.#schemes.has(endpoint.split(":")[0]!)
    );
    if (endpoints.length === 0) return;
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
    for (const entry of [...this.deadlines.entries]) {
      if (!(entry instanceof InFlight)) continue;
      this.deadlines.delete(entry);
      entry.controller.abort();
    }
    this.#transport.close();
    this.#slots.close(new ClientClosed());
  }

  /** Sends the request and reads the whole answer. */
  request(request: HttpRequest): Promise<HttpResponse> {
    if (this.#closed) return Promise.reject(new ClientClosed());
    if (request.signal?.aborted) return Promise.reject(request.signal.reason);
    if (request.kind === "poll" || request.kind === "stream") {
      return this.#dispatch(request);
    }
    if (this.#slots.tryTake()) return this.#dispatch(request, true);
    return this.#queue(request);
  }

  /**
   * One exchange with `endpoint` alone, for a request's `before`: no other
   * member is tried, it takes no turn (the request it is asked for has
   * one), and it fails as one attempt does (what another member might do
   * better wrapped, for `before` to tell from an answer).
   */
  requestAt(endpoint: string, request: HttpRequest): Promise<HttpResponse> {
    if (this.#closed) return Promise.reject(new ClientClosed());
    return this.#send(endpoint, request, this.#timeoutOf(request));
  }

  /**
   * Waits for a turn (its deadline and signal hold while it waits), then
   * sends.
   */
  async #queue(request: HttpRequest): Promise<HttpResponse> {
    const timeout = this.#timeoutOf(request);
    const deadline = timeout > 0 ? performance.now() + timeout : Infinity;
    await this.#slots.take(
      request.signal,
      deadline,
      this.deadlines,
      () =>
        new RequestTimeout(
          describeRequest(request),
          "the client (waiting for a turn: maxConcurrency)",
          timeout,
          false,
        ),
    );
    if (this.#closed) {
      this.#release();
      throw new ClientClosed();
    }
    return await this.#dispatch(request, true, deadline);
  }

  #release = (): void => this.#slots.release();

  #timeoutOf(request: HttpRequest): number {
    if (request.kind === "poll" || request.kind === "stream") return 0;
    return request.timeout ?? this.timeout;
  }

  /**
   * Sends to the current endpoint, failing over if need be. A `counted`
   * request holds a concurrency slot, released when it settles.
   */
  #dispatch(
    request: HttpRequest,
    counted = false,
    queued?: number,
  ): Promise<HttpResponse> {
    // The common case, one endpoint that answers, takes no extra async step.
    const first = this.#current;
    let timeout = this.#timeoutOf(request);
    let deadline = timeout > 0 ? performance.now() + timeout : Infinity;
    if (queued !== undefined && queued !== Infinity) {
      deadline = queued;
      timeout = Math.max(1, queued - performance.now());
    }
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

  #failoverFrom(
    request: HttpRequest,
    first: number,
    error: unknown,
    deadline: number,
  ): Promise<HttpResponse> {
    let cuts = 0;
    return failover(
      {
        endpoints: this.endpoints,
        once: sentOnce(request),
        deadline,
        attempt: (endpoint, left) => this.#send(endpoint, request, left),
        judge: (error) => {
          if (!(error instanceof MemberFailure)) return undefined;
          // A long poll cut short: ask the same member again.
          const again = request.kind === "poll" && error.afterHeaders &&
            ++cuts <= MAX_CUTS;
          return { cause: error.cause, resendable: error.resendable, again };
        },
        moved: (index, failed) => {
          if (failed) this.#onMemberFailure?.(this.endpoints[index]!);
          const count = this.endpoints.length;
          if (!failed) this.#current = index;
          else if (this.#current === index) this.#current = (index + 1) % count;
        },
        check: () => {
          if (this.#closed) throw new ClientClosed();
          request.signal?.throwIfAborted();
        },
        onceFailure: (failure, failures) =>
          onceFailure(request, failure.cause, failures),
        exhausted: (failures, timedOut) =>
          this.#exhausted(request, failures, timedOut),
      },
      first,
      error,
    );
  }

  /** The error of a call that every member failed (or that ran out of time). */
  #exhausted(
    request: HttpRequest,
    failures: EndpointFailure[],
    timedOut: boolean,
  ): Error {
    // One endpoint, one failure that is etcd's own answer: that answer.
    const only = failures.length === 1 ? failures[0]!.error : undefined;
    if (
      only !== undefined && !(only instanceof TypeError) &&
      !(only instanceof DOMException)
    ) {
      return only as Error;
    }
    if (timedOut) {
      return new RequestTimeout(
        describeRequest(request),
        failures.map((failure) => failure.endpoint).join(", "),
        this.#timeoutOf(request),
        request.kind === "write",
      );
    }
    return new ConnectionFailed(describeRequest(request), failures);
  }

  /**
   * One exchange with one member within `timeout` ms (0: none); `release`
   * frees the concurrency slot if it succeeds. Anything another member
   * might do better is thrown as a {@linkcode MemberFailure}.
   */
  async #send(
    endpoint: string,
    request: HttpRequest,
    timeout: number,
    release = false,
  ): Promise<HttpResponse> {
    const entry = new InFlight(
      timeout > 0 ? performance.now() + timeout : Infinity,
    );
    const controller = entry.controller;
    this.deadlines.add(entry);
    const signal = request.signal;
    const abort = () => controller.abort();
    signal?.addEventListener("abort", abort);
    let answered = false;
    const progress = { written: false };
    let incoming: Incoming | undefined;
    const before = request.before?.(endpoint, timeout);
    if (before !== undefined) {
      try {
        await before;
      } catch (error) {
        this.deadlines.delete(entry);
        signal?.removeEventListener("abort", abort);
        // This member's trouble: the request was not sent, so it may go
        // to the next. Anything else (a stale token, say) is its outcome.
        if (!(error instanceof MemberFailure)) throw error;
        throw new MemberFailure(error.cause, {
          resendable: true,
          afterHeaders: false,
        });
      }
    }
    try {
      incoming = await this.#open(
        endpoint,
        request,
        controller.signal,
        progress,
      );
      answered = true;
      this.#checkCluster(endpoint, incoming);
      request.onHeaders?.(incoming.headers);
      const status = incoming.status;
      const onLine = request.onLine;
      const text = onLine && status === 200
        ? await incoming.lines((line) => onLine(line, endpoint))
        : incoming.body ?? await incoming.text();
      const result = this.#judge(request, {
        status,
        headers: incoming.headers,
        text,
        endpoint,
      });
      if (release) this.#release();
      return result as HttpResponse;
    } catch (error) {
      // An answer given up on before its end frees its connection.
      incoming?.discard();
      throw this.#failureOf(
        error,
        endpoint,
        request,
        entry,
        answered,
        progress.written,
      );
    } finally {
      this.deadlines.delete(entry);
      signal?.removeEventListener("abort", abort);
    }
  }

  #open(
    endpoint: string,
    request: HttpRequest,
    signal: AbortSignal,
    progress: { written: boolean },
  ): Promise<Incoming> {
    const body = request.body;
    const headers = request.headers === undefined
      ? this.#headers
      : { ...this.#headers, ...request.headers };
    return this.#transport.open(endpoint, {
      method: request.method,
      path: request.path,
      body,
      contentType: body === undefined
        ? undefined
        : request.contentType ?? this.#protocol.contentType,
      headers,
      idempotent: request.kind === "read" || request.kind === "probe",
      poll: request.kind === "poll" || request.kind === "stream",
      onWritten: () => void (progress.written = true),
    }, signal);
  }

  /** Pins the cluster of the first answer; refuses answers of another. */
  #checkCluster(endpoint: string, incoming: Incoming): void {
    const cluster = this.#protocol.clusterOf?.(incoming.headers);
    if (cluster === undefined) return;
    try {
      this.#pin.check(endpoint, cluster);
    } catch (error) {
      incoming.discard();
      // It was not applied to our cluster: safe to send elsewhere.
      throw new MemberFailure(error, { resendable: true, afterHeaders: false });
    }
  }

  /** What an answer means: the result, etcd's error, or a member failure. */
  #judge(request: HttpRequest, answer: HttpResponse): unknown {
    const status = answer.status;
    if (status >= 300 && status < 400) {
      throw new UnexpectedResponse(
        describeRequest(request),
        status,
        answer.text,
        `HTTP ${status} redirect to ${
          JSON.stringify(answer.headers.get("location"))
        } was not followed`,
      );
    }
    const serverError = status >= 500 && request.kind !== "probe";
    if (request.decode === undefined) {
      if (serverError) {
        throw new MemberFailure(memberError(request, answer), NOT_RESENDABLE);
      }
      return answer;
    }
    try {
      return request.decode(answer, request);
    } catch (error) {
      // The protocol's "no leader" and the like are this member's trouble:
      // another may answer. So is a 5xx that is not etcd's own answer.
      const trouble = this.#protocol.memberTrouble(error);
      if (trouble !== false) {
        throw new MemberFailure(error, {
          resendable: trouble === "not applied",
          afterHeaders: false,
        });
      }
      if (serverError && error instanceof UnexpectedResponse) {
        throw new MemberFailure(memberError(request, answer), NOT_RESENDABLE);
      }
      throw error;
    }
  }

  /** The error a failed exchange stands for. */
  #failureOf(
    error: unknown,
    endpoint: string,
    request: HttpRequest,
    entry: InFlight,
    answered: boolean,
    written: boolean,
  ): unknown {
    if (error instanceof MemberFailure) return error;
    if (request.signal?.aborted) {
      // A write given up on once sent may still be applied: say so.
      return request.kind === "write" && written
        ? new RequestAborted(
          describeRequest(request),
          endpoint,
          request.signal.reason,
        )
        : request.signal.reason;
    }
    if (this.#closed) return new ClientClosed();
    if (entry.timedOut) {
      // Another member may answer in time; a write is not sent again.
      return new MemberFailure(
        new RequestTimeout(
          describeRequest(request),
          endpoint,
          this.#timeoutOf(request),
          request.kind === "write",
        ),
        { resendable: false, afterHeaders: answered },
      );
    }
    // A connection that breaks mid-answer can surface as an AbortError
    // although nobody aborted: that is a transport failure too.
    if (
      error instanceof TypeError ||
      (error instanceof DOMException && error.name === "AbortError")
    ) {
      return new MemberFailure(
        answered ? error : this.#explain(endpoint, error),
        {
          resendable: !answered &&
            (error instanceof NetworkError
              ? error.connecting
              : isConnectError(error)),
          afterHeaders: answered,
        },
      );
    }
    return error;
  }

  /**
   * A TLS server that wants a client certificate closes the connection
   * during the handshake without saying why: say what it most likely means.
   * One that refuses the certificate given may do so just after it (TLS
   * 1.3 checks the client's last), before its alert could be read.
   */
  #explain(endpoint: string, error: Error): Error {
    if (
      !endpoint.startsWith("https:") || error.message.startsWith("TLS: ")
    ) {
      return error;
    }
    const cause = innermost(error);
    if (
      this.#tls?.cert === undefined &&
      /connection closed|connection reset|broken pipe|handshake|end of file|eof/i
        .test(cause)
    ) {
      return new TypeError(
        "TLS: the server closed the connection during the handshake: it probably requires a client certificate it accepts (give cert and key / --cert and --key)",
        { cause: error },
      );
    }
    if (
      this.#tls?.cert !== undefined &&
      /connection closed|connection reset|broken pipe|end of file|eof/i
        .test(cause)
    ) {
      return new TypeError(
        "TLS: the server closed the connection without an answer: it probably refused our client certificate (cert / --cert: not signed by a CA it trusts, expired, or not for client use)",
        { cause: error },
      );
    }
    return error;
  }
}

const NOT_RESENDABLE = { resendable: false, afterHeaders: false } as const;

/** Requests that are never sent twice once they may have reached a member. */
function sentOnce(request: HttpRequest): boolean {
  return request.kind === "write" || request.kind === "stream";
}

/** The error of a write (or stream) that failed where it may have arrived. */
function onceFailure(
  request: HttpRequest,
  cause: unknown,
  failures: EndpointFailure[],
): unknown {
  if (
    cause instanceof RequestTimeout ||
    !(cause instanceof TypeError || cause instanceof DOMException)
  ) {
    return cause;
  }
  return new ConnectionFailed(
    describeRequest(request),
    failures,
    request.kind === "write",
  );
}

/** A 5xx answer that is not etcd's: the member (or its gateway) failed. */
function memberError(
  request: HttpRequest,
  response: HttpResponse,
): UnexpectedResponse {
  return new UnexpectedResponse(
    describeRequest(request),
    response.status,
    response.text,
    undefined,
    request.kind === "write",
  );
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

/** `GET /v2/keys/a`, without the query; a long path shortened. */
export function describeRequest(
  request: { method: string; path: string },
): string {
  const query = request.path.indexOf("?");
  const path = query < 0 ? request.path : request.path.slice(0, query);
  return `${request.method} ${
    path.length > 200
      ? `${path.slice(0, 120)}...(${path.length} characters)`
      : path
  }`;
}
