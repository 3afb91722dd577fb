// The one road of every v3 call: a message of v3/_proto to a METHODS entry,
// over gRPC (the default: protobuf on HTTP/2, GrpcPool) or etcd's JSON
// gateway (proto3 JSON on HTTP/1.1, the dispatcher), with the auth token
// when there is one (renewed once, transparently, when etcd says it is no
// longer valid), the client's deadline, the caller's signal, failover and
// the answer decoded into a message or a typed error. An endpoint that
// answers only HTTP/1.1 moves the client to the gateway, with a note.
// Internal.

import type {
  Dispatcher,
  HttpResponse,
  RequestKind,
} from "../_http/dispatcher.ts";
import { ConnectionFailed, UnexpectedResponse } from "../_http/errors.ts";
import { H2Error } from "../_h2/errors.ts";
import type { GrpcPool } from "./_grpc.ts";
import { decodeAnswer } from "./_decode.ts";
import { InvalidAuthToken } from "./_errors.ts";
import type { Init, Method } from "./_proto/mod.ts";
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
  ) {
    this.http = http;
    this.grpc = grpc;
    this.#wire = grpc === undefined ? "gateway" : "grpc";
    this.auth = auth;
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
      // A token etcd no longer takes (expired, or auth re-enabled): the
      // call was refused before anything happened, so it goes again, once.
      if (!(error instanceof InvalidAuthToken) || auth === undefined) {
        throw error;
      }
      const fresh = await auth.renew(token!);
      return await this.#send(method, request, kind, decode, options, fresh);
    }
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
      let answer: Uint8Array;
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
      return decode(method.response.decode(answer));
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
      decode: (response: HttpResponse, sent) =>
        decode(
          method.response.fromJson(
            decodeAnswer(sent, response, options.context),
          ),
        ),
    }) as unknown as T;
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

  /** The headers a gateway stream needs: the token, when there is one. */
  async streamHeaders(): Promise<Record<string, string> | undefined> {
    const token = await this.token();
    return token === undefined ? undefined : { authorization: token };
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
