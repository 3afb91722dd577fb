// The client of etcd's v2 HTTP API. Public through client.ts.

import {
  decodeKeys,
  headerNumber,
  parseObject,
  unexpected,
} from "./_decode.ts";
import { AuthApi } from "./_auth.ts";
import {
  describeRequest,
  Dispatcher,
  type HttpRequest,
  type HttpResponse,
  type RequestKind,
  type TlsOptions,
} from "../_http/dispatcher.ts";
import { V2_PROTOCOL } from "./_protocol.ts";
import { learnEndpoints } from "../_http/endpoints.ts";
import { connection } from "../_http/options.ts";
import { STORE, type Store } from "../_core/store.ts";
import { V2Store } from "./_store.ts";
import {
  isHiddenBelow,
  type Key,
  keyPath,
  keySegments,
  keyString,
} from "./_keys.ts";
import { EndpointsRefused, UnexpectedResponse } from "../_http/errors.ts";
import type {
  ComparedThenDeleted,
  ComparedThenSwapped,
  Created,
  Deleted,
  EtcdResult,
  Got,
  Set,
  Updated,
} from "./_results.ts";

import { Watcher, type WatchOptions } from "./_watch.ts";

export type { Key } from "./_keys.ts";
export type { TlsOptions } from "../_http/dispatcher.ts";

/** Options of {@linkcode Client}. */
export interface ClientOptions {
  /**
   * The base URLs of the etcd members to talk to. The client uses the first
   * one that answers and moves on when one cannot be reached.
   * A bare `host:port` (as etcdctl takes it, `127.0.0.1:2379`) means
   * `http://`, or `https://` when `tls` is given. A URL with a path is
   * refused: etcd answers at the root.
   *
   * @default {"http://127.0.0.1:2379"}
   */
  endpoints?: string | readonly string[];
  /**
   * Milliseconds a request may take, from sending to the end of the answer;
   * `0` for no limit. Watches and {@linkcode Client.wait} are never timed out.
   *
   * @default {5000}
   */
  timeout?: number;
  /**
   * Most requests in flight at once; more wait their turn in order, so that
   * a burst of calls does not open a connection each. Watches are not
   * counted.
   *
   * @default {64}
   */
  maxConcurrency?: number;
  /**
   * TLS settings for `https:` endpoints, as PEM text: `caCert` to trust
   * besides the system's roots, and a client `cert` with its `key`. The
   * server's certificate and host name are always verified.
   */
  tls?: TlsOptions;
  /**
   * A user of etcd's authentication, sent with every request (HTTP basic
   * auth). The password never appears in errors or logs.
   */
  auth?: { username: string; password: string };
  /**
   * Calls {@linkcode Client.sync} every this many milliseconds, so that the
   * client follows members joining and leaving. Default: never.
   */
  syncInterval?: number;
  /**
   * How requests travel. `"sockets"`: HTTP/1.1 over Deno's own TCP and TLS
   * connections, kept open between requests (faster than fetch; see
   * BENCHMARKS.md). `"fetch"`: the runtime's `fetch`, which
   * also honours the `HTTP_PROXY` / `HTTPS_PROXY` environment variables.
   *
   * @default {"sockets"}
   */
  transport?: "sockets" | "fetch";
  /**
   * Told of what is worth knowing but not an error: members that `sync()`
   * leaves out because they advertise only URLs of another scheme than the
   * client was given (an https client never moves to http, where its
   * credentials would travel in clear).
   *
   * @default {(message) => console.warn(`etcd-tree: ${message}`)}
   */
  onWarning?: (message: string) => void;
}

/** What every call accepts. */
export interface CallOptions {
  /** Aborts the call; it then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Options of {@linkcode Client.get}. */
export interface GetOptions extends CallOptions {
  /** Read the whole subtree, not only the direct children. */
  recursive?: boolean;
  /** Sort children by key (etcd returns them in random order otherwise). */
  sorted?: boolean;
  /** Make a linearizable read through the leader rather than a local one. */
  quorum?: boolean;
}

/** Options of {@linkcode Client.set}. */
export interface SetOptions extends CallOptions {
  /**
   * Seconds until the key expires. `null` removes an existing TTL (with
   * `prevExist: true`); a plain `set` without `ttl` makes the key permanent.
   */
  ttl?: number | null;
  /** Write only if the current value equals this (compare-and-swap). */
  prevValue?: string;
  /** Write only if the key's `modifiedIndex` equals this (compare-and-swap). */
  prevIndex?: number;
  /** `true`: the key must exist; `false`: it must not. */
  prevExist?: boolean;
  /**
   * Reset the TTL only, leaving the value and watchers alone: needs `ttl`
   * and an empty `value` (etcd answers `RefreshValue` or
   * `RefreshTtlRequired` otherwise). {@linkcode Client.refresh} does this.
   */
  refresh?: boolean;
  /**
   * Ask etcd to leave the node out of a successful answer. The result's
   * node then has the key and value written, `modifiedIndex` set to the
   * answer's `etcdIndex`, and `createdIndex` 0 (unknown).
   */
  noValueOnSuccess?: boolean;
}

/** Options of {@linkcode Client.create} and {@linkcode Client.append}. */
export interface CreateOptions extends CallOptions {
  /** Seconds until the key expires. */
  ttl?: number;
}

/** Options of {@linkcode Client.update}. */
export interface UpdateOptions extends CallOptions {
  /** Seconds until the key expires; `null` removes the TTL. Without it the key becomes permanent. */
  ttl?: number | null;
  /** Write only if the current value equals this. */
  prevValue?: string;
  /** Write only if the key's `modifiedIndex` equals this. */
  prevIndex?: number;
}

/** Options of {@linkcode Client.mkdir}. */
export interface MkdirOptions extends CallOptions {
  /** Seconds until the directory and everything in it expire; `null` removes the TTL of an existing directory (with `prevExist: true`). */
  ttl?: number | null;
  /** `true`: change an existing directory (its TTL); `false`: fail if the key exists. */
  prevExist?: boolean;
}

/** Options of {@linkcode Client.delete}. */
export interface DeleteOptions extends CallOptions {
  /** Delete a directory and everything in it. */
  recursive?: boolean;
  /** Delete an empty directory. */
  dir?: boolean;
  /** Delete only if the current value equals this (compare-and-delete). */
  prevValue?: string;
  /** Delete only if the key's `modifiedIndex` equals this (compare-and-delete). */
  prevIndex?: number;
}

/** Options of {@linkcode Client.wait}. */
export interface WaitOptions extends CallOptions {
  /**
   * The first index to report. Without it, the next change after the call
   * is reported. An index older than etcd's 1000-event history rejects with
   * `EventIndexCleared`.
   */
  waitIndex?: number;
  /** Report changes anywhere below the key. */
  recursive?: boolean;
}

/** The answer of {@linkcode Client.version}. */
export interface VersionInfo {
  /** The server's version, such as `"3.4.23"`. */
  etcdserver: string;
  /** The cluster's version, such as `"3.4.0"`. */
  etcdcluster: string;
}

/** The answer of {@linkcode Client.health}. */
export interface HealthInfo {
  /** Whether the member reports itself healthy. */
  health: boolean;
  /** Why not, when the member says. */
  reason?: string;
}

/** A cluster member, as `/v2/members` describes it. */
export interface Member {
  /** The member id, in hex. */
  id: string;
  /** The member's name (`""` until it has started). */
  name: string;
  /** URLs the members use to talk to it. */
  peerURLs: string[];
  /** URLs clients use to talk to it. */
  clientURLs: string[];
}

/** The answer of `stats.self()`: this member's view of itself. */
export interface SelfStats {
  /** The member's name. */
  name: string;
  /** The member id, in hex. */
  id: string;
  /** `"StateLeader"` or `"StateFollower"`. */
  state: string;
  /** When the member started, in RFC 3339. */
  startTime: string;
  /** The leader as this member knows it. */
  leaderInfo: { leader: string; uptime: string; startTime: string };
  /** Append requests received. */
  recvAppendRequestCnt: number;
  /** Append requests sent. */
  sendAppendRequestCnt: number;
  /** Receive rate, when there is traffic. */
  recvPkgRate?: number;
  /** Receive bandwidth, when there is traffic. */
  recvBandwidthRate?: number;
  /** Send rate, when there is traffic. */
  sendPkgRate?: number;
  /** Send bandwidth, when there is traffic. */
  sendBandwidthRate?: number;
}

/** The answer of `stats.store()`: counters of the v2 store. */
export interface StoreStats {
  /** Successful gets. */
  getsSuccess: number;
  /** Failed gets. */
  getsFail: number;
  /** Successful sets. */
  setsSuccess: number;
  /** Failed sets. */
  setsFail: number;
  /** Successful deletes. */
  deleteSuccess: number;
  /** Failed deletes. */
  deleteFail: number;
  /** Successful updates. */
  updateSuccess: number;
  /** Failed updates. */
  updateFail: number;
  /** Successful creates. */
  createSuccess: number;
  /** Failed creates. */
  createFail: number;
  /** Successful compare-and-swaps. */
  compareAndSwapSuccess: number;
  /** Failed compare-and-swaps. */
  compareAndSwapFail: number;
  /** Successful compare-and-deletes. */
  compareAndDeleteSuccess: number;
  /** Failed compare-and-deletes. */
  compareAndDeleteFail: number;
  /** Nodes expired. */
  expireCount: number;
  /** Watchers currently registered. */
  watchers: number;
}

/** The answer of `stats.leader()`: the leader's view of its followers. */
export interface LeaderStats {
  /** The leader's member id, in hex. */
  leader: string;
  /** Per follower id: latency and counts of its append requests. */
  followers: Record<string, {
    latency: {
      current: number;
      average: number;
      standardDeviation: number;
      minimum: number;
      maximum: number;
    };
    counts: { fail: number; success: number };
  }>;
}

/** The member statistics endpoints, as `client.stats`. */
export interface Stats {
  /**
   * This member's state and traffic.
   *
   * @param options The signal.
   * @returns The statistics.
   */
  self(options?: CallOptions): Promise<SelfStats>;
  /**
   * Counters of the v2 store.
   *
   * @param options The signal.
   * @returns The statistics.
   */
  store(options?: CallOptions): Promise<StoreStats>;
  /**
   * The leader's view of its followers; only the leader answers.
   *
   * @param options The signal.
   * @returns The statistics.
   * @throws {UnexpectedResponse} When the member is not the leader (HTTP 403).
   */
  leader(options?: CallOptions): Promise<LeaderStats>;
}

/** Decodes a key-space answer inside the exchange (see `HttpRequest.decode`). */
function decodeKeysResponse(
  response: HttpResponse,
  request: HttpRequest,
): EtcdResult {
  return decodeKeys(request, response, (request as KeysRequest).written);
}

/**
 * The longest request path etcd's HTTP server takes: Go's default of 1 MiB
 * for the request line and headers, less room for the headers we send.
 */
const MAX_REQUEST_LINE = 1024 * 1024 - 4096;

/**
 * A key-space request, a read unless it says otherwise; `written` stands in
 * for a node left out by `noValueOnSuccess`.
 */
interface KeysRequest extends Omit<HttpRequest, "kind"> {
  kind?: RequestKind;
  written?: { key: string; value: string };
}

/**
 * A client for the etcd v2 HTTP API.
 *
 * Keys are strings of segments joined by `/` (a leading `/` is optional) or
 * arrays of segments; each segment is percent-encoded, so any text
 * round-trips. Empty, `.` and `..` segments are a `TypeError` before anything
 * is sent. Values are strings.
 *
 * @example Usage
 * ```ts
 * import { Client, Created, KeyNotFound } from "@etcd-tree/etcd-tree/v2";
 *
 * async function usage() {
 *   await using client = new Client({ endpoints: ["http://127.0.0.1:2379"] });
 *   const created = await client.create("jobs/42", "queued", { ttl: 60 });
 *   console.log(created instanceof Created, created.node.modifiedIndex);
 *   try {
 *     await client.get("jobs/43");
 *   } catch (error) {
 *     if (!(error instanceof KeyNotFound)) throw error;
 *   }
 * }
 * ```
 */
export class Client implements AsyncDisposable {
  readonly #http: Dispatcher;
  /** The endpoints the user gave: sync() keeps to their scheme. */
  readonly #given: readonly string[];
  readonly #warn: (message: string) => void;
  #store: V2Store | undefined;
  #syncTimer: ReturnType<typeof setInterval> | undefined;

  /**
   * The member statistics endpoints.
   *
   * @example Usage
   * ```ts
   * import { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client();
   *   const { watchers } = await client.stats.store();
   * }
   * ```
   */
  readonly stats: Stats;

  /**
   * The v2 auth admin API: switch auth on and off, manage users and roles.
   *
   * @example Usage
   * ```ts
   * import { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client();
   *   console.log(await client.auth.status());
   * }
   * ```
   */
  readonly auth: AuthApi;

  /**
   * Creates a client. Nothing is sent until the first call.
   *
   * @param options The endpoints and the request timeout.
   * @throws {TypeError} When an endpoint is not an `http:` or `https:` URL.
   */
  constructor(options: ClientOptions = {}) {
    const settings = connection(options);
    this.#given = settings.endpoints;
    this.#warn = settings.warn;
    let authorization: string | undefined;
    if (options.auth !== undefined) {
      const { username, password } = options.auth;
      if (
        typeof username !== "string" || username === "" ||
        username.includes(":")
      ) {
        throw new TypeError(
          'Invalid auth: the username must be a non-empty string without ":"',
        );
      }
      if (typeof password !== "string") {
        throw new TypeError("Invalid auth: the password must be a string");
      }
      const bytes = new TextEncoder().encode(`${username}:${password}`);
      authorization = "Basic " + btoa(String.fromCharCode(...bytes));
    }
    this.#http = new Dispatcher({
      endpoints: settings.endpoints,
      timeout: settings.timeout,
      maxConcurrency: settings.maxConcurrency,
      tls: settings.tls,
      headers: authorization === undefined ? undefined : { authorization },
      transport: settings.transport,
      protocol: V2_PROTOCOL,
    });
    const every = settings.syncInterval;
    if (every !== undefined) {
      this.#syncTimer = setInterval(() => {
        this.sync().catch(() => {}); // kept as they were; tried again later
      }, every);
      Deno.unrefTimer(Number(this.#syncTimer));
    }
    this.auth = new AuthApi(this.#http);
    this.stats = {
      self: (options = {}) => this.#json("/v2/stats/self", options),
      store: (options = {}) => this.#json("/v2/stats/store", options),
      leader: (options = {}) => this.#json("/v2/stats/leader", options),
    };
  }

  /** The endpoints the client uses, in order of preference. */
  get endpoints(): readonly string[] {
    return this.#http.endpoints;
  }

  /**
   * Reads a key: a value, or a directory with its children.
   *
   * @param key The key.
   * @param options `recursive`, `sorted`, `quorum` and a signal.
   * @returns The node and the store index at the time of the read.
   * @throws {KeyNotFound} When the key does not exist.
   *
   * @example Usage
   * ```ts
   * import { Client, Directory } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client();
   *   const { node, etcdIndex } = await client.get("app", { recursive: true, sorted: true });
   *   if (node instanceof Directory) for (const leaf of node.leaves()) console.log(leaf.key, leaf.value);
   * }
   * ```
   */
  get(key: Key, options: GetOptions = {}): Promise<Got> {
    return this.#keys<Got>(() => {
      let query = "";
      if (options.recursive) query += "&recursive=true";
      if (options.sorted) query += "&sorted=true";
      if (options.quorum) query += "&quorum=true";
      return {
        method: "GET",
        path: withQuery(keyPath(keySegments(key)), query),
        signal: options.signal,
      };
    });
  }

  /**
   * Writes a value, with any of etcd's conditions.
   *
   * @param key The key.
   * @param value The value.
   * @param options `ttl`, the conditions `prevValue`, `prevIndex` and
   *   `prevExist`, `noValueOnSuccess`, and a signal.
   * @returns A {@linkcode Set}, or the kind of it etcd reports: `Created`,
   *   `Updated` or `ComparedThenSwapped`.
   * @throws {CompareFailed} When `prevValue` or `prevIndex` does not match.
   * @throws {KeyNotFound} When `prevExist: true` and the key is missing.
   * @throws {NodeExists} When `prevExist: false` and the key exists.
   * @throws {NotAFile} When the key is a directory.
   *
   * @example Usage
   * ```ts
   * import { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client();
   *   const first = await client.set("config/mode", "a");
   *   await client.set("config/mode", "b", { prevIndex: first.node.modifiedIndex });
   * }
   * ```
   */
  set(key: Key, value: string, options: SetOptions = {}): Promise<Set> {
    return this.#keys<Set>(() => {
      const segments = keySegments(key);
      let body = "value=" +
        encodeURIComponent(
          checkValue(value, `value for ${JSON.stringify(keyString(segments))}`),
        );
      body += ttlField(options.ttl);
      if (options.prevValue !== undefined) {
        body += "&prevValue=" +
          encodeURIComponent(checkValue(options.prevValue, "prevValue"));
      }
      if (options.prevIndex !== undefined) {
        body += "&prevIndex=" + checkIndex(options.prevIndex, "prevIndex");
      }
      if (options.prevExist !== undefined) {
        body += "&prevExist=" + (options.prevExist ? "true" : "false");
      }
      if (options.refresh) body += "&refresh=true";
      const request: KeysRequest = {
        method: "PUT",
        path: keyPath(segments),
        body,
        signal: options.signal,
        kind: "write",
      };
      if (options.noValueOnSuccess) {
        request.body += "&noValueOnSuccess=true";
        request.written = { key: keyString(segments), value };
      }
      return request;
    });
  }

  /**
   * Creates a key that must not exist yet.
   *
   * @param key The key.
   * @param value The value.
   * @param options `ttl` and a signal.
   * @returns The {@linkcode Created} result.
   * @throws {NodeExists} When the key exists.
   *
   * @example Usage
   * ```ts
   * import { Client, NodeExists } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client();
   *   try {
   *     await client.create("singleton", "me", { ttl: 30 });
   *   } catch (error) {
   *     if (!(error instanceof NodeExists)) throw error;
   *   }
   * }
   * ```
   */
  async create(
    key: Key,
    value: string,
    options: CreateOptions = {},
  ): Promise<Created> {
    const set: SetOptions = { prevExist: false };
    if (options.ttl !== undefined) set.ttl = options.ttl;
    if (options.signal !== undefined) set.signal = options.signal;
    return await this.set(key, value, set) as Created;
  }

  /**
   * Changes a key that must exist, optionally only if it holds `prevValue`
   * or was last changed at `prevIndex`.
   *
   * @param key The key.
   * @param value The new value.
   * @param options `ttl`, `prevValue`, `prevIndex` and a signal.
   * @returns `Updated`, or `ComparedThenSwapped` with a condition.
   * @throws {KeyNotFound} When the key does not exist.
   * @throws {CompareFailed} When a condition does not hold.
   *
   * @example Usage
   * ```ts
   * import { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client();
   *   await client.update("config/mode", "c", { prevValue: "b" });
   * }
   * ```
   */
  async update(
    key: Key,
    value: string,
    options: UpdateOptions = {},
  ): Promise<Updated | ComparedThenSwapped> {
    return await this.set(key, value, { ...options, prevExist: true }) as
      | Updated
      | ComparedThenSwapped;
  }

  /**
   * Resets a key's TTL without changing its value; watchers are not told.
   *
   * @param key The key (a value or a directory).
   * @param ttl The new TTL in seconds.
   * @param options A signal.
   * @returns The {@linkcode Updated} result.
   * @throws {KeyNotFound} When the key does not exist.
   *
   * @example Usage
   * ```ts
   * import { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client();
   *   await client.set("lease", "holder", { ttl: 10 });
   *   await client.refresh("lease", 10);
   * }
   * ```
   */
  refresh(
    key: Key,
    ttl: number,
    options: CallOptions = {},
  ): Promise<Updated> {
    return this.#keys<Updated>(() => {
      const path = keyPath(keySegments(key));
      const body = "refresh=true&prevExist=true" +
        ttlField(checkNumber(ttl, "ttl"));
      return {
        method: "PUT",
        path,
        body,
        signal: options.signal,
        kind: "write",
      };
    });
  }

  /**
   * Adds a value under a directory with a key etcd picks: the next store
   * index, zero-padded to 20 digits, so keys sort in creation order.
   *
   * @param dir The directory (created if missing).
   * @param value The value.
   * @param options `ttl` and a signal.
   * @returns The {@linkcode Created} result; `node.key` is the new key.
   * @throws {NotADirectory} When `dir` is a value.
   *
   * @example Usage
   * ```ts
   * import { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client();
   *   const { node } = await client.append("queue", "job 1");
   *   console.log(node.key); // "/queue/00000000000000000042"
   * }
   * ```
   */
  append(
    dir: Key,
    value: string,
    options: CreateOptions = {},
  ): Promise<Created> {
    return this.#keys<Created>(() => {
      const segments = keySegments(dir);
      const path = keyPath(segments);
      const body = "value=" +
        encodeURIComponent(
          checkValue(value, `value for ${JSON.stringify(keyString(segments))}`),
        ) +
        ttlField(options.ttl);
      return {
        method: "POST",
        path,
        body,
        signal: options.signal,
        kind: "write",
      };
    });
  }

  /**
   * Creates a directory, or with `prevExist: true` changes the TTL of an
   * existing one.
   *
   * @param key The directory's key.
   * @param options `ttl`, `prevExist` and a signal.
   * @returns A {@linkcode Set} whose node is a `Directory`.
   * @throws {NotAFile} When the directory exists (without `prevExist`).
   * @throws {NodeExists} With `prevExist: false`, when the key exists.
   *
   * @example Usage
   * ```ts
   * import { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client();
   *   await client.mkdir("sessions", { ttl: 60 });
   *   await client.mkdir("sessions", { ttl: 120, prevExist: true });
   * }
   * ```
   */
  mkdir(key: Key, options: MkdirOptions = {}): Promise<Set> {
    return this.#keys<Set>(() => {
      const path = keyPath(keySegments(key));
      let body = "dir=true" + ttlField(options.ttl);
      if (options.prevExist !== undefined) {
        body += "&prevExist=" + (options.prevExist ? "true" : "false");
      }
      return {
        method: "PUT",
        path,
        body,
        signal: options.signal,
        kind: "write",
      };
    });
  }

  /**
   * Deletes a value, or a directory with `dir` or `recursive`.
   *
   * @param key The key.
   * @param options `recursive`, `dir`, the conditions `prevValue` and
   *   `prevIndex`, and a signal.
   * @returns `Deleted`, or `ComparedThenDeleted` with a condition; its
   *   `prevNode` is what was deleted.
   * @throws {KeyNotFound} When the key does not exist.
   * @throws {NotAFile} When the key is a directory and neither `dir` nor `recursive` is set.
   * @throws {DirectoryNotEmpty} When `dir` is set on a non-empty directory.
   * @throws {CompareFailed} When a condition does not hold.
   *
   * @example Usage
   * ```ts
   * import { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client();
   *   await client.delete("sessions", { recursive: true });
   * }
   * ```
   */
  delete(
    key: Key,
    options: DeleteOptions = {},
  ): Promise<Deleted | ComparedThenDeleted> {
    return this.#keys<Deleted | ComparedThenDeleted>(() => {
      const path = keyPath(keySegments(key));
      let query = "";
      if (options.recursive) query += "&recursive=true";
      if (options.dir) query += "&dir=true";
      if (options.prevValue !== undefined) {
        query += "&prevValue=" +
          encodeURIComponent(checkValue(options.prevValue, "prevValue"));
      }
      if (options.prevIndex !== undefined) {
        query += "&prevIndex=" + checkIndex(options.prevIndex, "prevIndex");
      }
      return {
        method: "DELETE",
        path: withQuery(path, query),
        signal: options.signal,
        kind: "write",
      };
    });
  }

  /**
   * Waits for the next change of a key (or, with `recursive`, below it) and
   * resolves with it: one long-poll. The client's timeout does not apply;
   * use the signal to stop waiting. For a continuous stream of changes use a
   * watch instead.
   *
   * An answer that etcd ends without an event is retried from where it
   * left off, so no change is missed between two polls.
   *
   * @param key The key.
   * @param options `waitIndex`, `recursive` and a signal.
   * @returns The change, typed by its action (`Set`, `Deleted`, `Expired`, ...).
   * @throws {EventIndexCleared} When `waitIndex` is older than etcd's history.
   *
   * @example Usage
   * ```ts
   * import { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client();
   *   const change = await client.wait("config", { recursive: true, signal: AbortSignal.timeout(60_000) });
   *   console.log(change.action, change.node.key);
   * }
   * ```
   */
  async wait(key: Key, options: WaitOptions = {}): Promise<EtcdResult> {
    const segments = keySegments(key);
    const path = keyPath(segments);
    const watched = keyString(segments);
    let waitIndex = options.waitIndex === undefined
      ? undefined
      : checkWaitIndex(options.waitIndex);
    const recursive = options.recursive ? "&recursive=true" : "";
    for (;;) {
      const query = "wait=true" + recursive +
        (waitIndex === undefined ? "" : `&waitIndex=${waitIndex}`);
      const request: HttpRequest = {
        method: "GET",
        path: `/v2/keys${path}?${query}`,
        kind: "poll",
        signal: options.signal,
      };
      const response = await this.#http.request(request);
      if (response.text === "" && response.status === 200) {
        // etcd ended the poll without an event; nothing up to the index it
        // had when the poll started matched, so go on from there.
        const started = headerNumber(response.headers, "x-etcd-index");
        if (waitIndex === undefined || started >= waitIndex) {
          waitIndex = started + 1;
        }
        continue;
      }
      const event = decodeKeys(request, response);
      // etcd leaves hidden keys out of live recursive watches, but not out of
      // answers from its history: skip them here too.
      if (options.recursive && isHiddenBelow(watched, event.node.key)) {
        waitIndex = event.node.modifiedIndex + 1;
        continue;
      }
      return event;
    }
  }

  /**
   * Watches a key, or with `recursive` a subtree: an async iterable of every
   * change, once, in index order, that keeps up with fast writers and
   * survives dropped connections and restarts. The client's timeout does
   * not apply.
   *
   * @param key The key.
   * @param options `recursive`, `waitIndex` (default: from now), `retryFor`
   *   and a signal.
   * @returns The {@linkcode Watcher}; close it (or `break` out of its loop)
   *   to release its connections.
   * @throws {TypeError} When the key is not valid.
   *
   * @example Usage
   * ```ts
   * import { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client();
   *   for await (const event of client.watch("config", { recursive: true })) {
   *     console.log(event.action, event.node.key);
   *   }
   * }
   * ```
   */
  watch(key: Key, options: WatchOptions = {}): Watcher {
    const segments = keySegments(key);
    if (options.waitIndex !== undefined) {
      checkWaitIndex(options.waitIndex);
    }
    return new Watcher(this.#http, segments, options);
  }

  /**
   * The server's and the cluster's versions (`/version`).
   *
   * @param options A signal.
   * @returns The versions.
   *
   * @example Usage
   * ```ts
   * import { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client();
   *   const { etcdserver } = await client.version();
   * }
   * ```
   */
  async version(options: CallOptions = {}): Promise<VersionInfo> {
    return await this.#json("/version", options);
  }

  /**
   * Asks the member whether it is healthy (`/health`). An unhealthy member
   * answers HTTP 503; that is reported as `health: false`, not thrown.
   *
   * @param options A signal.
   * @returns The health.
   *
   * @example Usage
   * ```ts
   * import { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client();
   *   if (!(await client.health()).health) console.error("etcd is unhealthy");
   * }
   * ```
   */
  async health(options: CallOptions = {}): Promise<HealthInfo> {
    const request: HttpRequest = {
      kind: "probe",
      method: "GET",
      path: "/health",
      signal: options.signal,
    };
    const response = await this.#http.request(request);
    const body = parseObject(request, response) as {
      health?: string | boolean;
      reason?: string;
    };
    if (
      (response.status !== 200 && response.status !== 503) ||
      body.health === undefined
    ) {
      throw new UnexpectedResponse(
        describeRequest(request),
        response.status,
        response.text,
      );
    }
    const info: HealthInfo = {
      health: body.health === true || body.health === "true",
    };
    if (body.reason) info.reason = body.reason;
    return info;
  }

  /**
   * Lists the cluster's members (`/v2/members`).
   *
   * @param options A signal.
   * @returns The members.
   *
   * @example Usage
   * ```ts
   * import { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client();
   *   for (const member of await client.members()) console.log(member.name, member.clientURLs);
   * }
   * ```
   */
  async members(options: CallOptions = {}): Promise<Member[]> {
    const body = await this.#json<{ members?: Member[] }>(
      "/v2/members",
      options,
    );
    return (body.members ?? []).map(memberFrom);
  }

  /**
   * Learns the cluster's members from `/v2/members` and makes their client
   * URLs the endpoints (the one in use stays first). If no member answers,
   * the endpoints stay as they were and the error is thrown.
   *
   * @param options A signal.
   * @returns The endpoints now in use.
   *
   * @example Usage
   * ```ts
   * import { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client({ endpoints: "http://10.0.0.1:2379" });
   *   console.log(await client.sync()); // every member's client URL
   * }
   * ```
   */
  async sync(options: CallOptions = {}): Promise<readonly string[]> {
    const members = await this.members(options);
    const advertised = members.flatMap((member) => member.clientURLs);
    const { use, skipped } = learnEndpoints(this.#given, advertised);
    if (use.length === 0 && advertised.length > 0) {
      throw new EndpointsRefused(advertised, skipped);
    }
    if (skipped.length > 0) {
      this.#warn(`sync() left out member URLs: ${skipped.join("; ")}`);
    }
    if (use.length > 0) this.#http.setEndpoints(use);
    return this.#http.endpoints;
  }

  /**
   * The current leader (`/v2/members/leader`).
   *
   * @param options A signal.
   * @returns The leader.
   * @throws {UnexpectedResponse} During an election (HTTP 503).
   *
   * @example Usage
   * ```ts
   * import { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client();
   *   console.log((await client.leader()).name);
   * }
   * ```
   */
  async leader(options: CallOptions = {}): Promise<Member> {
    return memberFrom(await this.#json<Member>("/v2/members/leader", options));
  }

  /**
   * The client URLs of the cluster's members (`/v2/machines`).
   *
   * @param options A signal.
   * @returns The URLs.
   *
   * @example Usage
   * ```ts
   * import { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client();
   *   console.log(await client.machines());
   * }
   * ```
   */
  async machines(options: CallOptions = {}): Promise<string[]> {
    const request: HttpRequest = {
      kind: "read",
      method: "GET",
      path: "/v2/machines",
      signal: options.signal,
    };
    const response = await this.#http.request(request);
    if (response.status !== 200) throw unexpected(request, response);
    return response.text.split(",").map((url) => url.trim()).filter((url) =>
      url !== ""
    );
  }

  /**
   * The client's store: what EtcdTree, the tools and the recipes use.
   *
   * @ignore
   */
  get [STORE](): Store {
    return this.#store ??= new V2Store(this, this.#http);
  }

  /**
   * Closes the client: calls in progress reject with `ClientClosed`, and so
   * does every later call.
   *
   * @example Usage
   * ```ts
   * import { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * const client = new Client();
   * await client.close();
   * ```
   */
  close(): Promise<void> {
    clearInterval(this.#syncTimer);
    this.#syncTimer = undefined;
    this.#http.close();
    return Promise.resolve();
  }

  /**
   * Closes the client, for `await using`.
   *
   * @example Usage
   * ```ts
   * import { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * {
   *   await using client = new Client();
   * } // closed here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // Every key-space call: the request is built (and its arguments checked)
  // inside this one async step, so that bad arguments reject, not throw.
  #keys<T extends EtcdResult>(build: () => KeysRequest): Promise<T> {
    let request: KeysRequest;
    try {
      request = build();
    } catch (error) {
      return Promise.reject(error);
    }
    request.path = "/v2/keys" + request.path;
    if (request.path.length > MAX_REQUEST_LINE) {
      return Promise.reject(
        new TypeError(
          `Invalid key: it is ${request.path.length} bytes long in the URL (${
            describeRequest(request)
          }); etcd's HTTP server takes at most 1 MiB of request line and headers`,
        ),
      );
    }
    request.decode = decodeKeysResponse;
    request.kind ??= "read";
    return this.#http.request(request as HttpRequest) as Promise<
      unknown
    > as Promise<
      T
    >;
  }

  async #json<T>(path: string, options: CallOptions): Promise<T> {
    const request: HttpRequest = {
      kind: "read",
      method: "GET",
      path,
      signal: options.signal,
    };
    const response = await this.#http.request(request);
    if (response.status !== 200) throw unexpected(request, response);
    return parseObject(request, response) as T;
  }
}

function memberFrom(raw: Partial<Member>): Member {
  return {
    id: raw.id ?? "",
    name: raw.name ?? "",
    peerURLs: raw.peerURLs ?? [],
    clientURLs: raw.clientURLs ?? [],
  };
}

function withQuery(path: string, query: string): string {
  return query === "" ? path : `${path}?${query.slice(1)}`;
}

/** Throws a `TypeError` naming `what` unless `value` is of `type`. */
function checkType(value: unknown, type: "string" | "number", what: string) {
  const actual: string = typeof value;
  if (actual !== type) {
    throw new TypeError(
      `Invalid ${what}: expected a ${type}, got ${
        value === null ? "null" : typeof value
      }`,
    );
  }
}

function checkValue(value: unknown, what = "value"): string {
  checkType(value, "string", what);
  if (!(value as string).isWellFormed()) {
    throw new TypeError(
      `Invalid ${what}: it holds a lone surrogate (an unpaired UTF-16 half), which is not text`,
    );
  }
  return value as string;
}

// Numbers are sent as given: etcd itself rejects a negative or fractional
// TTL (TtlNaN) or index (IndexNaN) with a typed error naming the field.
function checkNumber(value: unknown, what: string): number {
  checkType(value, "number", what);
  return value as number;
}

function checkIndex(index: unknown, what: string): number {
  // etcd reads 0 as "no index": a condition on it would silently vanish.
  if (checkNumber(index, what) === 0) {
    throw new RangeError(`Invalid ${what} 0: etcd indices start at 1`);
  }
  return index as number;
}

/**
 * Where a wait or watch starts: beyond what a number holds exactly (NaN,
 * 2^53 and up) it would wait for an index that never comes. Negative and
 * fractional ones go to etcd, which refuses them (IndexNaN).
 */
function checkWaitIndex(index: unknown): number {
  checkIndex(index, "waitIndex");
  const value = index as number;
  if (Number.isNaN(value) || Math.abs(value) > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(
      `Invalid waitIndex ${value}: expected an etcd index, a whole number from 1 to ${Number.MAX_SAFE_INTEGER}`,
    );
  }
  return value;
}

function ttlField(ttl: number | null | undefined): string {
  if (ttl === undefined) return "";
  if (ttl === null) return "&ttl=";
  return "&ttl=" + checkNumber(ttl, "ttl");
}
