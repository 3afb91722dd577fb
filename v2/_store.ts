// The store seam (_core/store.ts) over etcd's v2 API. Internal.

import type { Dispatcher, HttpResponse } from "../_http/dispatcher.ts";
import { errorKind } from "../_core/kinds.ts";
import {
  type Capabilities,
  type Change,
  type ChangeStream,
  type Committed,
  type Condition,
  type Entry,
  type FollowOptions,
  type History,
  type Lease,
  type PutOptions,
  type RemoveOptions,
  type Snapshot,
  type SnapshotOptions,
  type Store,
  type Subtree,
  Unsupported,
  type Written,
} from "../_core/store.ts";
import type { Client } from "./_client.ts";
import {
  decodeKeys,
  headerNumber,
  parseObject,
  type RequestLine,
  unexpected,
} from "./_decode.ts";
import { KeyNotFound } from "./_errors.ts";
import { keyPath, keySegments, keyString } from "./_keys.ts";
import { V2Lease } from "./_lease.ts";
import type { Directory, EtcdResult, RawNode, Value } from "./_results.ts";

const CAPABILITIES: Capabilities = {
  protocol: "v2",
  directories: true,
  ttl: true,
  hiddenUnderscore: true,
  binary: false,
  inOrderKeys: true,
  // Go's limit on a form body, which v2 writes are.
  maxRequestBytes: 10 * 1024 * 1024,
  maxTxnOps: 0,
  keysRefreshed: true,
};

/** A v2 subtree: its checked segments. */
class V2Subtree implements Subtree {
  readonly key: string;
  readonly segments: readonly string[];

  constructor(segments: readonly string[]) {
    this.segments = segments;
    this.key = keyString(segments);
  }

  keyOf(path: string): string {
    if (path === "") return this.key;
    return this.key === "/" ? `/${path}` : `${this.key}/${path}`;
  }

  /** The full key's segments of a path below the subtree. */
  full(path: string): string[] {
    return path === ""
      ? [...this.segments]
      : [...this.segments, ...keySegments(path, "path")];
  }
}

/** The store over etcd's v2 HTTP API. */
export class V2Store implements Store {
  readonly capabilities: Capabilities = CAPABILITIES;
  readonly #client: Client;
  readonly #http: Dispatcher;

  constructor(client: Client, http: Dispatcher) {
    this.#client = client;
    this.#http = http;
  }

  subtree(prefix: string | readonly string[], what = "prefix"): V2Subtree {
    return new V2Subtree(keySegments(prefix, what));
  }

  // A recursive get, decoded straight from JSON: no result objects are made
  // for what the caller turns into its own nodes at once.
  async snapshot(
    subtree: Subtree,
    options: SnapshotOptions = {},
  ): Promise<Snapshot> {
    const base = own(subtree);
    if (options.revision !== undefined) {
      throw new Unsupported(
        "v2",
        `read ${
          JSON.stringify(base.key)
        } as it was at index ${options.revision}`,
        "the v2 store keeps no past versions (use the v3 API)",
      );
    }
    try {
      const { index, root } = await this.#http.request({
        kind: "read",
        method: "GET",
        path: "/v2/keys" + keyPath(base.segments) + "?recursive=true",
        signal: options.signal,
        decode: decodeSnapshot,
      }) as unknown as { index: number; root: RawNode };
      const entries: Entry[] = [];
      flatten(root, base.key === "/" ? 1 : base.key.length + 1, entries);
      options.onRevision?.(index);
      return { index, entries };
    } catch (error) {
      if (error instanceof KeyNotFound) {
        return { index: error.index || error.etcdIndex, entries: [] };
      }
      throw error;
    }
  }

  async exists(
    subtree: Subtree,
    options: { signal?: AbortSignal } = {},
  ): Promise<boolean> {
    try {
      await this.#client.get(
        own(subtree).segments,
        options.signal ? { signal: options.signal } : {},
      );
      return true;
    } catch (error) {
      if (error instanceof KeyNotFound) return false;
      throw error;
    }
  }

  follow(
    subtree: Subtree,
    from: number | undefined,
    options: FollowOptions = {},
  ): ChangeStream {
    const base = own(subtree);
    const only = options.only;
    const watchOptions: {
      recursive: boolean;
      waitIndex?: number;
      retryFor?: number;
      onState?: NonNullable<FollowOptions["onState"]>;
    } = { recursive: only === undefined };
    if (options.onState) watchOptions.onState = options.onState;
    if (from !== undefined) watchOptions.waitIndex = from;
    if (options.retryFor !== undefined) {
      watchOptions.retryFor = options.retryFor;
    }
    const watcher = this.#client.watch(
      base.full(only ?? ""),
      watchOptions,
    );
    const cut = base.key === "/" ? 1 : base.key.length + 1;
    return {
      async *[Symbol.asyncIterator]() {
        for await (const event of watcher) yield changeFrom(event, cut);
      },
      close: () => watcher.close(),
      [Symbol.asyncDispose]: () => watcher.close(),
    };
  }

  async put(
    subtree: Subtree,
    path: string,
    value: string | Uint8Array,
    options: PutOptions = {},
  ): Promise<Written> {
    const segments = own(subtree).full(path);
    const set: {
      ttl?: number | null;
      prevIndex?: number;
      prevExist?: boolean;
      signal?: AbortSignal;
    } = conditionOf(options.condition);
    const lease = options.lease;
    if (lease !== undefined) set.ttl = leaseOf(lease).ttl;
    else if (options.ttl !== undefined) set.ttl = options.ttl;
    if (options.signal) set.signal = options.signal;
    const sent = performance.now();
    const result = await this.#client.set(segments, text(value, path), set);
    if (lease !== undefined) leaseOf(lease).attach(segments, sent);
    return written(result, subtree);
  }

  async remove(
    subtree: Subtree,
    path: string,
    options: RemoveOptions = {},
  ): Promise<Written> {
    const remove: {
      recursive?: boolean;
      dir?: boolean;
      prevIndex?: number;
      signal?: AbortSignal;
    } = {};
    if (options.dir === "recursive") remove.recursive = true;
    else if (options.dir === "empty") remove.dir = true;
    const condition = options.condition;
    if (condition !== undefined && "modifiedIndex" in condition) {
      remove.prevIndex = condition.modifiedIndex;
    }
    if (options.signal) remove.signal = options.signal;
    return written(
      await this.#client.delete(own(subtree).full(path), remove),
      subtree,
    );
  }

  async mkdir(
    subtree: Subtree,
    path: string,
    options: PutOptions = {},
  ): Promise<Written> {
    const mkdir: {
      ttl?: number | null;
      prevExist?: boolean;
      signal?: AbortSignal;
    } = {};
    const condition = options.condition;
    if (condition !== undefined) {
      if ("absent" in condition) mkdir.prevExist = false;
      else mkdir.prevExist = true;
    }
    if (options.ttl !== undefined) mkdir.ttl = options.ttl;
    if (options.signal) mkdir.signal = options.signal;
    return written(
      await this.#client.mkdir(own(subtree).full(path), mkdir),
      subtree,
    );
  }

  async createUnique(
    subtree: Subtree,
    path: string,
    value: string,
    options: PutOptions = {},
  ): Promise<Written> {
    const lease = options.lease === undefined
      ? undefined
      : leaseOf(options.lease);
    const append: { ttl?: number; signal?: AbortSignal } = {};
    const ttl = lease?.ttl ?? options.ttl;
    if (typeof ttl === "number") append.ttl = ttl;
    if (options.signal) append.signal = options.signal;
    const sent = performance.now();
    const result = await this.#client.append(
      own(subtree).full(path),
      value,
      append,
    );
    lease?.attach(keySegments(result.node.key), sent);
    return written(result, subtree);
  }

  commit(): Promise<Committed> {
    return Promise.reject(
      new Unsupported(
        "v2",
        "write several keys in one transaction",
        "etcd's v2 API has no transactions; write the keys one by one",
      ),
    );
  }

  history(subtree: Subtree, path: string): Promise<History> {
    return Promise.reject(
      new Unsupported(
        "v2",
        `read the history of ${JSON.stringify(own(subtree).keyOf(path))}`,
        "the v2 store keeps no past versions (use the v3 API)",
      ),
    );
  }

  leaseTtl(): Promise<number | undefined> {
    return Promise.reject(
      new Unsupported("v2", "ask for a lease", "v2 has no leases"),
    );
  }

  grant(ttl: number): Promise<Lease> {
    return Promise.resolve(new V2Lease(this.#client, ttl));
  }

  requestSize(
    _subtree: Subtree,
    path: string,
    value: string | Uint8Array,
  ): number {
    // The form body: "value=..." percent-encoded, and a condition.
    return "value=&prevIndex=18446744073709551615".length +
      encodeURIComponent(text(value, path).toWellFormed()).length;
  }
}

function own(subtree: Subtree): V2Subtree {
  if (!(subtree instanceof V2Subtree)) {
    throw new TypeError("Invalid subtree: not one of this v2 store");
  }
  return subtree;
}

function leaseOf(lease: Lease): V2Lease {
  if (!(lease instanceof V2Lease)) {
    throw new TypeError("Invalid lease: not one of this v2 store");
  }
  return lease;
}

/** A value as v2 can store it: text only. */
function text(value: string | Uint8Array, path: string): string {
  if (typeof value === "string") return value;
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
      value,
    );
  } catch {
    throw new Unsupported(
      "v2",
      `store the value of ${JSON.stringify(path)}`,
      "it is not UTF-8 text, and the v2 store holds text only (use the v3 API for binary values)",
    );
  }
}

/** A condition as v2 spells it. */
function conditionOf(
  condition: Condition,
): { prevIndex?: number; prevExist?: boolean } {
  if (condition === undefined) return {};
  if ("modifiedIndex" in condition) {
    return { prevIndex: condition.modifiedIndex };
  }
  return { prevExist: !("absent" in condition) };
}

function decodeSnapshot(
  response: HttpResponse,
  request: RequestLine,
): { index: number; root: RawNode } {
  const body = parseObject(request, response);
  const root = body.node as RawNode | undefined;
  if (
    response.status !== 200 || typeof body.errorCode === "number" ||
    typeof root !== "object" || root === null
  ) {
    decodeKeys(request, response); // throws etcd's error
    throw unexpected(request, response);
  }
  return { index: headerNumber(response.headers, "x-etcd-index"), root };
}

/** Appends `node` and everything below it, parents first. */
function flatten(node: RawNode, cut: number, out: Entry[]): void {
  const key = node.key ?? "/";
  const entry: Entry = {
    path: key.length < cut ? "" : key.slice(cut),
    createdIndex: node.createdIndex ?? 0,
    modifiedIndex: node.modifiedIndex ?? 0,
  };
  if (node.expiration !== undefined) {
    entry.expires = Date.parse(node.expiration);
  }
  if (node.dir === true) {
    entry.dir = true;
    out.push(entry);
    const nodes = node.nodes;
    if (nodes !== undefined) {
      for (const child of nodes) flatten(child, cut, out);
    }
  } else {
    entry.value = node.value ?? "";
    out.push(entry);
  }
}

function written(result: EtcdResult, subtree: Subtree): Written {
  const key = result.node.key;
  const base = subtree.key;
  return {
    index: result.node.modifiedIndex,
    path: key === base ? "" : key.slice(base === "/" ? 1 : base.length + 1),
  };
}

/** A v2 watch event as a change. */
function changeFrom(event: EtcdResult, cut: number): Change {
  const action = event.action;
  const index = event.node.modifiedIndex;
  const entry = entryOf(event.node, cut);
  if (
    action === "delete" || action === "compareAndDelete" || action === "expire"
  ) {
    return { index, type: "delete", expired: action === "expire", entry };
  }
  // A directory's TTL update does not change the directory's own
  // modifiedIndex (a later read shows the old one); only the event has it.
  if (action === "update" && entry.dir === true) {
    entry.modifiedIndex = event.prevNode?.modifiedIndex ??
      event.node.createdIndex;
  }
  const change: Change = { index, type: "put", expired: false, entry };
  if (event.prevNode !== undefined) change.prev = entryOf(event.prevNode, cut);
  return change;
}

function entryOf(node: Value | Directory, cut: number): Entry {
  const key = node.key;
  const entry: Entry = {
    path: key.length < cut ? "" : key.slice(cut),
    createdIndex: node.createdIndex,
    modifiedIndex: node.modifiedIndex,
  };
  if (node.dir) entry.dir = true;
  else entry.value = node.value;
  const expiration = node.expiration;
  if (expiration !== undefined) entry.expires = expiration.getTime();
  return entry;
}

/** Whether a failed refresh means the key is gone. */
export function isGone(error: unknown): boolean {
  return errorKind(error) === "not found";
}
