// gRPC over our HTTP/2 (_h2/): unary calls, server streams and
// bidirectional streams of protobuf messages (as bytes: the codec is
// separate), with deadlines, cancellation, metadata, and etcd's status
// mapped to the same v3 errors the gateway path raises. One channel per
// endpoint keeps one connection and replaces it when it ends; `GrpcPool`
// goes on to the next endpoint when a member fails by the dispatcher's
// policy (_http/failover.ts), limits the calls in flight, enforces their
// deadlines with the client's one ticker and pins the cluster. Internal.

import {
  H2Connection,
  type H2ConnectionOptions,
  type H2Stream,
  type Header,
  type StreamHandler,
} from "../_h2/connection.ts";
import { ErrorCode, H2Error } from "../_h2/errors.ts";
import { denoDialer, type Dialer } from "../_h2/socket.ts";
import {
  ClientClosed,
  ClusterMismatch,
  ConnectionFailed,
  type EndpointFailure,
  RequestTimeout,
  UnexpectedResponse,
} from "../_http/errors.ts";
import { Deadlines, type Timed } from "../_http/deadlines.ts";
import { ClusterPin, failover } from "../_http/failover.ts";
import { Slots } from "../_http/slots.ts";
import type { TlsOptions } from "../_http/transport.ts";
import { checkCluster, errorOf } from "./_decode.ts";
import { EtcdV3Error, UserRequired } from "./_errors.ts";
import { V3_PROTOCOL } from "./_protocol.ts";
import { METHODS } from "./_proto/methods.ts";

/**
 * Asked of a member before a write, for its cluster (see `#ask`): the
 * member list, which etcd gives any user (Status wants the root role on
 * newer etcd, 3.5.30 among them), served by the member itself.
 */
const MEMBERS = METHODS.cluster.memberList;
const MEMBERS_REQUEST = MEMBERS.request.encode({});

/** What one call takes besides its path and message. */
export interface GrpcCallOptions {
  /** Milliseconds for the whole call (the call is reset after); 0: none. */
  timeout?: number | undefined;
  /** Aborts the call: RST_STREAM to the server; the call rejects with the reason. */
  signal?: AbortSignal | undefined;
  /** Metadata, such as `{ token }` (lower-case names). */
  metadata?: Readonly<Record<string, string>> | undefined;
  /** A write: never sent twice once it may have reached a member. */
  write?: boolean | undefined;
  /** What the call is about (a key, say), for error messages. */
  context?: string | undefined;
  /**
   * Told when the call's connection takes no new calls (the server sent
   * GOAWAY, as a member does when it stops, or the connection failed): the
   * call may still finish, but a long-lived stream should move on.
   */
  onDraining?: ((error: H2Error | undefined) => void) | undefined;
}

/** Options of a {@linkcode GrpcChannel}. */
export interface GrpcChannelOptions {
  /** PEM certificates and key for `https://` endpoints. */
  tls?: TlsOptions | undefined;
  /** Send `hasleader: true`: a member without a leader fails at once. Default true. */
  requireLeader?: boolean | undefined;
  /** The largest message accepted, in bytes. Default 2 GiB - 1. */
  maxMessageSize?: number | undefined;
  /** HTTP/2 settings (windows, PING timing). */
  http2?: H2ConnectionOptions | undefined;
  /** Makes the byte stream (default: Deno's TCP or TLS with ALPN h2). */
  dial?: Dialer | undefined;
  /** The ticker that enforces deadlines (default: one of the channel's own). */
  deadlines?: Deadlines | undefined;
  /** Told when a connection is made to the endpoint (not the first). */
  onReconnect?: ((endpoint: string) => void) | undefined;
}

/** Options of a {@linkcode GrpcPool}. */
export interface GrpcPoolOptions extends GrpcChannelOptions {
  /** Most unary calls in flight at once (streams aside). Default: no limit. */
  maxConcurrency?: number | undefined;
  /** The cluster answers must come from (default: the first one seen). */
  pin?: ClusterPin | undefined;
}

/** Turns a unary call's answer into a message (a protobuf codec). */
export interface AnswerDecoder<A> {
  decode(bytes: Uint8Array): A;
}

/** A bidirectional stream: messages sent and received as bytes. */
export interface BidiStream extends AsyncIterable<Uint8Array> {
  /**
   * Sends a message; resolves once it is handed to the connection (await
   * it not to run ahead of the server's flow control).
   */
  send(message: Uint8Array): Promise<void>;
  /** Ends our side; the server's messages keep coming. */
  end(): void;
  /** Cancels the stream (RST_STREAM); the iteration ends with `reason`. */
  cancel(reason?: unknown): void;
}

/** A server stream of messages; `cancel()` gives up on the rest. */
export interface ServerStream extends AsyncIterable<Uint8Array> {
  /** Cancels the stream (RST_STREAM); the iteration ends with `reason`. */
  cancel(reason?: unknown): void;
}

const MAX_MESSAGE = 0x7fffffff;
const PREFIX = 5;

/** The message with gRPC's 5-byte prefix (uncompressed, length). */
export function frameMessage(message: Uint8Array): Uint8Array {
  const framed = new Uint8Array(PREFIX + message.length);
  const length = message.length;
  framed[1] = length >>> 24;
  framed[2] = (length >>> 16) & 0xff;
  framed[3] = (length >>> 8) & 0xff;
  framed[4] = length & 0xff;
  framed.set(message, PREFIX);
  return framed;
}

/** A percent-encoded `grpc-message`, decoded (bad escapes kept as is). */
export function decodeGrpcMessage(text: string): string {
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
      const code = parseInt(hex, 16);
      return code < 0x80 ? String.fromCharCode(code) : escape;
    });
  }
}

/**
 * One call's exchange: parses the answer's headers, length-prefixed
 * messages and trailers, and settles with the status. Subclasses say what
 * happens to each message and to the end.
 */
abstract class Exchange implements StreamHandler, Timed {
  stream: H2Stream | undefined;
  /** When the call times out (`performance.now()`); `Infinity`: never. */
  deadline = Infinity;
  readonly #deadlines: Deadlines;
  readonly #describe: string;
  readonly #endpoint: string;
  readonly #options: GrpcCallOptions;
  readonly #maxMessage: number;
  readonly #tls: boolean;
  #headersSeen = false;
  #status: string | undefined;
  #message = "";
  // The message being assembled.
  readonly #prefix = new Uint8Array(PREFIX);
  #prefixFill = 0;
  #body: Uint8Array | undefined;
  #bodyFill = 0;
  #onAbort: (() => void) | undefined;
  /** Set once the outcome is known. */
  done = false;
  /** Called once the outcome is known. */
  onDone: (() => void) | undefined;

  constructor(
    path: string,
    endpoint: string,
    options: GrpcCallOptions,
    maxMessage: number,
    deadlines: Deadlines,
  ) {
    this.#deadlines = deadlines;
    this.#describe = `POST ${path}`;
    this.#endpoint = endpoint;
    this.#options = options;
    this.#maxMessage = maxMessage;
    this.#tls = endpoint.startsWith("https:");
  }

  /** A message arrived (its own copy). */
  abstract message(message: Uint8Array): void;
  /** The call is over: `undefined` for OK, else the error. */
  abstract settle(error: unknown): void;

  /** Arms the deadline and the abort signal, from the start of the call. */
  arm(): void {
    const { timeout, signal } = this.#options;
    if (timeout !== undefined && timeout > 0) {
      this.deadline = performance.now() + timeout;
      this.#deadlines.add(this);
    }
    if (signal !== undefined) {
      this.#onAbort = () => this.cancel(signal.reason);
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  /** The deadline passed (the client's ticker says). */
  expire(): void {
    this.cancel(
      new RequestTimeout(
        this.#describe,
        this.#endpoint,
        this.#options.timeout ?? 0,
        this.#options.write ?? false,
      ),
    );
  }

  /** Gives up: RST_STREAM CANCEL, then the call fails with `reason`. */
  cancel(reason: unknown): void {
    if (this.done) return;
    this.#finish(reason);
    this.stream?.cancel(
      new H2Error("HTTP/2: canceled", ErrorCode.CANCEL),
      ErrorCode.CANCEL,
    );
  }

  /** Ends the call with `error` (or OK when undefined). */
  fail(error: unknown): void {
    this.#finish(error);
  }

  #finish(error: unknown): void {
    if (this.done) return;
    this.done = true;
    if (this.deadline !== Infinity) this.#deadlines.delete(this);
    if (this.#onAbort) {
      this.#options.signal?.removeEventListener("abort", this.#onAbort);
    }
    this.settle(error);
    this.onDone?.();
  }

  /** Fails the call on a malformed answer and resets the stream. */
  #refuse(detail: string, status = 200): void {
    this.cancel(
      new UnexpectedResponse(
        this.#describe,
        status,
        "",
        detail,
        this.#options.write ?? false,
      ),
    );
  }

  onHeaders(headers: Header[], endStream: boolean): void {
    if (this.done) return;
    if (!this.#headersSeen) {
      this.#headersSeen = true;
      let status = "";
      let contentType: string | undefined;
      for (const [name, value] of headers) {
        if (name === ":status") status = value;
        else if (name === "content-type") contentType = value;
      }
      if (status !== "200") {
        return this.#refuse(
          `HTTP status ${
            JSON.stringify(status)
          } instead of 200: not a gRPC answer`,
          Number(status) || 0,
        );
      }
      if (
        contentType === undefined ||
        !/^application\/grpc(\+proto)?(;|$)/.test(contentType)
      ) {
        return this.#refuse(
          `content-type ${
            contentType === undefined ? "missing" : JSON.stringify(contentType)
          } instead of application/grpc`,
        );
      }
      // A trailers-only answer carries the status in its headers.
      if (!endStream) return;
    }
    for (const [name, value] of headers) {
      if (name === "grpc-status") this.#status = value;
      else if (name === "grpc-message") this.#message = value;
    }
  }

  /** `length` bytes of the answer arrived (for flow control). */
  received(_length: number): void {}

  onData(data: Uint8Array, _endStream: boolean): void {
    if (this.done) return;
    this.received(data.length);
    let at = 0;
    while (at < data.length) {
      if (this.#body === undefined) {
        const take = Math.min(PREFIX - this.#prefixFill, data.length - at);
        this.#prefix.set(data.subarray(at, at + take), this.#prefixFill);
        this.#prefixFill += take;
        at += take;
        if (this.#prefixFill < PREFIX) return;
        const prefix = this.#prefix;
        if (prefix[0] !== 0) {
          return this.#refuse(
            prefix[0] === 1
              ? "a compressed message, although no compression was asked for (grpc-encoding)"
              : `a message flag of ${prefix[0]} (0 expected)`,
          );
        }
        const length = ((prefix[1]! << 24) | (prefix[2]! << 16) |
          (prefix[3]! << 8) | prefix[4]!) >>> 0;
        if (length > this.#maxMessage) {
          return this.#refuse(
            `a message of ${length} bytes, over the ${this.#maxMessage} accepted`,
          );
        }
        this.#body = new Uint8Array(length);
        this.#bodyFill = 0;
      }
      const body = this.#body;
      const take = Math.min(body.length - this.#bodyFill, data.length - at);
      body.set(data.subarray(at, at + take), this.#bodyFill);
      this.#bodyFill += take;
      at += take;
      if (this.#bodyFill === body.length) {
        this.#body = undefined;
        this.#prefixFill = 0;
        this.message(body);
      }
    }
  }

  onClose(error: H2Error | undefined): void {
    if (this.done) return;
    if (error !== undefined) return this.#finish(error);
    if (this.#body !== undefined || this.#prefixFill > 0) {
      return this.#refuse("the answer ended inside a message");
    }
    if (this.#status === undefined) {
      return this.#refuse(
        "the answer ended without gRPC trailers (no grpc-status)",
      );
    }
    const code = Number(this.#status);
    if (code === 0) return this.#finish(undefined);
    this.#finish(
      errorOf(
        {
          code: Number.isInteger(code) ? code : 2,
          message: decodeGrpcMessage(this.#message),
        },
        200,
        this.#options.context,
        this.#tls,
      ) ?? new EtcdV3Error(2, 200, this.#message),
    );
  }
}

/** A unary call: one message back. */
class UnaryExchange extends Exchange {
  #answer: Uint8Array | undefined;
  #extra = false;
  resolve!: (answer: Uint8Array) => void;
  reject!: (error: unknown) => void;

  message(message: Uint8Array): void {
    if (this.#answer !== undefined) this.#extra = true;
    this.#answer = message;
  }

  settle(error: unknown): void {
    if (error !== undefined) return this.reject(error);
    if (this.#answer === undefined || this.#extra) {
      return this.reject(
        new UnexpectedResponse(
          "a unary gRPC call",
          200,
          "",
          this.#answer === undefined
            ? "status OK without a message"
            : "more than one message",
        ),
      );
    }
    this.resolve(this.#answer);
  }
}

/** A stream of messages back, given to an async iterator. */
class StreamingExchange extends Exchange
  implements AsyncIterableIterator<Uint8Array> {
  readonly #queue: Uint8Array[] = [];
  /** Bytes received while messages wait to be read, not given back yet. */
  #held = 0;
  #end: { error: unknown } | undefined;
  #waiting:
    | {
      resolve: (result: IteratorResult<Uint8Array>) => void;
      reject: (error: unknown) => void;
    }
    | undefined;

  // Backpressure: bytes are given back to the server as they arrive while
  // the reader keeps up, and held while messages wait to be read, so that
  // a slow reader holds the server back by one window at most.
  override received(length: number): void {
    if (this.#queue.length === 0) this.stream?.release(length);
    else this.#held += length;
  }

  message(message: Uint8Array): void {
    const waiting = this.#waiting;
    if (waiting !== undefined) {
      this.#waiting = undefined;
      waiting.resolve({ value: message, done: false });
    } else {
      this.#queue.push(message);
    }
  }

  settle(error: unknown): void {
    this.#end = { error };
    const waiting = this.#waiting;
    if (waiting === undefined) return;
    this.#waiting = undefined;
    if (error === undefined) waiting.resolve({ value: undefined, done: true });
    else waiting.reject(error);
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    const message = this.#queue.shift();
    if (message !== undefined) {
      if (this.#queue.length === 0 && this.#held > 0) {
        this.stream?.release(this.#held);
        this.#held = 0;
      }
      return Promise.resolve({ value: message, done: false });
    }
    if (this.#end !== undefined) {
      return this.#end.error === undefined
        ? Promise.resolve({ value: undefined, done: true })
        : Promise.reject(this.#end.error);
    }
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    this.cancel(new DOMException("The stream was closed", "AbortError"));
    this.#queue.length = 0;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this;
  }
}

/**
 * gRPC calls to one endpoint over one HTTP/2 connection, made when first
 * needed and replaced when it ends (GOAWAY, a failure, etcd closing it).
 */
export class GrpcChannel {
  readonly endpoint: string;
  readonly #scheme: string;
  readonly #authority: string;
  readonly #options: GrpcChannelOptions;
  readonly #dial: Dialer;
  readonly #maxMessage: number;
  /** Header lists by path, deadline and metadata (see `#headers`). */
  readonly #lists = new Map<string, Header[]>();
  readonly #deadlines: Deadlines;
  #connection: H2Connection | undefined;
  #connecting: Promise<H2Connection> | undefined;
  #closed = false;
  #connections = 0;
  /** Who is told when a connection drains (`onDraining`), by connection. */
  readonly #draining = new WeakMap<
    H2Connection,
    Set<(error: H2Error | undefined) => void>
  >();

  /**
   * @param endpoint `http://host:port` (HTTP/2 with prior knowledge) or
   *   `https://host:port` (TLS, ALPN h2).
   * @param options TLS, leader requirement, limits.
   */
  constructor(endpoint: string, options: GrpcChannelOptions = {}) {
    this.endpoint = endpoint;
    const url = new URL(endpoint);
    this.#scheme = url.protocol.slice(0, -1);
    this.#authority = url.host;
    this.#options = options;
    this.#dial = options.dial ?? denoDialer(endpoint, options.tls);
    this.#maxMessage = options.maxMessageSize ?? MAX_MESSAGE;
    this.#deadlines = options.deadlines ?? new Deadlines(10);
  }

  /** How many connections this channel has made. */
  get connections(): number {
    return this.#connections;
  }

  /** The connection, made if need be. */
  #connect(): Promise<H2Connection> | H2Connection {
    if (this.#closed) throw new ClientClosed();
    const current = this.#connection;
    if (current?.available) return current;
    this.#connection = undefined;
    if (this.#connecting === undefined) {
      const connecting = H2Connection.connect(this.#dial, {
        name: this.endpoint,
        ...this.#options.http2,
      }).then((connection) => {
        this.#connecting = undefined;
        if (this.#closed) {
          connection.close();
          throw new ClientClosed();
        }
        this.#connection = connection;
        if (this.#connections++ > 0) this.#options.onReconnect?.(this.endpoint);
        connection.onUnavailable = (error) => {
          if (this.#connection === connection) this.#connection = undefined;
          for (const told of this.#draining.get(connection) ?? []) told(error);
        };
        return connection;
      }, (error) => {
        this.#connecting = undefined;
        throw this.#connectFailure(error);
      });
      this.#connecting = connecting;
    }
    return this.#connecting;
  }

  /** A dial failure: nothing was sent, so any call may go elsewhere. */
  #connectFailure(error: unknown): unknown {
    if (error instanceof H2Error || error instanceof ClientClosed) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new H2Error(
      `Cannot connect to ${this.endpoint}: ${message}`,
      ErrorCode.CONNECT_ERROR,
      true,
      error,
    );
  }

  /**
   * The header list of a call, the same list for the same path and
   * metadata: HPACK sends a list again, unchanged, as it did before.
   *
   * The deadline is not sent (`grpc-timeout`): it is kept here, and a call
   * past it is reset (RST_STREAM), which cancels etcd's work on it as the
   * header's timer would; that timer costs etcd about a tenth of the CPU
   * of a small read (measured on etcd 3.5, 16 calls in flight). Go's
   * client sends none either unless given a context with a deadline.
   */
  #headers(path: string, options: GrpcCallOptions): Header[] {
    const metadata = options.metadata;
    let key = path;
    if (metadata !== undefined) {
      for (const name in metadata) key += `\n${name}\n${metadata[name]}`;
    }
    let headers = this.#lists.get(key);
    if (headers === undefined) {
      headers = this.#makeHeaders(path, metadata);
      // Bounded: tokens come and go.
      if (this.#lists.size >= 64) this.#lists.clear();
      this.#lists.set(key, headers);
    }
    return headers;
  }

  #makeHeaders(
    path: string,
    metadata: Readonly<Record<string, string>> | undefined,
  ): Header[] {
    const headers: Header[] = [
      [":method", "POST"],
      [":scheme", this.#scheme],
      [":path", path],
      [":authority", this.#authority],
      ["content-type", "application/grpc"],
      ["te", "trailers"],
    ];
    if (this.#options.requireLeader ?? true) {
      headers.push(["hasleader", "true"]);
    }
    if (metadata !== undefined) {
      for (const name in metadata) headers.push([name, metadata[name]!]);
    }
    return headers;
  }

  /**
   * A unary call: `request` (a serialized message) to `path`, such as
   * `/etcdserverpb.KV/Range`; resolves with the answer's message.
   *
   * @throws {EtcdV3Error} etcd's status (the same classes as the gateway's).
   * @throws {RequestTimeout} when `timeout` elapsed.
   * @throws {H2Error} when the connection failed (`notProcessed` says
   *   whether the call may go to another member).
   * @throws {UnexpectedResponse} when the answer is not gRPC.
   */
  unary(
    path: string,
    request: Uint8Array,
    options: GrpcCallOptions = {},
  ): Promise<Uint8Array> {
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    const exchange = new UnaryExchange(
      path,
      this.endpoint,
      options,
      this.#maxMessage,
      this.#deadlines,
    );
    const answer = new Promise<Uint8Array>((resolve, reject) => {
      exchange.resolve = resolve;
      exchange.reject = reject;
    });
    const framed = frameMessage(request);
    const start = (connection: H2Connection) => {
      if (exchange.done) return;
      const stream = connection.open(this.#headers(path, options), exchange);
      exchange.stream = stream;
      stream.send(framed, true);
    };
    this.#begin(exchange, start);
    return answer;
  }

  /** Connects if need be, then starts the exchange; failures settle it. */
  #begin(
    exchange: Exchange,
    start: (connection: H2Connection) => void,
  ): Promise<void> | undefined {
    // The deadline and the signal hold while connecting too; the
    // connection attempt, shared by the calls waiting for it, goes on.
    exchange.arm();
    try {
      const connection = this.#connect();
      if (connection instanceof H2Connection) {
        start(connection);
        return;
      }
      return connection.then(start).catch((error) => exchange.fail(error));
    } catch (error) {
      exchange.fail(error);
    }
  }

  /**
   * A server-streaming call (Snapshot, say): the answer's messages as they
   * come, with backpressure (the server waits while they are not read).
   */
  serverStream(
    path: string,
    request: Uint8Array,
    options: GrpcCallOptions = {},
  ): ServerStream {
    const exchange = new StreamingExchange(
      path,
      this.endpoint,
      options,
      this.#maxMessage,
      this.#deadlines,
    );
    if (options.signal?.aborted) {
      exchange.fail(options.signal.reason);
      return exchange;
    }
    const framed = frameMessage(request);
    this.#begin(exchange, (connection) => {
      if (exchange.done) return;
      const stream = connection.open(this.#headers(path, options), exchange, {
        manualFlow: true,
      });
      exchange.stream = stream;
      stream.send(framed, true);
    });
    return exchange;
  }

  /**
   * A bidirectional stream (Watch, LeaseKeepAlive): send messages, read
   * the server's as they come. Without `timeout` it lasts until ended.
   */
  bidi(path: string, options: GrpcCallOptions = {}): BidiStream {
    const exchange = new StreamingExchange(
      path,
      this.endpoint,
      options,
      this.#maxMessage,
      this.#deadlines,
    );
    let ready: Promise<H2Stream | undefined>;
    if (options.signal?.aborted) {
      exchange.fail(options.signal.reason);
      ready = Promise.resolve(undefined);
    } else {
      // Resolves with the stream, or undefined when it failed to open.
      ready = Promise.resolve(
        this.#begin(exchange, (connection) => {
          if (exchange.done) return;
          const stream = connection.open(
            this.#headers(path, options),
            exchange,
            { manualFlow: true },
          );
          exchange.stream = stream;
          this.#tellDraining(connection, exchange, options.onDraining);
        }),
      ).then(() => exchange.stream);
    }
    let ended = false;
    return {
      [Symbol.asyncIterator]: () => exchange,
      send: async (message) => {
        if (ended) throw new TypeError("gRPC: a message sent after end()");
        const stream = exchange.stream ?? await ready;
        if (stream === undefined || exchange.done) return;
        await stream.send(frameMessage(message));
      },
      end: () => {
        if (ended) return;
        ended = true;
        void ready.then((stream) => {
          if (stream !== undefined && !exchange.done) {
            void stream.send(new Uint8Array(0), true);
          }
        });
      },
      cancel: (reason?: unknown) =>
        exchange.cancel(
          reason ?? new DOMException("The stream was canceled", "AbortError"),
        ),
    };
  }

  /** Has `told` called when `connection` drains, while the exchange lasts. */
  #tellDraining(
    connection: H2Connection,
    exchange: Exchange,
    told: GrpcCallOptions["onDraining"],
  ): void {
    if (told === undefined) return;
    let listeners = this.#draining.get(connection);
    if (listeners === undefined) {
      listeners = new Set();
      this.#draining.set(connection, listeners);
    }
    listeners.add(told);
    exchange.onDone = () => listeners.delete(told);
  }

  /** Closes the connection; calls in flight fail, later ones too. */
  close(): void {
    this.#closed = true;
    this.#connection?.close();
    this.#connection = undefined;
  }
}

/**
 * Unary calls to a cluster: each to the endpoint that worked last, going
 * on to the next when a member fails (_http/failover.ts: a read after any
 * member failure; a write only when it surely was not processed, such as
 * connection refused, GOAWAY below it, REFUSED_STREAM), at most
 * `maxConcurrency` at once, answers only from the pinned cluster.
 */
export class GrpcPool {
  readonly channels: GrpcChannel[];
  /** The cluster answers must come from. */
  readonly pin: ClusterPin;
  #current = 0;
  #closed = false;
  readonly #options: GrpcChannelOptions;
  readonly #deadlines: Deadlines;
  readonly #slots: Slots;

  constructor(endpoints: readonly string[], options: GrpcPoolOptions = {}) {
    this.#deadlines = options.deadlines ?? new Deadlines(10);
    this.#options = { ...options, deadlines: this.#deadlines };
    this.#slots = new Slots(options.maxConcurrency ?? Infinity);
    this.pin = options.pin ?? new ClusterPin();
    // Another process may answer at an address that answered before.
    this.#options.onReconnect = (endpoint) => this.pin.forget(endpoint);
    this.channels = endpoints.map((endpoint) =>
      new GrpcChannel(endpoint, this.#options)
    );
  }

  /**
   * Calls go to these endpoints from now on: channels to endpoints kept
   * stay (with their connections), the others close.
   */
  setEndpoints(endpoints: readonly string[]): void {
    const current = this.current.endpoint;
    const old = new Map(
      this.channels.map((channel) => [channel.endpoint, channel]),
    );
    const channels = endpoints.map((endpoint) => {
      const kept = old.get(endpoint);
      old.delete(endpoint);
      return kept ?? new GrpcChannel(endpoint, this.#options);
    });
    for (const channel of old.values()) channel.close();
    this.channels.splice(0, this.channels.length, ...channels);
    this.#current = Math.max(0, endpoints.indexOf(current));
  }

  /** The channel calls go to first. */
  get current(): GrpcChannel {
    return this.channels[this.#current]!;
  }

  /** Moves on from `endpoint`: later calls and streams start at the next. */
  avoid(endpoint: string): void {
    if (this.current.endpoint === endpoint && this.channels.length > 1) {
      this.#current = (this.#current + 1) % this.channels.length;
    }
  }

  /**
   * A unary call with failover, within one deadline (waiting for a turn
   * included); `response` decodes the answer (an answer from another
   * cluster than the pinned one is then a member failure).
   */
  unary(
    path: string,
    request: Uint8Array,
    options?: GrpcCallOptions,
  ): Promise<Uint8Array>;
  unary<A>(
    path: string,
    request: Uint8Array,
    options: GrpcCallOptions,
    response: AnswerDecoder<A>,
  ): Promise<A>;
  unary<A>(
    path: string,
    request: Uint8Array,
    options: GrpcCallOptions = {},
    response?: AnswerDecoder<A>,
  ): Promise<A | Uint8Array> {
    if (this.#closed) return Promise.reject(new ClientClosed());
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    if (this.#slots.tryTake()) {
      return this.#dispatch(path, request, options, response);
    }
    return this.#queue(path, request, options, response);
  }

  /** Waits for a turn (within the call's deadline), then sends. */
  async #queue<A>(
    path: string,
    request: Uint8Array,
    options: GrpcCallOptions,
    response: AnswerDecoder<A> | undefined,
  ): Promise<A | Uint8Array> {
    const timeout = options.timeout ?? 0;
    const deadline = timeout > 0 ? performance.now() + timeout : Infinity;
    await this.#slots.take(
      options.signal,
      deadline,
      this.#deadlines,
      () =>
        new RequestTimeout(
          `POST ${path}`,
          "the client (waiting for a turn: maxConcurrency)",
          timeout,
          false,
        ),
    );
    if (this.#closed) {
      this.#slots.release();
      throw new ClientClosed();
    }
    if (deadline !== Infinity) {
      options = {
        ...options,
        timeout: Math.max(1, deadline - performance.now()),
      };
    }
    return await this.#dispatch(path, request, options, response);
  }

  /**
   * The first attempt, at the current member, then failover if need be;
   * the turn is given back when the call settles. The common case (the
   * member answers) takes one step.
   */
  #dispatch<A>(
    path: string,
    request: Uint8Array,
    options: GrpcCallOptions,
    response: AnswerDecoder<A> | undefined,
  ): Promise<A | Uint8Array> {
    const first = this.#current;
    const timeout = options.timeout ?? 0;
    const deadline = timeout > 0 ? performance.now() + timeout : Infinity;
    const channel = this.channels[first]!;
    const failed = (error: unknown) =>
      this.#failover(path, request, options, response, first, deadline, error)
        .finally(this.#release);
    const sending = this.#mustAsk(channel.endpoint, options)
      ? this.#ask(channel, timeout, options).then((left) =>
        channel.unary(path, request, { ...options, timeout: left })
      )
      : channel.unary(path, request, options);
    return sending.then((bytes) => {
      let answer: A | Uint8Array;
      try {
        answer = response === undefined
          ? bytes
          : this.#answer(response, bytes, channel.endpoint);
      } catch (error) {
        return failed(error);
      }
      this.#slots.release();
      return answer;
    }, failed);
  }

  #release = (): void => this.#slots.release();

  /**
   * Whether a write must first ask `endpoint` which cluster it is of: it
   * never answered for the pinned one (after a failover, say). An answer
   * says the cluster only once the write is done: on a member of another
   * cluster, done there.
   */
  #mustAsk(endpoint: string, options: GrpcCallOptions): boolean {
    return options.write === true && this.pin.pinned &&
      !this.pin.isOurs(endpoint);
  }

  /**
   * Asks the member which cluster it is of (its member list's header; any
   * user may ask it): another cluster's member fails (`ClusterMismatch`)
   * with nothing sent; a stale token is the call's outcome, to be renewed.
   * Resolves with the time left.
   */
  async #ask(
    channel: GrpcChannel,
    timeout: number,
    options: GrpcCallOptions,
  ): Promise<number> {
    const started = performance.now();
    let bytes: Uint8Array;
    try {
      bytes = await channel.unary(MEMBERS.path, MEMBERS_REQUEST, {
        timeout,
        signal: options.signal,
        metadata: options.metadata, // the token: with auth on, a user asks
      });
    } catch (error) {
      // Auth on and no user: only Authenticate goes so, which changes no
      // key (and its token is checked by the answers it brings).
      if (error instanceof UserRequired) return timeout;
      throw notSent(error);
    }
    try {
      checkCluster(this.pin, channel.endpoint, MEMBERS.response.decode(bytes));
    } catch (error) {
      throw notSent(error);
    }
    if (timeout === 0) return 0;
    // What the question took comes out of the write's time.
    return Math.max(1, timeout - (performance.now() - started));
  }

  /** Decodes an answer; one from another cluster is refused. */
  #answer<A>(
    response: AnswerDecoder<A>,
    bytes: Uint8Array,
    endpoint: string,
  ): A {
    const answer = response.decode(bytes);
    checkCluster(this.pin, endpoint, answer as object);
    return answer;
  }

  /** After the first attempt failed: the client's failover policy. */
  #failover<A>(
    path: string,
    request: Uint8Array,
    options: GrpcCallOptions,
    response: AnswerDecoder<A> | undefined,
    first: number,
    deadline: number,
    error: unknown,
  ): Promise<A | Uint8Array> {
    const channels = this.channels;
    const endpoints = channels.map((channel) => channel.endpoint);
    return failover<A | Uint8Array>(
      {
        endpoints,
        once: options.write ?? false,
        deadline,
        attempt: async (_endpoint, left) => {
          const channel = channels[endpoints.indexOf(_endpoint)]!;
          if (this.#mustAsk(channel.endpoint, options)) {
            left = await this.#ask(channel, left, options);
          }
          const bytes = await channel.unary(path, request, {
            ...options,
            timeout: left,
          });
          return response === undefined
            ? bytes
            : this.#answer(response, bytes, channel.endpoint);
        },
        judge: (error) =>
          memberFailure(error) && !options.signal?.aborted
            ? { cause: error, resendable: notProcessed(error) }
            : undefined,
        moved: (index, failed) => {
          if (failed) this.pin.forget(endpoints[index]!);
          if (!failed) this.#current = index;
          else if (this.#current === index) {
            this.#current = (index + 1) % channels.length;
          }
        },
        check: () => {
          if (this.#closed) throw new ClientClosed();
          options.signal?.throwIfAborted();
        },
        onceFailure: (_failure, failures) => exhausted(path, failures, true),
        exhausted: (failures, timedOut) =>
          timedOut &&
            failures.every((failure) => failure.error instanceof H2Error)
            ? new RequestTimeout(
              `POST ${path}`,
              failures.map((failure) => failure.endpoint).join(", "),
              options.timeout ?? 0,
              options.write ?? false,
            )
            : exhausted(path, failures, false),
      },
      first,
      error,
    );
  }

  close(): void {
    this.#closed = true;
    this.#slots.close(new ClientClosed());
    for (const channel of this.channels) channel.close();
  }
}

/**
 * Whether another member might do better than the one that failed so:
 * the connection's failures, and the member trouble of the dispatcher's
 * v3 rules (V3_PROTOCOL: no leader, unavailable, timed out in etcd).
 */
export function memberFailure(error: unknown): boolean {
  if (error instanceof H2Error || error instanceof RequestTimeout) return true;
  if (error instanceof UnexpectedResponse) return true;
  if (error instanceof ClusterMismatch) return true;
  return V3_PROTOCOL.memberTrouble(error) !== false;
}

/**
 * A failure of the member list asked before a write: the write itself was
 * not sent, so it may go to the next member whatever happened to the
 * question.
 */
function notSent(error: unknown): unknown {
  if (error instanceof ClusterMismatch) return error;
  if (!memberFailure(error)) return error; // an abort, a closed client
  const message = error instanceof Error ? error.message : String(error);
  return new H2Error(
    `The write was not sent: asking the member which cluster it is of failed: ${message}`,
    ErrorCode.CANCEL,
    true,
    error,
  );
}

/** Whether a failed write surely was not processed, so may go elsewhere. */
function notProcessed(error: unknown): boolean {
  if (error instanceof H2Error) return error.notProcessed;
  // Not by our cluster: the answer came from another.
  if (error instanceof ClusterMismatch) return true;
  return V3_PROTOCOL.memberTrouble(error) === "not applied";
}

/**
 * The error of a call every member tried failed, as the dispatcher's: one
 * failure that is an answer (etcd's error, a timeout) as it is, connection
 * failures as `ConnectionFailed`.
 */
function exhausted(
  path: string,
  failures: EndpointFailure[],
  mayHaveBeenApplied: boolean,
): Error {
  const only = failures.length === 1 ? failures[0]!.error : undefined;
  if (only !== undefined && !(only instanceof H2Error)) return only as Error;
  return new ConnectionFailed(`POST ${path}`, failures, mayHaveBeenApplied);
}
