/**
 * Typed results of the etcd v2 key-space API.
 *
 * Every answer is an {@linkcode EtcdResult} subclass named after etcd's
 * `action`: {@linkcode Got}; the kinds of {@linkcode Set}
 * ({@linkcode Created}, {@linkcode Updated}, {@linkcode ComparedThenSwapped});
 * the kinds of {@linkcode Deleted} ({@linkcode ComparedThenDeleted},
 * {@linkcode Expired}). Its `node` is a {@linkcode Value} or a
 * {@linkcode Directory}, both {@linkcode Node}s.
 *
 * @example Usage
 * ```ts
 * import { Directory, Value, resultFrom } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * const result = resultFrom({
 *   action: "get",
 *   node: {
 *     key: "/app",
 *     dir: true,
 *     nodes: [{ key: "/app/port", value: "8080", modifiedIndex: 5, createdIndex: 5 }],
 *     modifiedIndex: 4,
 *     createdIndex: 4,
 *   },
 * });
 * assert.ok(result.node instanceof Directory);
 * const port = result.node.get("port");
 * assert.ok(port instanceof Value);
 * assert.equal(port.value, "8080");
 * ```
 *
 * @module
 */

/** A node as etcd sends it in JSON; every field may be missing. */
export interface RawNode {
  /** The full key, such as `"/a/b"`; absent on the root. */
  key?: string;
  /** The value; absent on directories and on deleted nodes. */
  value?: string;
  /** `true` for a directory. */
  dir?: boolean;
  /** The children of a directory; absent when it has none or was not listed. */
  nodes?: RawNode[];
  /** The index that created the node. */
  createdIndex?: number;
  /** The index that last changed the node. */
  modifiedIndex?: number;
  /** Seconds left to live, rounded up. */
  ttl?: number;
  /** When the node expires, in RFC 3339. */
  expiration?: string;
}

/** A key-space answer as etcd sends it in JSON. */
export interface RawResult {
  /** What happened: `get`, `set`, `create`, `update`, `compareAndSwap`, `delete`, `compareAndDelete` or `expire`. */
  action: string;
  /** The node acted on. */
  node: RawNode;
  /** The node before the change, for writes over an existing key. */
  prevNode?: RawNode;
}

/** The response headers that etcd adds to every key-space answer. */
export interface ResultHeaders {
  /** `X-Etcd-Index`: the store index when the answer was made. */
  etcdIndex?: number;
  /** `X-Raft-Index`. */
  raftIndex?: number;
  /** `X-Raft-Term`. */
  raftTerm?: number;
  /** `X-Etcd-Cluster-Id`. */
  clusterId?: string;
}

/**
 * Headers as received, looked up by name: a fetch `Headers` or anything
 * with the same `get`.
 */
export interface HeaderLookup {
  /**
   * A header's value, or `null`.
   *
   * @param name The header's name, in any case.
   */
  get(name: string): string | null;
}

function isLookup(
  headers: ResultHeaders | HeaderLookup,
): headers is HeaderLookup {
  return typeof (headers as HeaderLookup).get === "function";
}

/**
 * What every node has: its key, indices and time to live.
 *
 * @example Usage
 * ```ts
 * import { Node, nodeFrom } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * const node: Node = nodeFrom({ key: "/a/b", value: "1", createdIndex: 3, modifiedIndex: 9 });
 * assert.equal(node.name, "b");
 * assert.equal(node.dir, false);
 * ```
 */
export abstract class Node {
  /** The full key, starting with `/`; the root is `"/"`. */
  readonly key: string;
  /** The index that created the node (`0` for the root). */
  readonly createdIndex: number;
  /** The index that last changed the node (`0` for the root). */
  readonly modifiedIndex: number;
  /** Whole seconds left to live, if the node has a TTL. */
  readonly ttl: number | undefined;
  readonly #expiration: string | undefined;

  /**
   * Constructs a node from etcd's JSON.
   *
   * @param raw The node as etcd sent it.
   */
  constructor(raw: RawNode) {
    this.key = raw.key ?? "/";
    this.createdIndex = raw.createdIndex ?? 0;
    this.modifiedIndex = raw.modifiedIndex ?? 0;
    this.ttl = raw.ttl;
    this.#expiration = raw.expiration;
  }

  /** `true` for a {@linkcode Directory}. */
  abstract get dir(): boolean;

  /** The last segment of the key; `""` for the root. */
  get name(): string {
    return this.key.slice(this.key.lastIndexOf("/") + 1);
  }

  /** When the node expires, if it has a TTL. */
  get expiration(): Date | undefined {
    return this.#expiration === undefined
      ? undefined
      : new Date(this.#expiration);
  }
}

/**
 * A node that holds a string value.
 *
 * In a {@linkcode Deleted} or {@linkcode Expired} result, etcd sends the node
 * without its value; it is filled in from the result's `prevNode` so that
 * `node.value` is the value that went away.
 *
 * @example Usage
 * ```ts
 * import { Value } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * const node = new Value({ key: "/a", value: "x", createdIndex: 1, modifiedIndex: 1 });
 * assert.equal(node.value, "x");
 * ```
 */
export class Value extends Node {
  /** The value. */
  readonly value: string;

  /**
   * Constructs a value node from etcd's JSON.
   *
   * @param raw The node as etcd sent it.
   * @param value The value to use when `raw` has none.
   */
  constructor(raw: RawNode, value = "") {
    super(raw);
    this.value = raw.value ?? value;
  }

  /** Always `false`. */
  get dir(): false {
    return false;
  }
}

/**
 * A directory node. Its children are there when it was read with
 * `recursive`, or are its direct children (themselves without children) when
 * it was read without.
 *
 * @example Usage
 * ```ts
 * import { Directory, nodeFrom } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * const root = nodeFrom({
 *   dir: true,
 *   nodes: [
 *     { key: "/a", dir: true, nodes: [{ key: "/a/x", value: "1" }] },
 *     { key: "/b", value: "2" },
 *   ],
 * });
 * assert.ok(root instanceof Directory);
 * assert.deepEqual(root.children.map((node) => node.name), ["a", "b"]);
 * assert.deepEqual([...root.leaves()].map((node) => node.key), ["/a/x", "/b"]);
 * assert.equal(root.get("a/x")?.key, "/a/x");
 * ```
 */
export class Directory extends Node {
  /** The direct children, in the order etcd sent them. */
  readonly children: readonly (Value | Directory)[];
  #byName: Map<string, Value | Directory> | undefined;

  /**
   * Constructs a directory node (and its children) from etcd's JSON.
   *
   * @param raw The node as etcd sent it.
   */
  constructor(raw: RawNode) {
    super(raw);
    const nodes = raw.nodes;
    this.children = nodes === undefined ? [] : nodes.map(nodeFrom);
  }

  /** Always `true`. */
  get dir(): true {
    return true;
  }

  /**
   * Finds a node by its path relative to this directory.
   *
   * @param path Segments joined by `/`, such as `"db/port"`; `""` is this
   *   directory.
   * @returns The node, or `undefined` if it is not in this result.
   */
  get(path: string): Value | Directory | undefined {
    return this.#find(path.split("/").filter((name) => name !== ""), 0);
  }

  /**
   * Yields every value below this directory, depth first, in the order etcd
   * sent them.
   *
   * @returns An iterator of values.
   */
  *leaves(): IterableIterator<Value> {
    for (const node of this.walk()) if (node instanceof Value) yield node;
  }

  /**
   * Yields every node below this directory, depth first (a directory before
   * its children), not including this directory itself.
   *
   * @returns An iterator of nodes.
   */
  *walk(): IterableIterator<Value | Directory> {
    for (const child of this.children) {
      yield child;
      if (child instanceof Directory) yield* child.walk();
    }
  }

  /**
   * Iterates over the direct children.
   *
   * @returns An iterator of the children.
   */
  [Symbol.iterator](): IterableIterator<Value | Directory> {
    return this.children[Symbol.iterator]();
  }

  #find(names: string[], at: number): Value | Directory | undefined {
    if (at === names.length) return this;
    const child = this.#child(names[at]!);
    if (child === undefined || at + 1 === names.length) return child;
    return child instanceof Directory ? child.#find(names, at + 1) : undefined;
  }

  #child(name: string): Value | Directory | undefined {
    if (this.#byName === undefined) {
      this.#byName = new Map();
      for (const child of this.children) this.#byName.set(child.name, child);
    }
    return this.#byName.get(name);
  }
}

/**
 * Builds a {@linkcode Value} or {@linkcode Directory} from etcd's JSON.
 *
 * @param raw The node as etcd sent it.
 * @returns The typed node.
 *
 * @example Usage
 * ```ts
 * import { Directory, nodeFrom } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(nodeFrom({ key: "/d", dir: true }) instanceof Directory);
 * ```
 */
export function nodeFrom(raw: RawNode): Value | Directory {
  return raw.dir === true ? new Directory(raw) : new Value(raw);
}

/**
 * An answer of the key-space API. Use `instanceof` on the subclasses to tell
 * what happened.
 *
 * @example Usage
 * ```ts
 * import { EtcdResult, Set, resultFrom } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * const result: EtcdResult = resultFrom(
 *   { action: "set", node: { key: "/a", value: "1", createdIndex: 8, modifiedIndex: 8 } },
 *   { etcdIndex: 8, clusterId: "cdf818194e3a8c32" },
 * );
 * assert.ok(result instanceof Set);
 * assert.equal(result.etcdIndex, 8);
 * ```
 */
export class EtcdResult {
  /** etcd's name for what happened, such as `"compareAndSwap"`. */
  readonly action: string;
  /** The node acted on. */
  readonly node: Value | Directory;
  /** The node as it was before, for a write over an existing key. */
  readonly prevNode: Value | Directory | undefined;
  /** `X-Etcd-Index`: the store index when etcd answered (`0` if absent). */
  readonly etcdIndex: number;
  // The other headers are rarely read: parse them on first use.
  readonly #headers: ResultHeaders | HeaderLookup;

  /**
   * Constructs a result from etcd's JSON and headers.
   *
   * @param raw The parsed body.
   * @param headers The etcd headers of the response, parsed or as received.
   */
  constructor(raw: RawResult, headers: ResultHeaders | HeaderLookup = {}) {
    this.action = raw.action;
    const prev = raw.prevNode === undefined
      ? undefined
      : nodeFrom(raw.prevNode);
    this.prevNode = prev;
    const node = raw.node;
    this.node = node.dir === true
      ? new Directory(node)
      : new Value(node, prev instanceof Value ? prev.value : "");
    this.#headers = headers;
    this.etcdIndex = isLookup(headers)
      ? Number(headers.get("x-etcd-index") ?? 0)
      : headers.etcdIndex ?? 0;
  }

  /** `X-Raft-Index` (`0` if absent). */
  get raftIndex(): number {
    const headers = this.#headers;
    return isLookup(headers)
      ? Number(headers.get("x-raft-index") ?? 0)
      : headers.raftIndex ?? 0;
  }

  /** `X-Raft-Term` (`0` if absent). */
  get raftTerm(): number {
    const headers = this.#headers;
    return isLookup(headers)
      ? Number(headers.get("x-raft-term") ?? 0)
      : headers.raftTerm ?? 0;
  }

  /** `X-Etcd-Cluster-Id` (`""` if absent). */
  get clusterId(): string {
    const headers = this.#headers;
    return isLookup(headers)
      ? headers.get("x-etcd-cluster-id") ?? ""
      : headers.clusterId ?? "";
  }

  /**
   * The index of the change this result reports: the node's
   * `modifiedIndex`. For a {@linkcode Got} it is the node's last change, not
   * the store index at the time of the read (see `etcdIndex`).
   */
  get index(): number {
    return this.node.modifiedIndex;
  }
}

/**
 * The answer to a read (`action: "get"`).
 *
 * @example Usage
 * ```ts
 * import { Got, resultFrom } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(resultFrom({ action: "get", node: { key: "/a", value: "1" } }) instanceof Got);
 * ```
 */
export class Got extends EtcdResult {}

/**
 * A value or directory was written (`action: "set"`); the base of the other
 * kinds of write.
 *
 * @example Usage
 * ```ts
 * import { Created, Set, resultFrom } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * const result = resultFrom({ action: "create", node: { key: "/a", value: "1" } });
 * assert.ok(result instanceof Set && result instanceof Created);
 * ```
 */
export class Set extends EtcdResult {}

/**
 * A key that must not exist was created, or an in-order key was appended
 * (`action: "create"`).
 *
 * @example Usage
 * ```ts
 * import { Created, resultFrom } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(resultFrom({ action: "create", node: { key: "/q/00000000000000000012", value: "job" } }) instanceof Created);
 * ```
 */
export class Created extends Set {}

/**
 * A key that must exist was changed (`action: "update"`), including a TTL
 * refresh.
 *
 * @example Usage
 * ```ts
 * import { Updated, resultFrom } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(resultFrom({ action: "update", node: { key: "/a", value: "2" } }) instanceof Updated);
 * ```
 */
export class Updated extends Set {}

/**
 * A compare-and-swap succeeded (`action: "compareAndSwap"`).
 *
 * @example Usage
 * ```ts
 * import { ComparedThenSwapped, resultFrom } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(resultFrom({ action: "compareAndSwap", node: { key: "/a", value: "2" } }) instanceof ComparedThenSwapped);
 * ```
 */
export class ComparedThenSwapped extends Set {}

/**
 * A key or directory went away (`action: "delete"`); the base of the other
 * kinds of removal.
 *
 * @example Usage
 * ```ts
 * import { Deleted, Value, resultFrom } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * const result = resultFrom({
 *   action: "delete",
 *   node: { key: "/a", modifiedIndex: 9, createdIndex: 4 },
 *   prevNode: { key: "/a", value: "gone", modifiedIndex: 4, createdIndex: 4 },
 * });
 * assert.ok(result instanceof Deleted);
 * assert.ok(result.node instanceof Value);
 * assert.equal(result.node.value, "gone");
 * ```
 */
export class Deleted extends EtcdResult {}

/**
 * A compare-and-delete succeeded (`action: "compareAndDelete"`).
 *
 * @example Usage
 * ```ts
 * import { ComparedThenDeleted, resultFrom } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(resultFrom({ action: "compareAndDelete", node: { key: "/a" } }) instanceof ComparedThenDeleted);
 * ```
 */
export class ComparedThenDeleted extends Deleted {}

/**
 * A key or directory reached the end of its TTL (`action: "expire"`); only
 * seen by watchers.
 *
 * @example Usage
 * ```ts
 * import { Expired, resultFrom } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(resultFrom({ action: "expire", node: { key: "/a" } }) instanceof Expired);
 * ```
 */
export class Expired extends Deleted {}

const RESULT_CLASSES: ReadonlyMap<string, typeof EtcdResult> = new Map<
  string,
  typeof EtcdResult
>([
  ["get", Got],
  ["set", Set],
  ["create", Created],
  ["update", Updated],
  ["compareAndSwap", ComparedThenSwapped],
  ["delete", Deleted],
  ["compareAndDelete", ComparedThenDeleted],
  ["expire", Expired],
]);

/**
 * Builds the result class for `raw.action` from etcd's JSON; an action this
 * library does not know gives the base {@linkcode EtcdResult}.
 *
 * @param raw The parsed body.
 * @param headers The etcd headers of the response, parsed or as received.
 * @returns The typed result.
 *
 * @example Usage
 * ```ts
 * import { Expired, resultFrom } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(resultFrom({ action: "expire", node: { key: "/lease" } }) instanceof Expired);
 * ```
 */
export function resultFrom(
  raw: RawResult,
  headers: ResultHeaders | HeaderLookup = {},
): EtcdResult {
  const Class = RESULT_CLASSES.get(raw.action) ?? EtcdResult;
  return new Class(raw, headers);
}
