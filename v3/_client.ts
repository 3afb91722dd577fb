// The client of etcd's v3 API, over gRPC or its JSON gateway. Public
// through v3/mod.ts.

import { Dispatcher } from "../_http/dispatcher.ts";
import { learnEndpoints } from "../_http/endpoints.ts";
import { EndpointsRefused } from "../_http/errors.ts";
import { connection } from "../_http/options.ts";
import type { TlsOptions } from "../_http/transport.ts";

export type { TlsOptions };
import { STORE, type Store } from "../_core/store.ts";
import { AuthApi } from "./_auth.ts";
import { ClusterPin } from "../_http/failover.ts";
import { Caller, type CallOptions, type Streams, TokenAuth } from "./_call.ts";
import { ClusterApi, MaintenanceApi } from "./_cluster.ts";
import type { KeyValue } from "./_decode.ts";
import { AuthNotEnabled, Compacted } from "./_errors.ts";
import { type Bytes, bytesOf, concat, prefixEnd, ZERO } from "./_keys.ts";
import {
  type DeleteOptions,
  deleteRequest,
  type DeleteResult,
  deleteResult,
  type Namespace,
  type PutOptions,
  putRequest,
  type PutResult,
  putResult,
  type RangeOptions,
  rangeRequest,
  type RangeResult,
  rangeResult,
  type TxnRequest,
  txnRequest,
  type TxnResult,
  txnResult,
} from "./_kv.ts";
import { LeaseApi } from "./_lease.ts";
import { V3_HEADERS, V3_PROTOCOL } from "./_protocol.ts";
import { Watcher, type WatchOptions } from "./_watch.ts";
import { V3Store } from "./_store.ts";
import { GatewayStreams } from "./_gateway_streams.ts";
import { GrpcWatchHub } from "./_grpc_watch.ts";
import { GrpcKeepAlive } from "./_grpc_keepalive.ts";
import { type GrpcCallOptions, GrpcPool } from "./_grpc.ts";
import { METHODS } from "./_proto/mod.ts";
import { explainRevision } from "./_revisions.ts";
import { Probes, type VersionInfo } from "./_probes.ts";

export type { VersionInfo };

/** Options of {@linkcode Client}. */
export interface ClientOptions {
  /**
   * The base URLs of the etcd members (their client URLs). The client uses the first one that answers and moves
   * on when one fails.
   * A bare `host:port` (as etcdctl takes it, `127.0.0.1:2379`) means
   * `http://`, or `https://` when `tls` is given. A URL with a path is
   * refused: etcd answers at the root.
   *
   * @default {"http://127.0.0.1:2379"}
   */
  endpoints?: string | readonly string[];
  /**
   * Milliseconds a call may take, failover included; `0` for no limit.
   * Watches are never timed out.
   *
   * @default {5000}
   */
  timeout?: number;
  /**
   * Most calls in flight at once; more wait their turn. Watches are not
   * counted.
   *
   * @default {64}
   */
  maxConcurrency?: number;
  /** TLS settings for `https:` endpoints, as PEM text (verification is always on). */
  tls?: TlsOptions;
  /**
   * A user of etcd's authentication: the client asks for a token when it
   * first needs one, sends it with every call, and gets a new one when etcd
   * says it expired. The password never appears in errors or logs.
   */
  auth?: { username: string; password: string };
  /** Calls `sync()` every this many milliseconds. Default: never. */
  syncInterval?: number;
  /**
   * The wire of v3 calls. `"grpc"` (the default): gRPC over the client's
   * own HTTP/2; an endpoint that answers only HTTP/1.1 moves the client to
   * the gateway, with a note (`onNote`). `"gateway"`: etcd's JSON gateway
   * over the client's own HTTP/1.1 (`"sockets"` is the same); `"fetch"`:
   * the gateway through the runtime's fetch (which honours `HTTP_PROXY`).
   */
  transport?: "grpc" | "gateway" | "sockets" | "fetch";
  /**
   * Told, once, of what is worth knowing but not an error (such as the
   * move to the gateway). Default: a line on stderr.
   */
  onNote?: (message: string) => void;
  /** Told what `sync()` leaves out. Default: `console.warn`. */
  onWarning?: (message: string) => void;
  /**
   * The server's `--max-txn-ops`: the most operations the tree and the
   * tools put in one transaction.
   *
   * @default {128}
   */
  maxTxnOps?: number;
}

/** Options of {@linkcode Client.pages}. */
export interface PagesOptions {
  /** Keys per page (default 1000). */
  pageSize?: number;
  /** Read as of this revision; default: the revision of the first page. */
  revision?: number;
  /** Keys only, no values. */
  keysOnly?: boolean;
  /** Every key that starts with the key (the default), or a range. */
  end?: Bytes;
  /** Aborts the walk. */
  signal?: AbortSignal;
}

/**
 * The key-value calls of a client, or of a namespace of one (whose keys are
 * relative to a prefix): reads, writes, transactions and watches, keys and
 * values as bytes or text.
 */
export class KeySpace {
  readonly #caller: Caller;
  readonly #namespace: Namespace;
  #store: V3Store | undefined;
  /** The lease calls (leases belong to the cluster, not to a namespace). */
  readonly lease: LeaseApi;

  /**
   * Makes the calls. Use a {@linkcode Client}, or `client.namespace()`.
   *
   * @param caller How calls travel.
   * @param namespace The bytes before every key.
   * @param lease The client's lease calls.
   */
  protected constructor(caller: Caller, namespace: Namespace, lease: LeaseApi) {
    this.#caller = caller;
    this.#namespace = namespace;
    this.lease = lease;
  }

  /**
   * A view whose keys are relative to `prefix` (within this one's): every
   * key read, written, watched or compared has the prefix put before it,
   * and keys come back without it.
   *
   * @param prefix The namespace, such as `"tenant-7/"`.
   * @returns The view; it shares the client's connections.
   */
  namespace(prefix: Bytes): KeySpace {
    return new View(
      this.#caller,
      concat(this.#namespace, bytesOf(prefix, "namespace")),
      this.lease,
    );
  }

  /**
   * The store of this key space: what EtcdTree, the tools and the recipes
   * use.
   *
   * @ignore
   */
  get [STORE](): Store {
    return this.#store ??= new V3Store(this, this.#caller, this.#namespace);
  }

  /**
   * Reads one key.
   *
   * @param key The key (text or bytes).
   * @param options `revision` (the past), `serializable`, and a signal.
   * @returns The key, or `undefined` when it does not exist.
   */
  async get(
    key: Bytes,
    options: Pick<RangeOptions, "revision" | "serializable"> & CallOptions = {},
  ): Promise<KeyValue | undefined> {
    const range = await this.range(key, {
      ...options,
      prefix: false,
      fromKey: false,
    });
    return range.kvs[0];
  }

  /**
   * Reads a key, or a range of keys (`prefix`, `fromKey` or `end`), with
   * every option of etcd's range.
   *
   * @param key The key (with `prefix: true` and `""`: every key).
   * @param options The range and its options.
   * @returns The keys, whether there are more, how many in all.
   */
  async range(
    key: Bytes,
    options: RangeOptions & CallOptions = {},
  ): Promise<RangeResult> {
    const namespace = this.#namespace;
    const body = rangeRequest(key, options, namespace);
    try {
      return await this.#caller.call(
        METHODS.kv.range,
        body,
        "read",
        (answer) => rangeResult(answer, namespace.length),
        this.#context(options, key),
      );
    } catch (error) {
      throw await explainRevision(
        error,
        options.revision,
        this.#caller,
        key,
        namespace,
      );
    }
  }

  /**
   * Walks a range page by page, every page read at the same revision (the
   * first page's, unless given), so the pages together are one consistent
   * view however long the walk takes. If that revision is compacted during
   * the walk, the next page rejects with `Compacted`: start again.
   *
   * @param key The prefix (or, with `end`, the first key).
   * @param options Page size, revision, keys only, a signal.
   * @returns Pages of keys, in key order.
   */
  async *pages(
    key: Bytes,
    options: PagesOptions = {},
  ): AsyncIterableIterator<KeyValue[]> {
    const pageSize = options.pageSize ?? 1000;
    if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
      throw new RangeError(
        `Invalid pageSize ${pageSize}: expected a whole number >= 1`,
      );
    }
    let revision = options.revision;
    let start: Uint8Array = bytesOf(key, "key");
    // Every key that starts with `key`, unless an end is given.
    const end = options.end ?? prefixEnd(start);
    for (;;) {
      const range: RangeOptions & CallOptions = {
        end,
        limit: pageSize,
        sortOrder: "ascend",
        sortTarget: "key",
      };
      if (revision !== undefined) range.revision = revision;
      if (options.keysOnly) range.keysOnly = true;
      if (options.signal) range.signal = options.signal;
      let page: RangeResult;
      try {
        page = await this.range(start, range);
      } catch (error) {
        if (error instanceof Compacted && revision !== undefined) {
          error.compactRevision ||= revision;
        }
        throw error;
      }
      revision ??= page.header.revision;
      if (page.kvs.length > 0) yield page.kvs;
      if (!page.more || page.kvs.length === 0) return;
      // The next page starts just after the last key: the key and a 0 byte.
      start = concat(page.kvs[page.kvs.length - 1]!.keyBytes, ZERO);
    }
  }

  /**
   * Writes a key.
   *
   * @param key The key.
   * @param value The value (text or bytes).
   * @param options `lease`, `prevKv`, `ignoreValue`, `ignoreLease`, a signal.
   * @returns The write's revision (and the key before, with `prevKv`).
   * @throws {LeaseNotFound} When the lease does not exist.
   */
  async put(
    key: Bytes,
    value: Bytes,
    options: PutOptions & CallOptions = {},
  ): Promise<PutResult> {
    const namespace = this.#namespace;
    const body = putRequest(key, value, options, namespace);
    return await this.#caller.call(
      METHODS.kv.put,
      body,
      "write",
      (answer) => putResult(answer, namespace.length),
      this.#context(options, key),
    );
  }

  /**
   * Deletes a key, or a range of keys (`prefix`, `fromKey`, `end`).
   *
   * @param key The key.
   * @param options The range, `prevKv`, a signal.
   * @returns How many keys went (and what they were, with `prevKv`).
   */
  async delete(
    key: Bytes,
    options: DeleteOptions & CallOptions = {},
  ): Promise<DeleteResult> {
    const namespace = this.#namespace;
    const body = deleteRequest(key, options, namespace);
    return await this.#caller.call(
      METHODS.kv.deleteRange,
      body,
      "write",
      (answer) => deleteResult(answer, namespace.length),
      this.#context(options, key),
    );
  }

  /**
   * Runs a transaction: if every compare holds, the `success` operations,
   * else the `failure` ones, atomically.
   *
   * @param request The compares (`compare.*`) and operations (`op.*`).
   * @param options A signal.
   * @returns Whether it succeeded, and each operation's result.
   * @throws {TooManyTxnOps} Over etcd's limit of operations (128 by default).
   */
  async txn(
    request: TxnRequest,
    options: CallOptions = {},
  ): Promise<TxnResult> {
    const namespace = this.#namespace;
    const body = txnRequest(request, namespace);
    const writes = [...(request.success ?? []), ...(request.failure ?? [])]
      .some((item) => !("get" in item));
    return await this.#caller.call(
      METHODS.kv.txn,
      body,
      writes ? "write" : "read",
      (answer) => txnResult(answer, namespace.length),
      options,
    );
  }

  /**
   * Watches a key or a range: every change, once, in revision order,
   * through disconnects, restarts and member failures.
   *
   * @param key The key.
   * @param options The range, `startRevision`, `prevKv`, `filters`, a signal.
   * @returns The watcher; close it (or `break` out of its loop) to stop.
   */
  watch(key: Bytes, options: WatchOptions = {}): Watcher {
    return new Watcher(this.#caller, key, options, this.#namespace);
  }

  #context(options: CallOptions, key: Bytes): CallOptions {
    const context: CallOptions = { context: describe(key) };
    if (options.signal) context.signal = options.signal;
    if (options.timeout !== undefined) context.timeout = options.timeout;
    return context;
  }
}

/** A namespace of a client. */
class View extends KeySpace {
  constructor(caller: Caller, namespace: Namespace, lease: LeaseApi) {
    super(caller, namespace, lease);
  }
}

/**
 * A client of etcd's v3 API: keys and values as bytes (text for
 * convenience), revisions, transactions, leases, watches, auth,
 * membership and maintenance. Calls travel as gRPC (the default) or
 * through etcd's JSON gateway (`transport: "gateway"`, and by itself when
 * an endpoint answers only HTTP/1.1). No dependencies: it speaks HTTP/2
 * and HTTP/1.1 itself.
 *
 * @example Usage
 * ```ts
 * import { Client } from "@etcd-tree/etcd-tree";
 * import { startEtcd } from "@etcd-tree/etcd-tree/testing";
 * import assert from "node:assert/strict";
 *
 * await using etcd = await startEtcd({ version: "3.5" });
 * await using client = new Client({ endpoints: etcd.endpoint });
 * const { revision } = await client.put("app/port", "8080");
 * const kv = await client.get("app/port");
 * assert.equal(kv?.value, "8080");
 * assert.equal(kv?.modRevision, revision);
 * ```
 */
export class Client extends KeySpace implements AsyncDisposable {
  readonly #http: Dispatcher;
  readonly #caller: Caller;
  readonly #given: readonly string[];
  readonly #warn: (message: string) => void;
  readonly #probes: Probes;
  #syncTimer: ReturnType<typeof setInterval> | undefined;

  /** The auth admin calls. */
  readonly auth: AuthApi;
  /** The membership calls. */
  readonly cluster: ClusterApi;
  /** The maintenance calls. */
  readonly maintenance: MaintenanceApi;

  /**
   * Creates a client. Nothing is sent until the first call.
   *
   * @param options Endpoints, timeout, TLS, auth.
   * @throws {TypeError} When an endpoint or option is not valid.
   */
  constructor(options: ClientOptions = {}) {
    const wire = options.transport ?? "grpc";
    if (!["grpc", "gateway", "sockets", "fetch"].includes(wire)) {
      throw new TypeError(
        `Invalid transport ${
          JSON.stringify(wire)
        }: expected "grpc", "gateway" or "fetch"`,
      );
    }
    const settings = connection({
      ...options,
      transport: wire === "fetch" ? "fetch" : "sockets",
    });
    // The cluster answers must come from, on both wires.
    const pin = new ClusterPin();
    const http = new Dispatcher({
      endpoints: settings.endpoints,
      timeout: settings.timeout,
      maxConcurrency: settings.maxConcurrency,
      tls: settings.tls,
      headers: V3_HEADERS,
      transport: settings.transport,
      protocol: V3_PROTOCOL,
      // A member that failed says which cluster it is of again before a
      // write: another process may answer at its address.
      onMemberFailure: (endpoint: string) => pin.forget(endpoint),
    });
    let auth: TokenAuth | undefined;
    if (options.auth !== undefined) {
      const { username, password } = options.auth;
      if (typeof username !== "string" || username === "") {
        throw new TypeError(
          "Invalid auth: the username must be a non-empty string",
        );
      }
      if (typeof password !== "string") {
        throw new TypeError("Invalid auth: the password must be a string");
      }
      auth = new TokenAuth(() => authenticate(caller, username, password));
    }
    const maxTxnOps = options.maxTxnOps ?? 128;
    if (!Number.isSafeInteger(maxTxnOps) || maxTxnOps < 1) {
      throw new RangeError(
        `Invalid maxTxnOps ${maxTxnOps}: expected a whole number >= 1 (etcd's --max-txn-ops)`,
      );
    }
    const grpc = wire === "grpc"
      ? new GrpcPool(settings.endpoints, {
        tls: settings.tls,
        deadlines: http.deadlines,
        maxConcurrency: settings.maxConcurrency,
        pin,
      })
      : undefined;
    const caller = new Caller(
      http,
      grpc,
      auth,
      { maxTxnOps },
      options.onNote ?? noteOnStderr,
      pin,
    );
    const gateway = new GatewayStreams(caller);
    caller.setStreams({
      wire: "gateway",
      watch: gateway,
      keepAlive: gateway,
      snapshot: gateway,
    });
    if (grpc !== undefined) caller.setStreams(grpcStreams(caller));
    super(caller, new Uint8Array(0), new LeaseApi(caller));
    this.#http = http;
    this.#caller = caller;
    this.#given = settings.endpoints;
    this.#warn = settings.warn;
    if (settings.syncInterval !== undefined) {
      this.#syncTimer = setInterval(() => {
        this.sync().catch(() => {}); // kept as they were; tried again later
      }, settings.syncInterval);
      Deno.unrefTimer(Number(this.#syncTimer));
    }
    this.auth = new AuthApi(caller, new Uint8Array(0));
    this.cluster = new ClusterApi(caller);
    this.maintenance = new MaintenanceApi(caller);
    this.#probes = new Probes(caller, this.maintenance);
  }

  /** The endpoints, in order of preference. */
  get endpoints(): readonly string[] {
    return this.#http.endpoints;
  }

  /**
   * Compacts the history up to a revision: reads and watches before it
   * fail with `Compacted` afterwards.
   *
   * @param revision The revision to keep history from.
   * @param options `physical` to wait until it is done on disk, a signal.
   */
  async compact(
    revision: number,
    options: CallOptions & { physical?: boolean } = {},
  ): Promise<void> {
    if (!Number.isSafeInteger(revision) || revision < 1) {
      throw new RangeError(
        `Invalid revision ${revision}: expected a whole number >= 1`,
      );
    }
    await this.#caller.call(
      METHODS.kv.compact,
      options.physical ? { revision, physical: true } : { revision },
      "write",
      () => undefined,
      options,
    );
  }

  /**
   * Learns the members' client URLs and makes them the endpoints (the one
   * in use stays first), never moving to another scheme than the client
   * was given.
   *
   * @param options A signal.
   * @returns The endpoints now in use.
   * @throws {EndpointsRefused} When no member advertises a usable URL.
   */
  async sync(options: CallOptions = {}): Promise<readonly string[]> {
    const members = await this.cluster.members(options);
    const advertised = members.flatMap((member) => member.clientURLs);
    const { use, skipped } = learnEndpoints(this.#given, advertised);
    if (use.length === 0 && advertised.length > 0) {
      throw new EndpointsRefused(advertised, skipped);
    }
    if (skipped.length > 0) {
      this.#warn(`sync() left out member URLs: ${skipped.join("; ")}`);
    }
    if (use.length > 0) {
      this.#http.setEndpoints(use);
      this.#caller.grpc?.setEndpoints(this.#http.endpoints);
    }
    return this.#http.endpoints;
  }

  /**
   * The server's and the cluster's versions: etcd's `/version` when the
   * endpoint answers HTTP/1.1 (etcd's client URL does, unless etcd 3.5
   * serves HTTP on its own listener with `--listen-client-http-urls`);
   * else, on gRPC, the member's Status, which gives the server's version
   * only (`etcdcluster` is then absent: no gRPC call of etcd says it).
   *
   * @param options A signal, a timeout.
   * @returns The versions.
   */
  async version(options: CallOptions = {}): Promise<VersionInfo> {
    return await this.#probes.version(options);
  }

  /**
   * Whether the member is healthy. On the gateway, etcd's `/health`; on
   * gRPC, what `etcdctl endpoint health` checks: a linearizable read of the
   * key `health` (refused permission counts as healthy: the read went
   * through consensus), then the alarm list. A member without a leader
   * (`reason` `"RAFT NO LEADER"`), with an alarm raised (`"ALARM NOSPACE"`),
   * or that cannot be reached or does not answer in time is `health:
   * false` with the reason, not an error. With authentication on, etcd
   * 3.5 lists alarms to users only: on gRPC, a client without `auth` is
   * told `health: false` and why, as etcdctl is.
   *
   * @param options A signal, a timeout.
   * @returns The health, and why not.
   */
  async health(
    options: CallOptions = {},
  ): Promise<{ health: boolean; reason?: string }> {
    return await this.#probes.health(options);
  }

  /** Closes the client: calls in flight reject with `ClientClosed`. */
  close(): Promise<void> {
    clearInterval(this.#syncTimer);
    this.#syncTimer = undefined;
    this.#http.close();
    this.#caller.grpc?.close();
    return Promise.resolve();
  }

  /** Closes the client, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Asks etcd for a token; auth that is off means calls go without one. */
async function authenticate(
  caller: Caller,
  name: string,
  password: string,
): Promise<string> {
  try {
    return await caller.call(
      METHODS.auth.authenticate,
      { name, password },
      "write",
      (answer) => answer.token,
      { anonymous: true },
    );
  } catch (error) {
    if (error instanceof AuthNotEnabled) return "";
    throw error;
  }
}

/** A note on stderr (the default `onNote`). */
function noteOnStderr(message: string): void {
  try {
    Deno.stderr.writeSync(new TextEncoder().encode(`etcd-tree: ${message}\n`));
  } catch {
    // no stderr: the note is not worth failing for
  }
}

function describe(key: Bytes): string {
  if (typeof key === "string") {
    return JSON.stringify(key.length > 200 ? key.slice(0, 120) + "..." : key);
  }
  return `0x${key.subarray(0, 32).toHex()}${key.length > 32 ? "..." : ""}`;
}

/**
 * The streams of a client on gRPC: every watch on one Watch stream per
 * connection, every kept lease on one LeaseKeepAlive stream, snapshots as
 * server streams; the caller opens each (member, token, failover).
 */
function grpcStreams(caller: Caller): Streams {
  const openBidi = (path: string, options: GrpcCallOptions) =>
    caller.bidi(path, options);
  return {
    wire: "grpc",
    watch: new GrpcWatchHub(openBidi),
    keepAlive: new GrpcKeepAlive(openBidi),
    snapshot: {
      snapshot: (signal) =>
        caller.serverStream(METHODS.maintenance.snapshot, {}, signal),
    },
  };
}
