// The seam between etcd and what is built on it (EtcdTree, the CLI): a
// snapshot of a subtree, the ordered stream of its changes from an index on,
// and conditional writes. Internal. Only `V2Store` knows the v2 HTTP API; a
// store for etcd's v3 JSON gateway would implement the same interface.

import type { Client } from "./client.ts";
import {
  decodeKeys,
  headerNumber,
  parseObject,
  unexpected,
} from "./_decode.ts";
import { type HttpRequest, type HttpResponse, transports } from "./_http.ts";
import { keyPath } from "./_keys.ts";
import { KeyNotFound } from "./errors.ts";
import type { Directory, EtcdResult, Value } from "./results.ts";

/** A node as a snapshot or a change carries it. */
export interface StoreNode {
  /** The full key, such as `"/app/db/port"`; `"/"` for the root. */
  key?: string;
  /** `true` for a directory. */
  dir?: boolean;
  /** The value of a non-directory. */
  value?: string;
  /** The children of a directory, in a snapshot. */
  nodes?: StoreNode[];
  /** The index that created the node. */
  createdIndex?: number;
  /** The index that last changed the node itself. */
  modifiedIndex?: number;
  /** When the node expires, in RFC 3339. */
  expiration?: string;
}

/** A subtree as it was at one index. */
export interface Snapshot {
  /** The store index the snapshot shows. Changes go on from `index + 1`. */
  index: number;
  /** The subtree's top node, or `undefined` if the key does not exist. */
  root: StoreNode | undefined;
}

/** One change of the followed subtree. */
export interface StoreChange {
  /** The index of the change. */
  index: number;
  /** `put`: the node was created or changed; `delete`: it went, with its subtree. */
  type: "put" | "delete";
  /** For a delete: the node's TTL ran out. */
  expired: boolean;
  /** The node after a put; the node that went, for a delete. */
  node: StoreNode;
  /** The node before a put over an existing key, when the store knows it. */
  prev?: StoreNode;
}

/** The changes of a subtree from an index on, in order, none left out. */
export interface ChangeStream
  extends AsyncIterable<StoreChange>, AsyncDisposable {
  /** Stops the stream; iteration ends. */
  close(): Promise<void>;
}

/** Options of {@linkcode Store.follow}. */
export interface FollowOptions {
  /** Give up after this long unable to reach the store (milliseconds). */
  retryFor?: number;
  /** Told when following starts retrying after a failure, and recovers. */
  onState?: (state: "live" | "retrying", error?: unknown) => void;
}

/** Conditions and options of a write. */
export interface WriteOptions {
  /** Seconds to live; `null` removes a TTL; absent: none. */
  ttl?: number | null;
  /** Write only if the node's `modifiedIndex` is this. */
  prevIndex?: number;
  /** `false`: only if the key does not exist; `true`: only if it does. */
  prevExist?: boolean;
  signal?: AbortSignal;
}

/** Options of {@linkcode Store.delete}. */
export interface RemoveOptions {
  /** Remove a directory and everything in it. */
  recursive?: boolean;
  /** Remove an empty directory. */
  dir?: boolean;
  /** Only if the node's `modifiedIndex` is this. */
  prevIndex?: number;
  signal?: AbortSignal;
}

/** What a write did: its index and the key it wrote. */
export interface Written {
  index: number;
  key: string;
}

/** The operations that EtcdTree and the CLI need from etcd. */
export interface Store {
  /** Reads a subtree at one index. */
  snapshot(
    segments: readonly string[],
    options?: { signal?: AbortSignal },
  ): Promise<Snapshot>;
  /** Follows a subtree's changes from index `from` on (or from now). */
  follow(
    segments: readonly string[],
    from: number | undefined,
    options?: FollowOptions,
  ): ChangeStream;
  /** Writes a value. */
  put(
    segments: readonly string[],
    value: string,
    options?: WriteOptions,
  ): Promise<Written>;
  /** Creates a directory, or with `prevExist: true` changes its TTL. */
  mkdir(
    segments: readonly string[],
    options?: WriteOptions,
  ): Promise<Written>;
  /** Creates a value with a new, increasing name in a directory. */
  append(
    segments: readonly string[],
    value: string,
    options?: WriteOptions,
  ): Promise<Written>;
  /** Removes a node. */
  delete(
    segments: readonly string[],
    options?: RemoveOptions,
  ): Promise<Written>;
}

const stores = new WeakMap<Client, Store>();

/** The store of a client (one per client). */
export function storeOf(client: Client): Store {
  let store = stores.get(client);
  if (store === undefined) {
    store = new V2Store(client);
    stores.set(client, store);
  }
  return store;
}

/** The store over etcd's v2 HTTP API. */
class V2Store implements Store {
  readonly #client: Client;

  constructor(client: Client) {
    this.#client = client;
  }

  // A recursive get, decoded straight from JSON: no result objects are made
  // for what the caller turns into its own nodes at once.
  async snapshot(
    segments: readonly string[],
    options: { signal?: AbortSignal } = {},
  ): Promise<Snapshot> {
    const http = transports.get(this.#client);
    if (http === undefined) throw new TypeError("Unknown etcd client");
    const request: HttpRequest = {
      method: "GET",
      path: "/v2/keys" + keyPath(segments) + "?recursive=true",
      signal: options.signal,
      decode: decodeSnapshot,
    };
    try {
      return await http.request(request) as unknown as Snapshot;
    } catch (error) {
      if (error instanceof KeyNotFound) {
        return { index: error.index || error.etcdIndex, root: undefined };
      }
      throw error;
    }
  }

  follow(
    segments: readonly string[],
    from: number | undefined,
    options: FollowOptions = {},
  ): ChangeStream {
    const watchOptions: {
      recursive: true;
      waitIndex?: number;
      retryFor?: number;
      onState?: NonNullable<FollowOptions["onState"]>;
    } = { recursive: true };
    if (options.onState) watchOptions.onState = options.onState;
    if (from !== undefined) watchOptions.waitIndex = from;
    if (options.retryFor !== undefined) {
      watchOptions.retryFor = options.retryFor;
    }
    const watcher = this.#client.watch([...segments], watchOptions);
    return {
      async *[Symbol.asyncIterator]() {
        for await (const event of watcher) yield changeFrom(event);
      },
      close: () => watcher.close(),
      [Symbol.asyncDispose]: () => watcher.close(),
    };
  }

  async put(
    segments: readonly string[],
    value: string,
    options: WriteOptions = {},
  ): Promise<Written> {
    return written(await this.#client.set([...segments], value, options));
  }

  async mkdir(
    segments: readonly string[],
    options: WriteOptions = {},
  ): Promise<Written> {
    return written(await this.#client.mkdir([...segments], options));
  }

  async append(
    segments: readonly string[],
    value: string,
    options: WriteOptions = {},
  ): Promise<Written> {
    const appendOptions: { ttl?: number; signal?: AbortSignal } = {};
    if (typeof options.ttl === "number") appendOptions.ttl = options.ttl;
    if (options.signal) appendOptions.signal = options.signal;
    return written(
      await this.#client.append([...segments], value, appendOptions),
    );
  }

  async delete(
    segments: readonly string[],
    options: RemoveOptions = {},
  ): Promise<Written> {
    return written(await this.#client.delete([...segments], options));
  }
}

function decodeSnapshot(
  response: HttpResponse,
  request: HttpRequest,
): Snapshot {
  const body = parseObject(request, response);
  const root = body.node as StoreNode | undefined;
  if (
    response.status !== 200 || typeof body.errorCode === "number" ||
    typeof root !== "object" || root === null
  ) {
    decodeKeys(request, response); // throws etcd's error
    throw unexpected(request, response);
  }
  return { index: headerNumber(response.headers, "x-etcd-index"), root };
}

function written(result: EtcdResult): Written {
  return { index: result.node.modifiedIndex, key: result.node.key };
}

/** A v2 watch event as a change. */
function changeFrom(event: EtcdResult): StoreChange {
  const action = event.action;
  const index = event.node.modifiedIndex;
  const node = storeNode(event.node);
  if (
    action === "delete" || action === "compareAndDelete" || action === "expire"
  ) {
    return { index, type: "delete", expired: action === "expire", node };
  }
  const prev = event.prevNode === undefined
    ? undefined
    : storeNode(event.prevNode);
  // A directory's TTL update does not change the directory's own
  // modifiedIndex (a later read shows the old one); only the event has it.
  if (action === "update" && node.dir === true) {
    node.modifiedIndex = event.prevNode?.modifiedIndex ??
      event.node.createdIndex;
  }
  const change: StoreChange = { index, type: "put", expired: false, node };
  if (prev !== undefined) change.prev = prev;
  return change;
}

function storeNode(node: Value | Directory): StoreNode {
  const out: StoreNode = {
    key: node.key,
    createdIndex: node.createdIndex,
    modifiedIndex: node.modifiedIndex,
  };
  if (node.dir) out.dir = true;
  else out.value = node.value;
  const expiration = node.expiration;
  if (expiration !== undefined) out.expiration = expiration.toISOString();
  return out;
}
