/**
 * A live, typed mirror of an etcd subtree that writes back safely.
 *
 * {@linkcode EtcdTree.open} reads a subtree once and then follows its
 * changes, so that reads are plain lookups in memory. Writes go to etcd with
 * compare-and-swap against the version the mirror holds, and resolve once
 * the mirror shows them: after `await tree.set("a", 1)`, `tree.get("a")` is
 * `1`.
 *
 * @example Usage
 * ```ts ignore
 * import { Client, codecs, EtcdTree } from "@etcd-tree/etcd-tree";
 *
 * await using client = new Client();
 * await using tree = await EtcdTree.open(client, "app", {
 *   codecs: { "db/port": codecs.integer },
 * });
 * await tree.set("db/port", 5432);
 * console.log(tree.get("db/port") === 5432, tree.toObject());
 * for await (const change of tree.changes()) {
 *   console.log(change.kind, change.path, change.newValue);
 * }
 * ```
 *
 * @module
 */

import type { Client } from "./client.ts";
import { type Codec, CodecRegistry, codecs } from "./codec.ts";
import {
  CompareFailed,
  type EtcdError,
  EventIndexCleared,
  KeyNotFound,
  NodeExists,
} from "./errors.ts";
import { type Key, keySegments, keyString } from "./_keys.ts";
import { backoff, pause, retryable } from "./_retry.ts";
import {
  type ChangeStream,
  type Store,
  type StoreChange,
  type StoreNode,
  storeOf,
  type WriteOptions,
} from "./_store.ts";

const STRING: Codec<unknown> = codecs.string;

// Module-internal access to the nodes' private state: the tree changes
// nodes in place, users only read them.
let touch: (
  node: TreeNode,
  modifiedIndex: number,
  expires: number | undefined,
) => void;
let childrenOf: (dir: TreeDirectory) => Map<string, TreeValue | TreeDirectory>;

/**
 * What every node of a tree has: its name, place, indices and TTL.
 *
 * @example Usage
 * ```ts ignore
 * import type { TreeNode } from "@etcd-tree/etcd-tree";
 *
 * function describe(node: TreeNode): string {
 *   return `${node.path} (created at ${node.createdIndex})`;
 * }
 * ```
 */
export abstract class TreeNode {
  /** The last segment of the node's path; `""` for the tree's root. */
  readonly name: string;
  /** The index that created the node. */
  readonly createdIndex: number;
  readonly #parent: TreeDirectory | undefined;
  #modifiedIndex: number;
  #expires: number | undefined;

  static {
    touch = (node, modifiedIndex, expires) => {
      node.#modifiedIndex = modifiedIndex;
      node.#expires = expires;
    };
  }

  /**
   * Constructs a node. Trees make their nodes; there is no use in making
   * one yourself.
   *
   * @param name The last segment of its path.
   * @param parent The directory holding it.
   * @param createdIndex The index that created it.
   * @param modifiedIndex The index that last changed it.
   * @param expires When it expires (milliseconds since the epoch).
   */
  constructor(
    name: string,
    parent: TreeDirectory | undefined,
    createdIndex: number,
    modifiedIndex: number,
    expires: number | undefined,
  ) {
    this.name = name;
    this.#parent = parent;
    this.createdIndex = createdIndex;
    this.#modifiedIndex = modifiedIndex;
    this.#expires = expires;
  }

  /** `true` for a {@linkcode TreeDirectory}. */
  abstract get dir(): boolean;

  /** The directory holding the node; `undefined` for the root. */
  get parent(): TreeDirectory | undefined {
    return this.#parent;
  }

  /** The path from the tree's root, such as `"db/port"`; `""` for the root. */
  get path(): string {
    // The root's name is not part of any path.
    let path = this.name;
    let dir = this.#parent;
    while (dir !== undefined) {
      const above: TreeDirectory | undefined = dir.#parent;
      if (above === undefined) break;
      path = dir.name + "/" + path;
      dir = above;
    }
    return path;
  }

  /** The index that last changed the node itself (not its children). */
  get modifiedIndex(): number {
    return this.#modifiedIndex;
  }

  /** When the node expires, if it has a TTL. */
  get expiration(): Date | undefined {
    return this.#expires === undefined ? undefined : new Date(this.#expires);
  }

  /** Whole seconds left to live, if the node has a TTL. */
  get ttl(): number | undefined {
    if (this.#expires === undefined) return undefined;
    return Math.max(0, Math.ceil((this.#expires - Date.now()) / 1000));
  }
}

/**
 * A value in a tree: the stored string and what its codec made of it.
 * Values are never changed: a change of the key brings a new `TreeValue`.
 *
 * @typeParam T The type its codec decodes to.
 *
 * @example Usage
 * ```ts ignore
 * import { TreeValue } from "@etcd-tree/etcd-tree";
 *
 * const node = tree.node("db/port");
 * if (node instanceof TreeValue) {
 *   if (node.error) console.warn(`bad ${node.path}: ${node.raw}`, node.error);
 *   else console.log(node.value);
 * }
 * ```
 */
export class TreeValue<T = unknown> extends TreeNode {
  /** The string etcd stores. */
  readonly raw: string;
  /** The decoded value; `undefined` when decoding failed (see `error`). */
  readonly value: T | undefined;
  /** Why the stored string did not decode, if it did not. */
  readonly error: Error | undefined;

  /**
   * Constructs a value, decoding it. Decoding errors are kept, not thrown.
   *
   * @param name The last segment of its path.
   * @param parent The directory holding it.
   * @param raw The stored string.
   * @param createdIndex The index that created it.
   * @param modifiedIndex The index that last changed it.
   * @param expires When it expires (milliseconds since the epoch).
   * @param codec How to decode `raw`.
   */
  constructor(
    name: string,
    parent: TreeDirectory | undefined,
    raw: string,
    createdIndex: number,
    modifiedIndex: number,
    expires: number | undefined,
    codec: Codec<T>,
  ) {
    super(name, parent, createdIndex, modifiedIndex, expires);
    this.raw = raw;
    let value: T | undefined;
    let error: Error | undefined;
    try {
      value = codec.decode(raw);
    } catch (failure) {
      error = failure instanceof Error ? failure : new Error(String(failure));
    }
    this.value = value;
    this.error = error;
  }

  /** Always `false`. */
  get dir(): false {
    return false;
  }
}

/**
 * A directory in a tree. Its children change as the mirror follows etcd;
 * the object stays the same as long as the directory exists.
 *
 * @example Usage
 * ```ts ignore
 * const services = tree.node("services");
 * if (services instanceof TreeDirectory) {
 *   for (const child of services) console.log(child.name, child.dir);
 * }
 * ```
 */
export class TreeDirectory extends TreeNode {
  readonly #children = new Map<string, TreeValue | TreeDirectory>();

  static {
    childrenOf = (dir) => dir.#children;
  }

  /** Always `true`. */
  get dir(): true {
    return true;
  }

  /** How many children the directory has. */
  get size(): number {
    return this.#children.size;
  }

  /**
   * The node at a path below this directory.
   *
   * @param path Segments joined by `/`, or the segments; `""` is this
   *   directory.
   * @returns The node, or `undefined` if there is none.
   */
  node(path: Key): TreeValue | TreeDirectory | undefined {
    const segments = typeof path === "string" ? splitPath(path) : path;
    if (segments.length === 0) return this;
    let children = this.#children;
    for (let at = 0;; at++) {
      const child = children.get(segments[at]!);
      if (child === undefined || at === segments.length - 1) return child;
      if (!(child instanceof TreeDirectory)) return undefined;
      children = child.#children;
    }
  }

  /**
   * The decoded value at a path below this directory.
   *
   * @typeParam T The type the path's codec decodes to.
   * @param path Segments joined by `/`, or the segments.
   * @returns The value, or `undefined` if there is no value there (or it
   *   did not decode).
   */
  get<T = unknown>(path: Key): T | undefined {
    const node = this.node(path);
    return node instanceof TreeValue ? node.value as T : undefined;
  }

  /**
   * The names of the children, in the order they came.
   *
   * @returns An iterator of names.
   */
  names(): IterableIterator<string> {
    return this.#children.keys();
  }

  /**
   * Every node below this directory, depth first, a directory before its
   * children.
   *
   * @returns An iterator of nodes.
   */
  *walk(): IterableIterator<TreeValue | TreeDirectory> {
    for (const child of this.#children.values()) {
      yield child;
      if (child instanceof TreeDirectory) yield* child.walk();
    }
  }

  /**
   * The directory as a plain object: directories become objects, values
   * their decoded values (`undefined` where decoding failed).
   *
   * @returns A new object.
   */
  toObject(): Record<string, unknown> {
    const object: Record<string, unknown> = {};
    for (const [name, child] of this.#children) {
      const value = child instanceof TreeDirectory
        ? child.toObject()
        : child.value;
      if (name === "__proto__") {
        Object.defineProperty(object, name, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        object[name] = value;
      }
    }
    return object;
  }

  /**
   * Iterates over the direct children.
   *
   * @returns An iterator of the children.
   */
  [Symbol.iterator](): IterableIterator<TreeValue | TreeDirectory> {
    return this.#children.values();
  }
}

/** One change of the mirror. */
export interface TreeChange {
  /** What happened to the node at `path`. */
  readonly kind: "added" | "updated" | "deleted";
  /** The node's path from the tree's root; `""` is the root itself. */
  readonly path: string;
  /** The etcd index of the change (of the re-read, after a resync). */
  readonly index: number;
  /** The node as it is now; for `deleted`, as it was. */
  readonly node: TreeValue | TreeDirectory;
  /** For an updated value, the value node it replaced. */
  readonly previous: TreeValue | undefined;
  /** The decoded value before (values only). */
  readonly oldValue: unknown;
  /** The decoded value after (values only). */
  readonly newValue: unknown;
  /** For `deleted`: the node (or a directory above it) expired. */
  readonly expired: boolean;
}

/**
 * The `change` event: one change of the mirror, as it is applied.
 *
 * @example Usage
 * ```ts ignore
 * tree.addEventListener("change", (event) => console.log(event.change.path));
 * ```
 */
export class TreeChangeEvent extends Event {
  /** The change. */
  readonly change: TreeChange;

  /**
   * Constructs the event.
   *
   * @param change The change.
   */
  constructor(change: TreeChange) {
    super("change");
    this.change = change;
  }
}

/**
 * The `settled` event: a burst of changes is over. Sent once changes have
 * stopped for `settleDelay` milliseconds, or at the latest `settleMaxDelay`
 * after the first change of the burst. A path appears once, by its net
 * change over the burst (added then deleted: not at all).
 *
 * @example Usage
 * ```ts ignore
 * tree.addEventListener("settled", (event) => {
 *   console.log("reload:", event.added, event.updated, event.deleted);
 * });
 * ```
 */
export class TreeSettledEvent extends Event {
  /** Paths that did not exist before the burst and do now. */
  readonly added: readonly string[];
  /** Paths that existed before and after, and changed. */
  readonly updated: readonly string[];
  /** Paths that existed before the burst and do not now. */
  readonly deleted: readonly string[];
  /** The tree's index when the burst ended. */
  readonly index: number;

  /**
   * Constructs the event.
   *
   * @param added Added paths.
   * @param updated Updated paths.
   * @param deleted Deleted paths.
   * @param index The tree's index.
   */
  constructor(
    added: readonly string[],
    updated: readonly string[],
    deleted: readonly string[],
    index: number,
  ) {
    super("settled");
    this.added = added;
    this.updated = updated;
    this.deleted = deleted;
    this.index = index;
  }
}

/**
 * Where a tree stands with etcd: `live` (following), `reconnecting` (etcd
 * cannot be reached; retrying), `resyncing` (re-reading after history was
 * lost), `out of sync` (gave up: see {@linkcode OutOfSync}) or `closed`.
 */
export type TreeState =
  | "live"
  | "reconnecting"
  | "resyncing"
  | "out of sync"
  | "closed";

/**
 * The `state` event: the tree's connection state changed.
 *
 * @example Usage
 * ```ts ignore
 * tree.addEventListener("state", (event) => console.log(event.state, event.error));
 * ```
 */
export class TreeStateEvent extends Event {
  /** The new state. */
  readonly state: TreeState;
  /** What caused it, for `reconnecting` and `out of sync`. */
  readonly error: unknown;

  /**
   * Constructs the event.
   *
   * @param state The new state.
   * @param error What caused it.
   */
  constructor(state: TreeState, error?: unknown) {
    super("state");
    this.state = state;
    this.error = error;
  }
}

/** The events an {@linkcode EtcdTree} sends. */
export interface EtcdTreeEventMap {
  /** The connection state changed (see {@linkcode EtcdTree.state}). */
  state: TreeStateEvent;
  /** One change, as it is applied. */
  change: TreeChangeEvent;
  /** A burst of changes is over. */
  settled: TreeSettledEvent;
  /** History was lost: the tree re-read the subtree (changes follow). */
  resync: Event;
  /** The tree can no longer stay in sync (`error` is an {@linkcode OutOfSync}). */
  error: ErrorEvent;
}

/**
 * A write was refused because the key changed since the version the mirror
 * held (etcd's compare error is the `cause`). The mirror shows the change by
 * the time this is thrown; `current` is the node there now.
 *
 * @example Usage
 * ```ts ignore
 * import { WriteConflict } from "@etcd-tree/etcd-tree";
 *
 * try {
 *   await tree.set("leader", "me");
 * } catch (error) {
 *   if (!(error instanceof WriteConflict)) throw error;
 *   console.log("lost to", error.currentValue);
 * }
 * ```
 */
export class WriteConflict extends Error {
  /** The path written. */
  readonly path: string;
  /** The node at the path now, as the mirror shows it. */
  readonly current: TreeValue | TreeDirectory | undefined;
  /** etcd's answer: `CompareFailed`, `NodeExists` or `KeyNotFound`. */
  override readonly cause: EtcdError;

  /**
   * Constructs the error.
   *
   * @param path The path written.
   * @param current The node there now.
   * @param cause etcd's compare error.
   */
  constructor(
    path: string,
    current: TreeValue | TreeDirectory | undefined,
    cause: EtcdError,
  ) {
    const now = current === undefined
      ? "it is gone"
      : `it is now a ${
        current.dir ? "directory" : "value"
      } of index ${current.modifiedIndex}`;
    super(
      `Cannot write ${JSON.stringify(path)}: it changed elsewhere, ${now} ` +
        `(etcd error ${cause.errorCode}: ${cause.etcdMessage})`,
      { cause },
    );
    this.name = "WriteConflict";
    this.path = path;
    this.current = current;
    this.cause = cause;
  }

  /** The decoded value at the path now; `undefined` for none. */
  get currentValue(): unknown {
    return this.current instanceof TreeValue ? this.current.value : undefined;
  }
}

/**
 * The tree could not stay in sync with etcd (it could not reach etcd for
 * longer than `retryFor`, or etcd refused the watch): it stopped, and its
 * pending and later writes reject with this error. The reason is the
 * `cause`.
 *
 * @example Usage
 * ```ts ignore
 * tree.addEventListener("error", (event) => console.error(event.error));
 * ```
 */
export class OutOfSync extends Error {
  /**
   * Constructs the error.
   *
   * @param prefix The tree's key.
   * @param cause Why.
   */
  constructor(prefix: string, cause: unknown) {
    super(
      `Cannot keep the tree ${JSON.stringify(prefix)} in sync: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { cause },
    );
    this.name = "OutOfSync";
  }
}

/**
 * The tree was closed: writes and waits on it reject with this error.
 *
 * @example Usage
 * ```ts ignore
 * import { TreeClosed } from "@etcd-tree/etcd-tree";
 *
 * await tree.close();
 * await tree.set("a", "1").catch((error) => console.log(error instanceof TreeClosed));
 * ```
 */
export class TreeClosed extends Error {
  /**
   * Constructs the error.
   *
   * @param prefix The tree's key.
   */
  constructor(prefix: string) {
    super(`Cannot use the tree ${JSON.stringify(prefix)}: it is closed`);
    this.name = "TreeClosed";
  }
}

/** Options of {@linkcode EtcdTree.open}. */
export interface TreeOptions {
  /**
   * Codecs by path pattern (`*` one segment, `**` any number); the first
   * matching pattern wins, and values no pattern matches are strings.
   */
  codecs?: Readonly<Record<string, Codec<unknown>>> | CodecRegistry;
  /**
   * How long the tree keeps trying to reach etcd, in milliseconds, before
   * it gives up with {@linkcode OutOfSync}. Default: 60 000. `Infinity`:
   * never.
   */
  retryFor?: number;
  /** Quiet time that ends a burst of changes (`settled`), in ms. Default: 50. */
  settleDelay?: number;
  /** Longest time from a burst's first change to `settled`, in ms. Default: 1000. */
  settleMaxDelay?: number;
  /** Aborts the opening and, later, closes the tree. */
  signal?: AbortSignal;
}

/** Options of the write methods. */
export interface TreeWriteOptions {
  /** Aborts the wait (the write itself may still happen). */
  signal?: AbortSignal;
}

/** Options of {@linkcode EtcdTree.set}. */
export interface TreeSetOptions extends TreeWriteOptions {
  /**
   * Seconds to live. Without it the key has no TTL afterwards (as etcd
   * does for every write).
   */
  ttl?: number;
  /** Write whatever the key holds now: no compare-and-swap. */
  force?: boolean;
}

/** Options of {@linkcode EtcdTree.delete}. */
export interface TreeDeleteOptions extends TreeWriteOptions {
  /** Delete a directory with everything in it (else it must be empty). */
  recursive?: boolean;
  /** Delete a value whatever it holds now: no compare-and-delete. */
  force?: boolean;
}

/** Options of {@linkcode EtcdTree.mkdir} and {@linkcode EtcdTree.append}. */
export interface TreeCreateOptions extends TreeWriteOptions {
  /** Seconds to live. */
  ttl?: number;
}

interface Waiter {
  readonly index: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

interface PathWaiter {
  readonly check: () => void;
  readonly reject: (error: unknown) => void;
}

interface Subscriber {
  readonly queue: TreeChange[];
  wake: (() => void) | undefined;
  end: { error: unknown } | undefined;
}

type Kind = TreeChange["kind"];

/**
 * A live mirror of an etcd subtree.
 *
 * Open one with {@linkcode EtcdTree.open}. Reads (`get`, `node`,
 * `toObject`, iteration) are lookups in memory. The mirror is never changed
 * locally: each write goes to etcd and resolves once its change is applied
 * here, so a write is visible as soon as it resolves. Values and
 * directories keep etcd's `createdIndex`, `modifiedIndex` and expiration.
 *
 * It stays true to etcd: changes apply in index order; when etcd's history
 * no longer has what the tree needs, it re-reads the subtree and reports the
 * differences as ordinary changes; when etcd cannot be reached for longer
 * than `retryFor`, it stops with {@linkcode OutOfSync} rather than go stale
 * quietly.
 *
 * Keys whose path has a segment starting with `_` are hidden by etcd from
 * listings and watches, so the tree neither mirrors nor writes them.
 *
 * @example Usage
 * ```ts ignore
 * import { Client, codecs, EtcdTree, WriteConflict } from "@etcd-tree/etcd-tree";
 *
 * await using client = new Client();
 * await using tree = await EtcdTree.open(client, "app", {
 *   codecs: { "replicas": codecs.integer },
 * });
 * try {
 *   await tree.set("replicas", (tree.get<number>("replicas") ?? 0) + 1);
 * } catch (error) {
 *   if (!(error instanceof WriteConflict)) throw error;
 *   // Someone else changed it first: error.currentValue is theirs.
 * }
 * ```
 */
export class EtcdTree extends EventTarget implements AsyncDisposable {
  /** The subtree's key, such as `"/app"`. */
  readonly prefix: string;
  readonly #store: Store;
  readonly #segments: readonly string[];
  readonly #registry: CodecRegistry;
  readonly #retryFor: number;
  readonly #settleDelay: number;
  readonly #settleMaxDelay: number;
  readonly #signal: AbortSignal | undefined;
  #root: TreeValue | TreeDirectory | undefined;
  #index = 0;
  #stream: ChangeStream | undefined;
  #running: Promise<void> = Promise.resolve();
  #closed = false;
  #failure: OutOfSync | undefined;
  #resyncs = 0;
  #state: TreeState = "live";
  /** Writes waiting for their index, by index. */
  readonly #waiters: Waiter[] = [];
  /** Conflicted writes waiting for the mirror to show the change, by path. */
  readonly #pathWaiters = new Map<string, Set<PathWaiter>>();
  readonly #subscribers = new Set<Subscriber>();
  readonly #sleeps = new Set<() => void>();
  /** The burst in progress: per path, its first and last kind. */
  #burst: Map<string, { first: Kind; last: Kind }> | undefined;
  #burstStart = 0;
  #lastChange = 0;
  #settleTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #onAbort = () => void this.close();

  private constructor(
    store: Store,
    segments: readonly string[],
    options: TreeOptions,
  ) {
    super();
    this.#store = store;
    this.#segments = segments;
    this.prefix = keyString(segments);
    const given = options.codecs;
    this.#registry = given instanceof CodecRegistry
      ? given
      : new CodecRegistry(given);
    this.#retryFor = checkMs(options.retryFor ?? 60_000, "retryFor");
    this.#settleDelay = checkMs(options.settleDelay ?? 50, "settleDelay");
    this.#settleMaxDelay = checkMs(
      options.settleMaxDelay ?? 1000,
      "settleMaxDelay",
    );
    this.#signal = options.signal;
  }

  /**
   * Reads a subtree and starts following it.
   *
   * @param client The client to read, watch and write with.
   * @param prefix The subtree's key; `"/"` for everything. It need not
   *   exist yet.
   * @param options Codecs, the retry budget, the `settled` delays and a
   *   signal.
   * @returns The tree, in sync with etcd as of the read.
   * @throws {TypeError} When the key or a codec pattern is not valid.
   *
   * @example Usage
   * ```ts ignore
   * import { Client, EtcdTree } from "@etcd-tree/etcd-tree";
   *
   * await using client = new Client();
   * await using tree = await EtcdTree.open(client, "app");
   * console.log(tree.toObject());
   * ```
   */
  static async open(
    client: Client,
    prefix: Key,
    options: TreeOptions = {},
  ): Promise<EtcdTree> {
    const tree = new EtcdTree(
      storeOf(client),
      keySegments(prefix, "prefix"),
      options,
    );
    await tree.#load();
    return tree;
  }

  /** The index the mirror shows: every change up to it is applied. */
  get index(): number {
    return this.#index;
  }

  /** The subtree's top node; `undefined` while the key does not exist. */
  get root(): TreeValue | TreeDirectory | undefined {
    return this.#root;
  }

  /** Where the tree stands with etcd; a `state` event tells each change. */
  get state(): TreeState {
    return this.#state;
  }

  /** How many times the tree re-read the subtree after losing history. */
  get resyncs(): number {
    return this.#resyncs;
  }

  /**
   * The node at a path.
   *
   * @param path Segments joined by `/`, or the segments; `""` is the root.
   * @returns The node, or `undefined` if there is none.
   *
   * @example Usage
   * ```ts ignore
   * const db = tree.node("db");
   * console.log(db?.dir, db?.modifiedIndex);
   * ```
   */
  node(path: Key): TreeValue | TreeDirectory | undefined {
    const root = this.#root;
    if (root === undefined) return undefined;
    const segments = typeof path === "string" ? splitPath(path) : path;
    if (segments.length === 0) return root;
    return root instanceof TreeDirectory ? root.node(segments) : undefined;
  }

  /**
   * The decoded value at a path.
   *
   * @typeParam T The type the path's codec decodes to.
   * @param path Segments joined by `/`, or the segments.
   * @returns The value, or `undefined` if there is no value there (or it
   *   did not decode: see {@linkcode TreeValue.error}).
   *
   * @example Usage
   * ```ts ignore
   * const port = tree.get<number>("db/port") ?? 5432;
   * ```
   */
  get<T = unknown>(path: Key): T | undefined {
    const node = this.node(path);
    return node instanceof TreeValue ? node.value as T : undefined;
  }

  /**
   * The mirror as a plain object (`{}` when the root is not a directory).
   *
   * @returns A new object of decoded values.
   *
   * @example Usage
   * ```ts ignore
   * console.log(JSON.stringify(tree.toObject()));
   * ```
   */
  toObject(): Record<string, unknown> {
    const root = this.#root;
    return root instanceof TreeDirectory ? root.toObject() : {};
  }

  /**
   * Iterates over the root's children.
   *
   * @returns An iterator of nodes.
   */
  [Symbol.iterator](): IterableIterator<TreeValue | TreeDirectory> {
    const root = this.#root;
    return root instanceof TreeDirectory
      ? root[Symbol.iterator]()
      : [][Symbol.iterator]();
  }

  /**
   * Writes a value: a key the mirror holds with compare-and-swap against the
   * version it holds, a new key only if it still does not exist. Resolves
   * once the mirror shows the write.
   *
   * @param path The path below the root.
   * @param value The value; its codec turns it into a string.
   * @param options `ttl`, `force` (no compare) and a signal.
   * @returns The write's index.
   * @throws {WriteConflict} When the key changed elsewhere first.
   * @throws {TypeError} When the path is not valid or the codec refuses the
   *   value (nothing is written).
   *
   * @example Usage
   * ```ts ignore
   * await tree.set("db/host", "10.0.0.2");
   * await tree.set("session", "x", { ttl: 30 });
   * ```
   */
  async set(
    path: Key,
    value: unknown,
    options: TreeSetOptions = {},
  ): Promise<number> {
    const segments = this.#writable(path);
    const raw = this.#encode(segments, value);
    return await this.#put(segments, raw, options.force === true, options);
  }

  /**
   * Writes a nested object: each value at its path (with the same
   * compare-and-swap as {@linkcode EtcdTree.set}), each empty object as a
   * directory. Every value is encoded before anything is sent, so bad input
   * writes nothing; the writes then go out together (etcd v2 has no
   * transactions: if one fails, the others may have happened). A path whose
   * codec is registered takes the object as one value (a `json` codec, for
   * example).
   *
   * @param path Where the object goes; `""` is the root.
   * @param object The values.
   * @param options A signal.
   * @returns The highest index written.
   * @throws {WriteConflict} When a key changed elsewhere first.
   * @throws {AggregateError} When several writes failed.
   *
   * @example Usage
   * ```ts ignore
   * await tree.update("db", { host: "10.0.0.2", replicas: {} });
   * ```
   */
  async update(
    path: Key,
    object: Record<string, unknown>,
    options: TreeWriteOptions = {},
  ): Promise<number> {
    const base = this.#writable(path, true);
    const values: [string[], string][] = [];
    const dirs: string[][] = [];
    const visit = (segments: string[], value: unknown, top: boolean) => {
      const codec = this.#registry.lookup(segments);
      if ((codec === undefined || top) && isPlainObject(value)) {
        const entries = Object.entries(value);
        if (entries.length === 0) dirs.push(segments);
        for (const [name, child] of entries) {
          const below = [...segments, name];
          this.#check(below);
          visit(below, child, false);
        }
      } else {
        values.push([segments, this.#encode(segments, value)]);
      }
    };
    if (!isPlainObject(object)) {
      throw new TypeError(
        `Invalid object for ${
          JSON.stringify(base.join("/"))
        }: expected a plain object`,
      );
    }
    visit(base, object, true);
    const writes = [
      ...values.map(([segments, raw]) =>
        this.#put(segments, raw, false, options)
      ),
      ...dirs.filter((segments) => this.node(segments) === undefined)
        .map((segments) => this.#mkdir(segments, {}, options)),
    ];
    const settled = await Promise.allSettled(writes);
    const errors = settled.flatMap((outcome) =>
      outcome.status === "rejected" ? [outcome.reason] : []
    );
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      throw new AggregateError(
        errors,
        `Cannot update ${
          JSON.stringify(base.join("/"))
        }: ${errors.length} of ${writes.length} writes failed`,
      );
    }
    let index = this.#index;
    for (const outcome of settled) {
      if (outcome.status === "fulfilled") {
        index = Math.max(index, outcome.value);
      }
    }
    return index;
  }

  /**
   * Deletes a value (with compare-and-delete against the version the mirror
   * holds) or a directory.
   *
   * @param path The path below the root; `""` deletes the root itself.
   * @param options `recursive` for a directory that is not empty, `force`
   *   (no compare), and a signal.
   * @returns The delete's index.
   * @throws {WriteConflict} When the value changed elsewhere first.
   * @throws {KeyNotFound} When there is nothing at the path.
   * @throws {DirectoryNotEmpty} When a directory is not empty and
   *   `recursive` is not set.
   *
   * @example Usage
   * ```ts ignore
   * await tree.delete("sessions", { recursive: true });
   * ```
   */
  async delete(path: Key, options: TreeDeleteOptions = {}): Promise<number> {
    const segments = this.#writable(path, true);
    const base = this.node(segments);
    const remove: {
      recursive?: boolean;
      dir?: boolean;
      prevIndex?: number;
      signal?: AbortSignal;
    } = {};
    if (base instanceof TreeDirectory || base === undefined) {
      if (options.recursive) remove.recursive = true;
      else if (base !== undefined) remove.dir = true;
    } else if (!options.force) {
      remove.prevIndex = base.modifiedIndex;
    }
    if (options.signal) remove.signal = options.signal;
    return await this.#write(
      segments,
      base,
      () => this.#store.delete(this.#full(segments), remove),
      options,
    );
  }

  /**
   * Creates a directory.
   *
   * @param path The path below the root.
   * @param options `ttl` and a signal.
   * @returns The write's index.
   * @throws {WriteConflict} When the key was created elsewhere first.
   * @throws {NodeExists} When the mirror already has the key.
   *
   * @example Usage
   * ```ts ignore
   * await tree.mkdir("locks", { ttl: 60 });
   * ```
   */
  async mkdir(path: Key, options: TreeCreateOptions = {}): Promise<number> {
    const segments = this.#writable(path);
    const write: WriteOptions = {};
    if (options.ttl !== undefined) write.ttl = options.ttl;
    return await this.#mkdir(segments, write, options);
  }

  /**
   * Adds a value with a new name that sorts after every name etcd gave
   * before in that directory (an in-order key, for queues).
   *
   * @param path The directory below the root.
   * @param value The value; the codec of `path/*` turns it into a string.
   * @param options `ttl` and a signal.
   * @returns The new value's path.
   *
   * @example Usage
   * ```ts ignore
   * const job = await tree.append("jobs", "resize image 7");
   * console.log(tree.get(job));
   * ```
   */
  async append(
    path: Key,
    value: unknown,
    options: TreeCreateOptions = {},
  ): Promise<string> {
    const segments = this.#writable(path, true);
    const raw = this.#encode([...segments, "*"], value);
    const write: WriteOptions = {};
    if (options.ttl !== undefined) write.ttl = options.ttl;
    if (options.signal) write.signal = options.signal;
    const written = await this.#store.append(
      this.#full(segments),
      raw,
      write,
    );
    await this.#applied(written.index, options.signal);
    const name = written.key.slice(written.key.lastIndexOf("/") + 1);
    return [...segments, name].join("/");
  }

  /**
   * Sets or clears the TTL of a value (compare-and-swap, like `set`) or a
   * directory, keeping its content.
   *
   * @param path The path below the root.
   * @param ttl Seconds to live, or `null` to make it permanent.
   * @param options A signal.
   * @returns The write's index.
   * @throws {KeyNotFound} When the mirror has nothing at the path.
   *
   * @example Usage
   * ```ts ignore
   * await tree.setTtl("sessions/alice", 30);
   * await tree.setTtl("sessions/alice", null);
   * ```
   */
  async setTtl(
    path: Key,
    ttl: number | null,
    options: TreeWriteOptions = {},
  ): Promise<number> {
    const segments = this.#writable(path);
    const base = this.node(segments);
    const write: WriteOptions = { ttl };
    if (options.signal) write.signal = options.signal;
    if (base instanceof TreeValue) {
      write.prevIndex = base.modifiedIndex;
      return await this.#write(
        segments,
        base,
        () => this.#store.put(this.#full(segments), base.raw, write),
        options,
      );
    }
    write.prevExist = true;
    return await this.#write(
      segments,
      base,
      () => this.#store.mkdir(this.#full(segments), write),
      options,
    );
  }

  /**
   * Waits until the mirror shows index `index` (or a later one).
   *
   * @param index An etcd index, such as a write's.
   * @param options A signal.
   *
   * @example Usage
   * ```ts ignore
   * const { node } = await client.set("app/x", "1");
   * await tree.synced(node.modifiedIndex);
   * ```
   */
  async synced(index: number, options: TreeWriteOptions = {}): Promise<void> {
    await this.#applied(index, options.signal);
  }

  /**
   * The mirror's changes from now on, as an async iterator. Each call makes
   * a new, independent iterator; changes wait in it until taken. It ends
   * when the tree closes and rejects with {@linkcode OutOfSync} if the tree
   * stops.
   *
   * @param options A signal that ends the iteration (rejecting with its
   *   reason).
   * @returns The iterator.
   *
   * @example Usage
   * ```ts ignore
   * for await (const { kind, path, newValue } of tree.changes()) {
   *   console.log(kind, path, newValue);
   * }
   * ```
   */
  changes(
    options: { signal?: AbortSignal } = {},
  ): AsyncIterableIterator<TreeChange> {
    const subscriber: Subscriber = {
      queue: [],
      wake: undefined,
      end: this.#failure ? { error: this.#failure } : undefined,
    };
    if (!this.#closed) this.#subscribers.add(subscriber);
    const signal = options.signal;
    const stop = () => {
      this.#subscribers.delete(subscriber);
      subscriber.end ??= { error: signal?.reason };
      subscriber.wake?.();
    };
    signal?.addEventListener("abort", stop, { once: true });
    let head = 0;
    const iterator: AsyncIterableIterator<TreeChange> = {
      next: async () => {
        for (;;) {
          if (head < subscriber.queue.length) {
            const value = subscriber.queue[head++]!;
            if (head === subscriber.queue.length) {
              subscriber.queue.length = 0;
              head = 0;
            }
            return { done: false, value };
          }
          const end = subscriber.end;
          if (end !== undefined || this.#closed) {
            signal?.removeEventListener("abort", stop);
            if (end?.error !== undefined) throw end.error;
            return { done: true, value: undefined };
          }
          await new Promise<void>((resolve) => subscriber.wake = resolve);
          subscriber.wake = undefined;
        }
      },
      return: () => {
        this.#subscribers.delete(subscriber);
        signal?.removeEventListener("abort", stop);
        subscriber.end ??= { error: undefined };
        return Promise.resolve({ done: true, value: undefined });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /**
   * Adds a listener for one of the tree's events: `change`, `settled`,
   * `resync` or `error`.
   *
   * @param type The event.
   * @param listener The listener.
   * @param options As for `EventTarget`.
   */
  override addEventListener<K extends keyof EtcdTreeEventMap>(
    type: K,
    listener: (this: EtcdTree, event: EtcdTreeEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /**
   * Adds a listener for any event type.
   *
   * @param type The event.
   * @param listener The listener.
   * @param options As for `EventTarget`.
   */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener, options);
  }

  /**
   * Removes a listener.
   *
   * @param type The event.
   * @param listener The listener.
   * @param options As for `EventTarget`.
   */
  override removeEventListener<K extends keyof EtcdTreeEventMap>(
    type: K,
    listener: (this: EtcdTree, event: EtcdTreeEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  /**
   * Removes a listener for any event type.
   *
   * @param type The event.
   * @param listener The listener.
   * @param options As for `EventTarget`.
   */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener, options);
  }

  /**
   * Stops following etcd. Pending writes reject with
   * {@linkcode TreeClosed}; change iterators end. The nodes stay readable.
   *
   * @example Usage
   * ```ts ignore
   * await tree.close();
   * ```
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#setState("closed");
      this.#closed = true;
      this.#signal?.removeEventListener("abort", this.#onAbort);
      clearTimeout(this.#settleTimer);
      this.#settleTimer = undefined;
      this.#burst = undefined;
      for (const done of [...this.#sleeps]) done();
      const closed = new TreeClosed(this.prefix);
      this.#rejectWaiters(this.#failure ?? closed);
      for (const subscriber of this.#subscribers) {
        subscriber.end ??= { error: undefined };
        subscriber.wake?.();
      }
      this.#subscribers.clear();
      await this.#stream?.close();
    }
    await this.#running;
  }

  /**
   * Closes the tree, for `await using`.
   *
   * @example Usage
   * ```ts ignore
   * {
   *   await using tree = await EtcdTree.open(client, "app");
   * } // closed here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- Following etcd ----

  async #load(): Promise<void> {
    const signal = this.#signal;
    signal?.throwIfAborted();
    const options: { signal?: AbortSignal } = {};
    if (signal) options.signal = signal;
    const snapshot = await this.#store.snapshot(this.#segments, options);
    this.#index = snapshot.index;
    if (snapshot.root !== undefined) {
      this.#root = this.#build(
        snapshot.root,
        "",
        undefined,
        this.#registry.empty ? undefined : [],
      );
    }
    signal?.addEventListener("abort", this.#onAbort);
    this.#running = this.#follow();
  }

  async #follow(): Promise<void> {
    while (!this.#closed) {
      const stream = this.#store.follow(this.#segments, this.#index + 1, {
        retryFor: this.#retryFor,
        onState: (state, error) =>
          this.#setState(state === "live" ? "live" : "reconnecting", error),
      });
      this.#stream = stream;
      try {
        for await (const change of stream) this.#apply(change);
        return; // closed
      } catch (error) {
        if (this.#closed) return;
        if (!(error instanceof EventIndexCleared)) {
          this.#fail(error);
          return;
        }
      } finally {
        this.#stream = undefined;
        await stream.close();
      }
      try {
        this.#setState("resyncing");
        await this.#resync();
        this.#setState("live");
      } catch (error) {
        if (!this.#closed) this.#fail(error);
        return;
      }
    }
  }

  /** Re-reads the subtree after history was lost and applies the difference. */
  async #resync(): Promise<void> {
    const started = performance.now();
    for (let failures = 0;; failures++) {
      if (this.#closed) return;
      try {
        const snapshot = await this.#store.snapshot(this.#segments);
        if (this.#closed) return;
        this.#resyncs++;
        this.dispatchEvent(new Event("resync"));
        const index = Math.max(this.#index, snapshot.index);
        this.#merge(
          this.#root,
          snapshot.root,
          undefined,
          "",
          this.#registry.empty ? undefined : [],
          index,
        );
        this.#index = index;
        this.#settleWaiters();
        return;
      } catch (error) {
        if (
          !retryable(error) ||
          performance.now() - started >= this.#retryFor
        ) {
          throw error;
        }
        await pause(backoff(failures), this.#sleeps);
      }
    }
  }

  #apply(change: StoreChange): void {
    const index = change.index;
    if (index <= this.#index) return;
    const segments = this.#relative(change.node.key ?? "/");
    if (segments !== undefined) {
      if (change.type === "put") this.#applyPut(segments, change.node, index);
      else this.#applyDelete(segments, index, change.expired);
    }
    this.#index = index;
    this.#settleWaiters();
  }

  #applyPut(segments: string[], raw: StoreNode, index: number): void {
    const last = segments.length - 1;
    let parent: TreeDirectory | undefined;
    if (last >= 0) {
      // etcd creates missing directories on the way, at this index.
      let node = this.#root;
      if (!(node instanceof TreeDirectory)) {
        if (node !== undefined) this.#drop(node, index, false);
        node = this.#root = new TreeDirectory(
          "",
          undefined,
          index,
          index,
          undefined,
        );
        this.#emit("added", node, undefined, index, false);
      }
      for (let at = 0; at < last; at++) {
        const children: Map<string, TreeValue | TreeDirectory> = childrenOf(
          node,
        );
        const name = segments[at]!;
        let child = children.get(name);
        if (!(child instanceof TreeDirectory)) {
          if (child !== undefined) this.#drop(child, index, false);
          child = new TreeDirectory(name, node, index, index, undefined);
          children.set(name, child);
          this.#emit("added", child, undefined, index, false);
        }
        node = child;
      }
      parent = node;
    }
    const name = last >= 0 ? segments[last]! : "";
    const existing = parent === undefined
      ? this.#root
      : childrenOf(parent).get(name);
    if (existing !== undefined) {
      if (index <= existing.modifiedIndex) return; // older than what we have
      if (
        existing instanceof TreeDirectory && raw.dir === true &&
        raw.createdIndex === existing.createdIndex
      ) {
        // The directory's own attributes (its TTL) changed.
        touch(existing, raw.modifiedIndex ?? index, expiresOf(raw));
        this.#emit("updated", existing, undefined, index, false);
        return;
      }
      if (existing instanceof TreeValue && raw.dir !== true) {
        const node = this.#value(raw, name, parent, segments);
        this.#attach(parent, name, node);
        this.#emit("updated", node, existing, index, false);
        return;
      }
      // Deleted and created again, or a change of kind: the old one goes.
      this.#drop(existing, index, false);
    }
    const node = raw.dir === true
      ? new TreeDirectory(
        name,
        parent,
        raw.createdIndex ?? index,
        raw.modifiedIndex ?? index,
        expiresOf(raw),
      )
      : this.#value(raw, name, parent, segments);
    this.#attach(parent, name, node);
    this.#emit("added", node, undefined, index, false);
  }

  #applyDelete(segments: string[], index: number, expired: boolean): void {
    const node = this.node(segments);
    if (node === undefined || index <= node.modifiedIndex) return;
    this.#detach(node);
    this.#drop(node, index, expired);
  }

  /**
   * Brings `existing` (at `name` in `parent`) in line with `raw` from a
   * re-read, reporting each difference as it puts it in place.
   */
  #merge(
    existing: TreeValue | TreeDirectory | undefined,
    raw: StoreNode | undefined,
    parent: TreeDirectory | undefined,
    name: string,
    path: string[] | undefined,
    index: number,
  ): void {
    if (raw === undefined) {
      if (existing !== undefined) {
        this.#detach(existing);
        this.#drop(existing, index, false);
      }
      return;
    }
    if (existing !== undefined) {
      const createdIndex = raw.createdIndex ?? 0;
      const modifiedIndex = raw.modifiedIndex ?? 0;
      const expires = expiresOf(raw);
      if (
        existing instanceof TreeDirectory && raw.dir === true &&
        createdIndex === existing.createdIndex
      ) {
        if (
          modifiedIndex !== existing.modifiedIndex ||
          expires !== existing.expiration?.getTime()
        ) {
          touch(existing, modifiedIndex, expires);
          this.#emit("updated", existing, undefined, index, false);
        }
        const children = childrenOf(existing);
        const incoming = new Map<string, StoreNode>();
        for (const child of raw.nodes ?? []) {
          incoming.set(nameOf(child), child);
        }
        for (const [childName, child] of [...children]) {
          if (!incoming.has(childName)) {
            children.delete(childName);
            this.#drop(child, index, false);
          }
        }
        for (const [childName, child] of incoming) {
          path?.push(childName);
          this.#merge(
            children.get(childName),
            child,
            existing,
            childName,
            path,
            index,
          );
          path?.pop();
        }
        return;
      }
      if (existing instanceof TreeValue && raw.dir !== true) {
        if (
          createdIndex === existing.createdIndex &&
          modifiedIndex === existing.modifiedIndex &&
          raw.value === existing.raw &&
          expires === existing.expiration?.getTime()
        ) {
          return;
        }
        const node = this.#value(raw, name, parent, path);
        this.#attach(parent, name, node);
        this.#emit("updated", node, existing, index, false);
        return;
      }
      this.#detach(existing);
      this.#drop(existing, index, false);
    }
    const node = this.#build(raw, name, parent, path);
    this.#attach(parent, name, node);
    this.#emitAdded(node, index);
  }

  /** Makes a node (and its subtree) from a snapshot's node. */
  #build(
    raw: StoreNode,
    name: string,
    parent: TreeDirectory | undefined,
    path: string[] | undefined,
  ): TreeValue | TreeDirectory {
    if (raw.dir !== true) return this.#value(raw, name, parent, path);
    const dir = new TreeDirectory(
      name,
      parent,
      raw.createdIndex ?? 0,
      raw.modifiedIndex ?? 0,
      expiresOf(raw),
    );
    const nodes = raw.nodes;
    if (nodes !== undefined) {
      const children = childrenOf(dir);
      for (const child of nodes) {
        const childName = nameOf(child);
        path?.push(childName);
        children.set(childName, this.#build(child, childName, dir, path));
        path?.pop();
      }
    }
    return dir;
  }

  #value(
    raw: StoreNode,
    name: string,
    parent: TreeDirectory | undefined,
    path: readonly string[] | undefined,
  ): TreeValue {
    const codec = path === undefined
      ? STRING
      : this.#registry.lookup(path) ?? STRING;
    return new TreeValue(
      name,
      parent,
      raw.value ?? "",
      raw.createdIndex ?? 0,
      raw.modifiedIndex ?? 0,
      expiresOf(raw),
      codec,
    );
  }

  #attach(
    parent: TreeDirectory | undefined,
    name: string,
    node: TreeValue | TreeDirectory,
  ): void {
    if (parent === undefined) this.#root = node;
    else childrenOf(parent).set(name, node);
  }

  #detach(node: TreeValue | TreeDirectory): void {
    const parent = node.parent;
    if (parent === undefined) {
      if (this.#root === node) this.#root = undefined;
    } else if (childrenOf(parent).get(node.name) === node) {
      childrenOf(parent).delete(node.name);
    }
  }

  /** Reports a subtree that went: children first, then the node. */
  #drop(node: TreeValue | TreeDirectory, index: number, expired: boolean) {
    if (node instanceof TreeDirectory) {
      for (const child of childrenOf(node).values()) {
        this.#drop(child, index, expired);
      }
    }
    this.#emit("deleted", node, undefined, index, expired);
  }

  /** Reports a subtree that came: the node, then its children. */
  #emitAdded(node: TreeValue | TreeDirectory, index: number): void {
    this.#emit("added", node, undefined, index, false);
    if (node instanceof TreeDirectory) {
      for (const child of childrenOf(node).values()) {
        this.#emitAdded(child, index);
      }
    }
  }

  #emit(
    kind: Kind,
    node: TreeValue | TreeDirectory,
    previous: TreeValue | undefined,
    index: number,
    expired: boolean,
  ): void {
    const value = node instanceof TreeValue ? node.value : undefined;
    const path = node.path;
    const change: TreeChange = {
      kind,
      path,
      index,
      node,
      previous,
      oldValue: kind === "deleted" ? value : previous?.value,
      newValue: kind === "deleted" ? undefined : value,
      expired,
    };
    for (const subscriber of this.#subscribers) {
      subscriber.queue.push(change);
      subscriber.wake?.();
    }
    if (this.#pathWaiters.size > 0) {
      const waiters = this.#pathWaiters.get(path);
      if (waiters !== undefined) {
        for (const waiter of [...waiters]) waiter.check();
      }
    }
    this.#noteBurst(kind, path);
    this.dispatchEvent(new TreeChangeEvent(change));
  }

  #noteBurst(kind: Kind, path: string): void {
    const now = performance.now();
    this.#lastChange = now;
    let burst = this.#burst;
    if (burst === undefined) {
      burst = this.#burst = new Map();
      this.#burstStart = now;
      this.#settleTimer = setTimeout(this.#settle, this.#settleDelay);
    }
    const entry = burst.get(path);
    if (entry === undefined) burst.set(path, { first: kind, last: kind });
    else entry.last = kind;
  }

  #settle = (): void => {
    const now = performance.now();
    const quietAt = this.#lastChange + this.#settleDelay;
    const latest = this.#burstStart + this.#settleMaxDelay;
    if (now < quietAt && now < latest) {
      this.#settleTimer = setTimeout(
        this.#settle,
        Math.min(quietAt, latest) - now,
      );
      return;
    }
    this.#settleTimer = undefined;
    const burst = this.#burst;
    this.#burst = undefined;
    if (burst === undefined) return;
    const added: string[] = [];
    const updated: string[] = [];
    const deleted: string[] = [];
    for (const [path, { first, last }] of burst) {
      if (first === "added") {
        if (last !== "deleted") added.push(path);
      } else if (last === "deleted") {
        deleted.push(path);
      } else {
        updated.push(path);
      }
    }
    if (added.length + updated.length + deleted.length > 0) {
      this.dispatchEvent(
        new TreeSettledEvent(added, updated, deleted, this.#index),
      );
    }
  };

  #setState(state: TreeState, error?: unknown): void {
    if (state === this.#state || this.#state === "closed") return;
    this.#state = state;
    this.dispatchEvent(new TreeStateEvent(state, error));
  }

  #fail(error: unknown): void {
    const failure = new OutOfSync(this.prefix, error);
    this.#failure = failure;
    this.#setState("out of sync", failure);
    this.#rejectWaiters(failure);
    for (const subscriber of this.#subscribers) {
      subscriber.end ??= { error: failure };
      subscriber.wake?.();
    }
    this.#subscribers.clear();
    this.dispatchEvent(
      new ErrorEvent("error", { error: failure, message: failure.message }),
    );
  }

  // ---- Writing ----

  /** Checks that the tree takes writes and the path; returns its segments. */
  #writable(path: Key, rootAllowed = false): string[] {
    if (this.#closed) {
      throw this.#failure ?? new TreeClosed(this.prefix);
    }
    if (this.#failure) throw this.#failure;
    const segments = keySegments(path, "path");
    if (segments.length === 0 && !rootAllowed) {
      throw new TypeError(
        `Invalid path ${JSON.stringify(path)}: name a key below the root`,
      );
    }
    this.#check(segments);
    return segments;
  }

  /** Refuses segments etcd cannot hold and hidden ones it would not show. */
  #check(segments: readonly string[]): void {
    keySegments(segments, "path");
    const hidden = segments.find((segment) => segment.startsWith("_"));
    if (hidden !== undefined) {
      throw new TypeError(
        `Invalid path ${JSON.stringify(segments.join("/"))}: segment ${
          JSON.stringify(hidden)
        } starts with "_", which etcd hides from watches, so the tree cannot mirror it`,
      );
    }
  }

  #encode(segments: readonly string[], value: unknown): string {
    const codec = this.#registry.lookup(segments);
    try {
      return (codec ?? STRING).encode(value);
    } catch (error) {
      const hint = codec === undefined
        ? "; values are strings unless a codec is registered for the path"
        : "";
      throw new TypeError(
        `Invalid value for ${JSON.stringify(segments.join("/"))}: ${
          error instanceof Error ? error.message : error
        }${hint}`,
        { cause: error },
      );
    }
  }

  #put(
    segments: string[],
    raw: string,
    force: boolean,
    options: TreeSetOptions,
  ): Promise<number> {
    const base = this.node(segments);
    const write: WriteOptions = {};
    if (options.ttl !== undefined) write.ttl = options.ttl;
    if (options.signal) write.signal = options.signal;
    if (!force) {
      if (base instanceof TreeValue) write.prevIndex = base.modifiedIndex;
      else if (base === undefined) write.prevExist = false;
    }
    return this.#write(
      segments,
      base,
      () => this.#store.put(this.#full(segments), raw, write),
      options,
    );
  }

  #mkdir(
    segments: string[],
    write: WriteOptions,
    options: TreeWriteOptions,
  ): Promise<number> {
    const base = this.node(segments);
    write.prevExist = false;
    if (options.signal) write.signal = options.signal;
    return this.#write(
      segments,
      base,
      () => this.#store.mkdir(this.#full(segments), write),
      options,
    );
  }

  /**
   * Sends a write based on the mirror's node `base`, then waits until the
   * mirror shows it. A refused condition becomes a {@linkcode WriteConflict}
   * once the mirror shows what changed.
   */
  async #write(
    segments: string[],
    base: TreeValue | TreeDirectory | undefined,
    send: () => Promise<{ index: number }>,
    options: TreeWriteOptions,
  ): Promise<number> {
    let index: number;
    try {
      ({ index } = await send());
    } catch (error) {
      const conflict = error instanceof CompareFailed ||
        (error instanceof NodeExists && base === undefined) ||
        (error instanceof KeyNotFound && base !== undefined);
      if (!conflict) throw error;
      const path = segments.join("/");
      await this.#changedFrom(path, segments, base, options.signal);
      throw new WriteConflict(path, this.node(segments), error);
    }
    await this.#applied(index, options.signal);
    return index;
  }

  /** Waits until the mirror's node at a path is no longer `base`. */
  #changedFrom(
    path: string,
    segments: readonly string[],
    base: TreeValue | TreeDirectory | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (this.node(segments) !== base) return Promise.resolve();
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new TreeClosed(this.prefix));
    return new Promise<void>((resolve, reject) => {
      let waiters = this.#pathWaiters.get(path);
      if (waiters === undefined) {
        waiters = new Set();
        this.#pathWaiters.set(path, waiters);
      }
      const set = waiters;
      const stop = () => {
        set.delete(waiter);
        if (set.size === 0) this.#pathWaiters.delete(path);
        signal?.removeEventListener("abort", abort);
      };
      const waiter: PathWaiter = {
        check: () => {
          if (this.node(segments) === base) return;
          stop();
          resolve();
        },
        reject: (error) => {
          stop();
          reject(error);
        },
      };
      const abort = () => waiter.reject(signal?.reason);
      set.add(waiter);
      signal?.addEventListener("abort", abort, { once: true });
    });
  }

  /** Resolves once the mirror has applied `index`. */
  #applied(index: number, signal?: AbortSignal): Promise<void> {
    if (this.#index >= index) return Promise.resolve();
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new TreeClosed(this.prefix));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const abort = () => {
        this.#removeWaiter(waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        index,
        resolve: () => {
          signal?.removeEventListener("abort", abort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener("abort", abort);
          reject(error);
        },
      };
      signal?.addEventListener("abort", abort, { once: true });
      const waiters = this.#waiters;
      let at = waiters.length;
      while (at > 0 && waiters[at - 1]!.index > index) at--;
      waiters.splice(at, 0, waiter);
    });
  }

  #removeWaiter(waiter: Waiter): void {
    const at = this.#waiters.indexOf(waiter);
    if (at >= 0) this.#waiters.splice(at, 1);
  }

  #settleWaiters(): void {
    const waiters = this.#waiters;
    if (waiters.length === 0 || waiters[0]!.index > this.#index) return;
    let count = 0;
    while (count < waiters.length && waiters[count]!.index <= this.#index) {
      count++;
    }
    for (const waiter of waiters.splice(0, count)) waiter.resolve();
  }

  #rejectWaiters(error: unknown): void {
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
    for (const waiters of [...this.#pathWaiters.values()]) {
      for (const waiter of [...waiters]) waiter.reject(error);
    }
  }

  // ---- Helpers ----

  /** The full key's segments of a path below the root. */
  #full(segments: readonly string[]): string[] {
    return [...this.#segments, ...segments];
  }

  /** The path segments of a full key, or `undefined` if not below the root. */
  #relative(key: string): string[] | undefined {
    const prefix = this.prefix;
    if (key === prefix) return [];
    if (prefix === "/") return key.slice(1).split("/");
    if (!key.startsWith(prefix) || key.charCodeAt(prefix.length) !== 47) {
      return undefined;
    }
    return key.slice(prefix.length + 1).split("/");
  }
}

function splitPath(path: string): string[] {
  return path.split("/").filter((segment) => segment !== "");
}

function nameOf(raw: StoreNode): string {
  const key = raw.key ?? "";
  return key.slice(key.lastIndexOf("/") + 1);
}

function expiresOf(raw: StoreNode): number | undefined {
  return raw.expiration === undefined ? undefined : Date.parse(raw.expiration);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function checkMs(value: number, what: string): number {
  if (typeof value !== "number" || !(value >= 0)) {
    throw new RangeError(
      `Invalid ${what} ${value}: expected milliseconds >= 0`,
    );
  }
  return value;
}
