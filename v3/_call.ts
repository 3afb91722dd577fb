// The one road of every v3 call: a message of v3/_proto to a METHODS entry,
// over gRPC (the default: protobuf on HTTP/2, GrpcPool) or etcd's JSON
// gateway (proto3 JSON on HTTP/1.1, the dispatcher), with the auth token
// when there is one (renewed once, transparently, when etcd says it is no
// longer valid), the client's deadline, the caller's signal, failover,
// the concurrency limit, the pinned cluster, and the answer decoded into a
// message or a typed error. Streams take the same road: the member calls go
// to, the token, renewed once when a stream is refused for it, a first
// answer of another cluster refused, and a member that drains or fails
// left for the next. An endpoint that answers only
// HTTP/1.1 moves the client to the gateway, with a note. Internal.

import type {
  Dispatcher,
  HttpResponse,
  RequestKind,
} from "../_http/dispatcher.ts";
import { ConnectionFailed, UnexpectedResponse } from "../_http/errors.ts";
import { H2Error } from "../_h2/errors.ts";
import {
  type BidiStream,
  type GrpcCallOptions,
  type GrpcPool,
  memberFailure,
} from "./_grpc.ts";
import { ClusterPin } from "../_http/failover.ts";
import { checkCluster, decodeAnswer } from "./_decode.ts";
import { InvalidAuthToken, UserRequired } from "./_errors.ts";
import { AnyAnswer, type Init, type Method, METHODS } from "./_proto/mod.ts";
import type {
  KeepAliveChannel,
  SnapshotChannel,
  WatchChannel,
} from "./_streams.ts";

/** What a call needs besides its method and message. */
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

/** Which wire v3 calls take. */
export type Wire = "grpc" | "gateway";

/** The streams of a client on one wire. */
export interface Streams {
  /** The wire they travel on. */
  readonly wire: Wire;
  readonly watch: WatchChannel;
  readonly keepAlive: KeepAliveChannel;
  readonly snapshot: SnapshotChannel;
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
  /** The gateway's HTTP/1.1 (and `/version`, `/health`). */
  readonly http: Dispatcher;
  /** gRPC's channels; undefined when the client uses the gateway only. */
  readonly grpc: GrpcPool | undefined;
  readonly auth: TokenAuth | undefined;
  /** The cluster answers must come from, on both wires. */
  readonly pin: ClusterPin;
  /** The server's limits that callers plan by. */
  readonly limits: { readonly maxTxnOps: number };
  readonly #note: (message: string) => void;
  #wire: Wire;
  #gatewayStreams: Streams | undefined;
  #grpcStreams: Streams | undefined;
  /** The gateway's path prefix: `/v3` (3.4 and later) or `/v3beta` (3.3). */
  #prefix: string | undefined;

  constructor(
    http: Dispatcher,
    grpc: GrpcPool | undefined,
    auth: TokenAuth | undefined,
    limits: { maxTxnOps: number } = { maxTxnOps: 128 },
    note: (message: string) => void = () => {},
    pin: ClusterPin = grpc?.pin ?? new ClusterPin(),
  ) {
    this.http = http;
    this.grpc = grpc;
    this.#wire = grpc === undefined ? "gateway" : "grpc";
    this.auth = auth;
    this.pin = pin;
    this.limits = limits;
    this.#note = note;
  }

  /** The wire calls take now (gRPC until an endpoint proves HTTP/1.1 only). */
  get wire(): Wire {
    return this.#wire;
  }

  /** Sets the streams of a wire. */
  setStreams(streams: Streams): void {
    if (streams.wire === "grpc") this.#grpcStreams = streams;
    else this.#gatewayStreams = streams;
  }

  /**
   * The streams to use now: gRPC's on the gRPC wire when there are any,
   * else the gateway's.
   */
  get streams(): Streams {
    const streams = this.#wire === "grpc" && this.#grpcStreams !== undefined
      ? this.#grpcStreams
      : this.#gatewayStreams;
    if (streams === undefined) throw new TypeError("No v3 streams were set");
    return streams;
  }

  /**
   * One call: `request` to `method`, its answer given to `decode`. A
   * `write` is never sent twice unless it surely was not processed.
   */
  async call<Q extends object, A extends object, T>(
    method: Method<Q, A>,
    request: Init<Q>,
    kind: RequestKind,
    decode: (answer: A) => T,
    options: CallOptions = {},
  ): Promise<T> {
    const auth = options.anonymous ? undefined : this.auth;
    const token = auth === undefined ? undefined : await auth.token();
    try {
      return await this.#send(method, request, kind, decode, options, token);
    } catch (error) {
      // The call was refused before anything happened: it goes again, once.
      const fresh = auth === undefined
        ? undefined
        : await this.renewed(error, token);
      if (fresh === undefined) throw error;
      return await this.#send(method, request, kind, decode, options, fresh);
    }
  }

  /**
   * The one place tokens are renewed: when `error` says that the token
   * `stale` is no longer taken (it expired, or auth was enabled again),
   * a new one is fetched (one request for everyone who saw it) and
   * returned, so that what was refused may go again, once. Otherwise
   * undefined.
   */
  async renewed(
    error: unknown,
    stale: string | undefined,
  ): Promise<string | undefined> {
    const auth = this.auth;
    if (!(error instanceof InvalidAuthToken) || auth === undefined) {
      return undefined;
    }
    return await auth.renew(stale ?? "");
  }

  async #send<Q extends object, A extends object, T>(
    method: Method<Q, A>,
    request: Init<Q>,
    kind: RequestKind,
    decode: (answer: A) => T,
    options: CallOptions,
    token: string | undefined,
  ): Promise<T> {
    const grpc = this.grpc;
    if (this.#wire === "grpc" && grpc !== undefined) {
      let answer: A;
      try {
        answer = await grpc.unary(
          method.path,
          method.request.encode(request),
          {
            timeout: options.timeout ?? this.http.timeout,
            signal: options.signal,
            metadata: token ? { token } : undefined,
            write: kind === "write",
            context: options.context,
          },
          method.response,
        );
      } catch (error) {
        // Nothing was processed by a server that does not speak HTTP/2.
        if (!onlyHttp1(error)) throw error;
        this.#fallBack(error);
        return await this.#gateway(
          method,
          request,
          kind,
          decode,
          options,
          token,
        );
      }
      return decode(answer);
    }
    return await this.#gateway(method, request, kind, decode, options, token);
  }

  /** The call as JSON through the gateway. */
  async #gateway<Q extends object, A extends object, T>(
    method: Method<Q, A>,
    request: Init<Q>,
    kind: RequestKind,
    decode: (answer: A) => T,
    options: CallOptions,
    token: string | undefined,
  ): Promise<T> {
    const path = await this.gatewayPath(method, options.signal);
    return await this.http.request({
      kind,
      method: "POST",
      path,
      body: JSON.stringify(method.request.toJson(request)),
      headers: token ? { authorization: token } : undefined,
      signal: options.signal,
      timeout: options.timeout,
      before: kind === "write"
        ? (endpoint, left) =>
          this.#sameCluster(endpoint, token, options.signal, left)
        : undefined,
      decode: (response: HttpResponse, sent) => {
        const answer = method.response.fromJson(
          decodeAnswer(sent, response, options.context),
        );
        checkCluster(this.pin, response.endpoint, answer);
        return decode(answer);
      },
    }) as unknown as T;
  }

  /**
   * A bidirectional gRPC stream to `path` on the member calls go to now,
   * with the token. When the member's connection drains (GOAWAY, a
   * failure) or the stream fails, later calls and streams start at the
   * next member. A refusal for a stale token comes as the stream's answer
   * (a watch create), so its owner asks `renewed()`.
   */
  async bidi(path: string, options: GrpcCallOptions): Promise<BidiStream> {
    const grpc = this.#grpcOnly();
    const channel = grpc.current;
    const token = await this.token();
    const stream = channel.bidi(path, {
      ...options,
      metadata: token === undefined ? undefined : { token },
      onDraining: (error) => {
        grpc.avoid(channel.endpoint);
        options.onDraining?.(error);
      },
    });
    const iterator = stream[Symbol.asyncIterator]();
    const failed = (error: unknown): never => {
      if (memberFailure(error)) grpc.avoid(channel.endpoint);
      throw error;
    };
    let checked = false;
    const first = (result: IteratorResult<Uint8Array>) => {
      checked = true;
      if (result.done) return result;
      try {
        this.#streamFrom(path, channel.endpoint, result.value);
      } catch (error) {
        stream.cancel(error);
        throw error;
      }
      return result;
    };
    const messages: AsyncIterableIterator<Uint8Array> = {
      next: () =>
        checked
          ? iterator.next().catch(failed)
          : iterator.next().then(first).catch(failed),
      return: () => iterator.return!(),
      [Symbol.asyncIterator]: () => messages,
    };
    return {
      [Symbol.asyncIterator]: () => messages,
      send: (message) => stream.send(message),
      end: () => stream.end(),
      cancel: (reason) => stream.cancel(reason),
    };
  }

  /**
   * A server-streaming gRPC call on the member calls go to now: its
   * answers, decoded, with the token (renewed once when the call is
   * refused for it); a member that fails it is left for the next.
   */
  serverStream<Q extends object, A extends object>(
    method: Method<Q, A>,
    request: Init<Q>,
    signal: AbortSignal | undefined,
  ): AsyncIterable<A> {
    const grpc = this.#grpcOnly();
    const bytes = method.request.encode(request);
    const checkFirst = (endpoint: string, message: Uint8Array) =>
      this.#streamFrom(method.path, endpoint, message);
    return this.renewing(async function* (token) {
      const channel = grpc.current;
      try {
        const stream = channel.serverStream(method.path, bytes, {
          signal,
          metadata: token === undefined ? undefined : { token },
        });
        let first = true;
        for await (const message of stream) {
          if (first) {
            first = false;
            checkFirst(channel.endpoint, message);
          }
          yield method.response.decode(message);
        }
      } catch (error) {
        if (memberFailure(error) && !signal?.aborted) {
          grpc.avoid(channel.endpoint);
        }
        throw error;
      }
    });
  }

  /**
   * The messages of the stream `open(token)` starts, with the client's
   * token; when it is refused for that token before its first message,
   * the token is renewed and the stream opened again, once. Leaving the
   * loop early ends the stream.
   */
  async *renewing<T>(
    open: (token: string | undefined) => AsyncIterable<T>,
  ): AsyncGenerator<T, void, undefined> {
    const token = await this.token();
    let iterator = open(token)[Symbol.asyncIterator]();
    let finished = false;
    try {
      let next: IteratorResult<T>;
      try {
        next = await iterator.next();
      } catch (error) {
        const fresh = await this.renewed(error, token);
        if (fresh === undefined) throw error;
        iterator = open(fresh === "" ? undefined : fresh)[
          Symbol.asyncIterator
        ]();
        next = await iterator.next();
      }
      for (; !next.done; next = await iterator.next()) yield next.value;
      finished = true;
    } catch (error) {
      finished = true;
      throw error;
    } finally {
      if (!finished) await iterator.return?.();
    }
  }

  /**
   * Refuses a stream whose first answer (`message`, from `endpoint`) is
   * another cluster's: a stream stays on one connection to one member, so
   * its first answer speaks for the rest, and another cluster's is never
   * data. The member is left for the next and the stream fails as
   * unavailable, so its owner (a watch, the keep-alive) goes on elsewhere;
   * with no other member, it fails with `ClusterMismatch` (as a call does).
   */
  #streamFrom(path: string, endpoint: string, message: Uint8Array): void {
    try {
      checkCluster(this.pin, endpoint, AnyAnswer.decode(message));
    } catch (error) {
      const grpc = this.grpc;
      if (grpc === undefined || grpc.channels.length === 1) throw error;
      grpc.avoid(endpoint);
      throw new ConnectionFailed(`POST ${path}`, [{ endpoint, error }]);
    }
  }

  #grpcOnly(): GrpcPool {
    if (this.grpc === undefined) {
      throw new TypeError("This client does not use gRPC");
    }
    return this.grpc;
  }

  /**
   * Before a write goes to a member that never answered for the pinned
   * cluster (after a failover, say): its member list, whose header says its
   * cluster (any user may ask it; Status wants root on newer etcd), since a
   * write's answer says it only once the write is done. Another cluster's
   * member fails with `ClusterMismatch`. Asked within the write's
   * `timeout` (what it takes comes out of the write's). Undefined when
   * there is nothing to ask.
   */
  #sameCluster(
    endpoint: string,
    token: string | undefined,
    signal: AbortSignal | undefined,
    timeout: number,
  ): Promise<void> | undefined {
    if (!this.pin.pinned || this.pin.isOurs(endpoint)) return undefined;
    const members = METHODS.cluster.memberList;
    return this.gatewayPath(members, signal).then((path) =>
      this.http.requestAt(endpoint, {
        kind: "read",
        method: "POST",
        path,
        body: "{}",
        headers: token ? { authorization: token } : undefined,
        signal,
        timeout,
        decode: (response: HttpResponse, sent) => {
          const answer = members.response.fromJson(
            decodeAnswer(sent, response, undefined),
          );
          checkCluster(this.pin, response.endpoint, answer);
          return undefined;
        },
      })
    ).then(() => undefined, (error) => {
      // Auth on and no user: only Authenticate goes so, which changes no
      // key (and its token is checked by the answers it brings).
      if (!(error instanceof UserRequired)) throw error;
    });
  }

  /** Moves every later call to the gateway, saying so once. */
  #fallBack(error: unknown): void {
    if (this.#wire === "gateway") return;
    this.#wire = "gateway";
    const detail = error instanceof Error ? error.message : String(error);
    this.#note(
      `etcd answers only HTTP/1.1 (${detail}); using its JSON gateway`,
    );
  }

  /** The token for a stream, when there is one (undefined: none). */
  async token(): Promise<string | undefined> {
    const auth = this.auth;
    if (auth === undefined) return undefined;
    const token = await auth.token();
    return token === "" ? undefined : token;
  }

  /** The gateway path of a method, once the prefix is known. */
  async gatewayPath(
    method: { readonly gateway: string },
    signal?: AbortSignal,
  ): Promise<string> {
    const prefix = this.#prefix ?? await this.#detect(signal);
    return prefix === "/v3"
      ? method.gateway
      : prefix + method.gateway.slice("/v3".length);
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

/** Whether a gRPC failure says the server speaks HTTP/1.1 only. */
export function onlyHttp1(error: unknown): boolean {
  if (error instanceof ConnectionFailed) {
    return error.failures.length > 0 &&
      error.failures.every((failure) => onlyHttp1(failure.error));
  }
  // A server that never spoke HTTP/2 cannot have processed a gRPC call.
  return error instanceof H2Error &&
    /does not speak HTTP\/2/.test(error.message);
}
