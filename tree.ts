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
 * ```ts
 * import { Client, codecs, EtcdTree } from "@etcd-tree/etcd-tree/v2";
 * import { startEtcd } from "@etcd-tree/etcd-tree/testing";
 *
 * await using etcd = await startEtcd();
 * await using client = new Client({ endpoints: etcd.endpoint });
 * await using tree = await EtcdTree.open(client, "app", {
 *   codecs: { "db/port": codecs.integer },
 * });
 * await tree.set("db/port", 5432);
 * console.log(tree.get("db/port") === 5432, tree.toObject());
 * ```
 *
 * @module
 */

import type { EtcdClient, Key } from "./client.ts";
import { type Codec, CodecRegistry } from "./codec.ts";
import { AsyncQueue } from "./_core/queue.ts";
import { hasEmptySegment, namesOf } from "./_core/paths.ts";
import { milliseconds } from "./_core/retry.ts";
import { otherSpelling } from "./_core/spelling.ts";
import { type Store, storeOf, type Subtree } from "./_core/store.ts";
import {
  type EtcdTreeEventMap,
  OutOfSync,
  type TreeChange,
  TreeChangeEvent,
  TreeClosed,
  TreeSettledEvent,
  type TreeState,
  TreeStateEvent,
} from "./_tree/events.ts";
import { Follower } from "./_tree/follower.ts";
import { type ChangeKind, Mirror } from "./_tree/mirror.ts";
import { splitPath, TreeDirectory, TreeValue } from "./_tree/nodes.ts";
import { Settler } from "./_tree/settle.ts";
import { IndexWaiters, PathWaiters } from "./_tree/waiters.ts";
import { Writer } from "./_tree/writer.ts";

export { TreeDirectory, TreeNode, TreeValue } from "./_tree/nodes.ts";
export {
  type EtcdTreeEventMap,
  OutOfSync,
  type TreeChange,
  TreeChangeEvent,
  TreeClosed,
  TreeSettledEvent,
  type TreeState,
  TreeStateEvent,
  WriteConflict,
} from "./_tree/events.ts";

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
  /**
   * Delete a directory with what the mirror shows in it: each value with
   * compare-and-delete, then each directory once empty. A value changed
   * meanwhile, or a directory holding keys the mirror did not show (new
   * ones, or hidden `_` keys), is a `WriteConflict` and stays.
   */
  recursive?: boolean;
  /**
   * Delete whatever is there now: a value without compare-and-delete, a
   * directory (with `recursive`) with etcd's own recursive delete, which
   * takes everything in it.
   */
  force?: boolean;
}

/** Options of {@linkcode EtcdTree.mkdir} and {@linkcode EtcdTree.append}. */
export interface TreeCreateOptions extends TreeWriteOptions {
  /** Seconds to live. */
  ttl?: number;
}

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
 * ```ts
 * import { Client, codecs, EtcdTree, WriteConflict } from "@etcd-tree/etcd-tree/v2";
 *
 * async function usage() {
 *   await using client = new Client();
 *   await using tree = await EtcdTree.open(client, "app", {
 *     codecs: { "replicas": codecs.integer },
 *   });
 *   try {
 *     await tree.set("replicas", (tree.get<number>("replicas") ?? 0) + 1);
 *   } catch (error) {
 *     if (!(error instanceof WriteConflict)) throw error;
 *     // Someone else changed it first: error.currentValue is theirs.
 *   }
 * }
 * ```
 */
export class EtcdTree extends EventTarget implements AsyncDisposable {
  /** The subtree's key, such as `"/app"`. */
  readonly prefix: string;
  readonly #store: Store;
  readonly #subtree: Subtree;
  readonly #mirror: Mirror;
  readonly #writer: Writer;
  readonly #follower: Follower;
  readonly #settler: Settler;
  readonly #applied = new IndexWaiters();
  readonly #changed = new PathWaiters();
  readonly #subscribers = new Set<AsyncQueue<TreeChange>>();
  readonly #retryFor: number;
  readonly #signal: AbortSignal | undefined;
  #closed = false;
  #failure: OutOfSync | undefined;
  #resyncs = 0;
  #skipped: readonly string[] = [];
  #hint: string | undefined;
  #state: TreeState = "live";
  readonly #onAbort = () => void this.close();

  private constructor(
    store: Store,
    subtree: Subtree,
    options: TreeOptions,
  ) {
    super();
    this.#store = store;
    this.#subtree = subtree;
    this.prefix = subtree.key;
    const given = options.codecs;
    const registry = given instanceof CodecRegistry
      ? given
      : new CodecRegistry(given);
    this.#retryFor = milliseconds(options.retryFor ?? 60_000, "retryFor");
    this.#settler = new Settler(
      milliseconds(options.settleDelay ?? 50, "settleDelay"),
      milliseconds(options.settleMaxDelay ?? 1000, "settleMaxDelay"),
      ({ added, updated, deleted }) =>
        this.dispatchEvent(
          new TreeSettledEvent(added, updated, deleted, this.index),
        ),
    );
    this.#signal = options.signal;
    this.#mirror = new Mirror({
      registry,
      inferDirs: !store.capabilities.directories,
      onChange: (kind, node, previous, index, expired) =>
        this.#emit(kind, node, previous, index, expired),
    });
    this.#writer = new Writer({
      store,
      subtree,
      mirror: this.#mirror,
      registry,
      applied: this.#applied,
      changed: this.#changed,
      usable: () => {
        if (this.#closed) throw this.#failure ?? new TreeClosed(this.prefix);
        if (this.#failure) throw this.#failure;
      },
    });
    this.#follower = new Follower(
      store,
      subtree,
      this.#mirror,
      this.#retryFor,
      {
        advanced: () => this.#applied.settle(this.#mirror.index),
        state: (state, error) => this.#setState(state, error),
        resync: (snapshot) => {
          this.#resyncs++;
          this.#skipped = snapshot.skipped ?? [];
          this.dispatchEvent(new Event("resync"));
        },
        failed: (error) => this.#fail(error),
      },
    );
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
   * ```ts
   * import { Client, EtcdTree } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client();
   *   await using tree = await EtcdTree.open(client, "app");
   *   console.log(tree.toObject());
   * }
   * ```
   */
  static async open(
    client: EtcdClient,
    prefix: Key,
    options: TreeOptions = {},
  ): Promise<EtcdTree> {
    const store = storeOf(client);
    const tree = new EtcdTree(store, store.subtree(prefix, "prefix"), options);
    await tree.#load();
    return tree;
  }

  /** The index the mirror shows: every change up to it is applied. */
  get index(): number {
    return this.#mirror.index;
  }

  /** The subtree's top node; `undefined` while the key does not exist. */
  get root(): TreeValue | TreeDirectory | undefined {
    return this.#mirror.root;
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
   * etcd v3: the paths of values hidden by keys below them (etcd may hold
   * both `a` and `a/b`; the tree shows the directory `a`, and the value
   * comes back when the directory empties).
   */
  get shadowed(): string[] {
    return this.#mirror.shadowed;
  }

  /**
   * etcd v3: keys below the prefix that cannot be paths of the tree (not
   * UTF-8 text, or with an empty segment such as `a//b`), as of the last
   * read, described for messages. Their changes are left out too.
   */
  get skipped(): readonly string[] {
    return this.#skipped;
  }

  /**
   * etcd v3: when the subtree held nothing as the tree opened but the same
   * prefix with (or without) a leading `/` held keys, a note saying so (v3
   * keys are bytes: `/app` and `app` differ); `undefined` otherwise.
   *
   * @example Usage
   * ```ts
   * import type { EtcdTree } from "@etcd-tree/etcd-tree/v2";
   *
   * function usage(tree: EtcdTree) {
   *   if (tree.hint !== undefined) console.warn(tree.hint);
   * }
   * ```
   */
  get hint(): string | undefined {
    return this.#hint;
  }

  /**
   * The node at a path.
   *
   * @param path Segments joined by `/`, or the segments; `""` is the root.
   * @returns The node, or `undefined` if there is none.
   *
   * @example Usage
   * ```ts
   * import type { EtcdTree } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(tree: EtcdTree) {
   *   const db = tree.node("db");
   *   console.log(db?.dir, db?.modifiedIndex);
   * }
   * ```
   */
  node(path: Key): TreeValue | TreeDirectory | undefined {
    if (typeof path === "string" && hasEmptySegment(path)) {
      // A key with an empty segment (v3: `/a` below the prefix ""), if
      // there is one; else the extra "/" are dropped, as always.
      const exact = this.#mirror.node(namesOf(path));
      if (exact !== undefined) return exact;
    }
    return this.#mirror.node(typeof path === "string" ? splitPath(path) : path);
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
   * ```ts
   * import type { EtcdTree } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(tree: EtcdTree) {
   *   const port = tree.get<number>("db/port") ?? 5432;
   * }
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
   * ```ts
   * import type { EtcdTree } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(tree: EtcdTree) {
   *   console.log(JSON.stringify(tree.toObject()));
   * }
   * ```
   */
  toObject(): Record<string, unknown> {
    const root = this.#mirror.root;
    return root instanceof TreeDirectory ? root.toObject() : {};
  }

  /**
   * Iterates over the root's children.
   *
   * @returns An iterator of nodes.
   */
  [Symbol.iterator](): IterableIterator<TreeValue | TreeDirectory> {
    const root = this.#mirror.root;
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
   * ```ts
   * import type { EtcdTree } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(tree: EtcdTree) {
   *   await tree.set("db/host", "10.0.0.2");
   *   await tree.set("session", "x", { ttl: 30 });
   * }
   * ```
   */
  async set(
    path: Key,
    value: unknown,
    options: TreeSetOptions = {},
  ): Promise<number> {
    const writer = this.#writer;
    const segments = writer.writable(path);
    const raw = writer.encode(segments, value);
    return await writer.put(segments, raw, options.force === true, options);
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
   * ```ts
   * import type { EtcdTree } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(tree: EtcdTree) {
   *   await tree.delete("sessions", { recursive: true });
   * }
   * ```
   */
  async delete(path: Key, options: TreeDeleteOptions = {}): Promise<number> {
    const segments = this.#writer.writable(path, true);
    return await this.#writer.delete(
      segments,
      options.recursive === true,
      options.force === true,
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
   * ```ts
   * import type { EtcdTree } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(tree: EtcdTree) {
   *   await tree.mkdir("locks", { ttl: 60 });
   * }
   * ```
   */
  async mkdir(path: Key, options: TreeCreateOptions = {}): Promise<number> {
    const segments = this.#writer.writable(path);
    return await this.#writer.mkdir(segments, options.ttl, options);
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
   * ```ts
   * import type { EtcdTree } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(tree: EtcdTree) {
   *   const job = await tree.append("jobs", "resize image 7");
   *   console.log(tree.get(job));
   * }
   * ```
   */
  async append(
    path: Key,
    value: unknown,
    options: TreeCreateOptions = {},
  ): Promise<string> {
    const writer = this.#writer;
    const segments = writer.writable(path, true);
    const raw = writer.encode([...segments, "*"], value);
    return await writer.append(segments, raw, options.ttl, options);
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
   * ```ts
   * import type { EtcdTree } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(tree: EtcdTree) {
   *   await tree.setTtl("sessions/alice", 30);
   *   await tree.setTtl("sessions/alice", null);
   * }
   * ```
   */
  async setTtl(
    path: Key,
    ttl: number | null,
    options: TreeWriteOptions = {},
  ): Promise<number> {
    const segments = this.#writer.writable(path);
    return await this.#writer.setTtl(segments, ttl, options);
  }

  /**
   * Waits until the mirror shows index `index` (or a later one).
   *
   * @param index An etcd index, such as a write's.
   * @param options A signal.
   *
   * @example Usage
   * ```ts
   * import type { Client, EtcdTree } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(tree: EtcdTree, client: Client) {
   *   const { node } = await client.set("app/x", "1");
   *   await tree.synced(node.modifiedIndex);
   * }
   * ```
   */
  async synced(index: number, options: TreeWriteOptions = {}): Promise<void> {
    await this.#writer.applied(index, options.signal);
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
   * ```ts
   * import type { EtcdTree } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(tree: EtcdTree) {
   *   for await (const { kind, path, newValue } of tree.changes()) {
   *     console.log(kind, path, newValue);
   *   }
   * }
   * ```
   */
  changes(
    options: { signal?: AbortSignal } = {},
  ): AsyncIterableIterator<TreeChange> {
    const signal = options.signal;
    const stop = () => {
      this.#subscribers.delete(queue);
      queue.fail(signal?.reason);
    };
    const queue = new AsyncQueue<TreeChange>(() => {
      this.#subscribers.delete(queue);
      signal?.removeEventListener("abort", stop);
    });
    if (this.#failure) queue.fail(this.#failure);
    else if (this.#closed) queue.end();
    else this.#subscribers.add(queue);
    signal?.addEventListener("abort", stop, { once: true });
    return queue;
  }

  /**
   * Writes a nested object: each value at its path (with the same
   * compare-and-swap as {@linkcode EtcdTree.set}), each empty object as a
   * directory (v2; v3 has none, and refuses one). Every value is encoded
   * before anything is sent, so bad input writes nothing. On etcd v3 the
   * writes are one transaction when they fit in etcd's limit (128 by
   * default; the v3 client's `maxTxnOps`): all happen, or none. Otherwise
   * (and on v2, which has no transactions) they go out together, and if one
   * fails the others may have happened. A path whose codec is registered
   * takes the object as one value (a `json` codec, for example).
   *
   * @param path Where the object goes; `""` is the root.
   * @param object The values.
   * @param options A signal.
   * @returns The highest index written.
   * @throws {WriteConflict} When a key changed elsewhere first.
   * @throws {AggregateError} When several writes failed.
   *
   * @example Usage
   * ```ts
   * import type { EtcdTree } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(tree: EtcdTree) {
   *   await tree.update("db", { host: "10.0.0.2", replicas: {} });
   * }
   * ```
   */
  async update(
    path: Key,
    object: Record<string, unknown>,
    options: TreeWriteOptions = {},
  ): Promise<number> {
    const writer = this.#writer;
    const base = writer.writable(path, true);
    const values: [string[], string | Uint8Array][] = [];
    const dirs: string[][] = [];
    const visit = (segments: string[], value: unknown, top: boolean) => {
      const codec = writer.codec(segments);
      if ((codec === undefined || top) && isPlainObject(value)) {
        const entries = Object.entries(value);
        if (entries.length === 0) dirs.push(segments);
        for (const [name, child] of entries) {
          const below = [...segments, name];
          writer.check(below);
          visit(below, child, false);
        }
      } else {
        values.push([segments, writer.encode(segments, value)]);
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
    const { capabilities } = this.#store;
    if (!capabilities.directories && dirs.length > 0) {
      throw new TypeError(
        `Invalid object for ${JSON.stringify(base.join("/"))}: ${
          JSON.stringify(dirs[0]!.join("/"))
        } is an empty object, and etcd ${capabilities.protocol} has no empty directories (they exist while keys are below them)`,
      );
    }
    if (values.length > 1 && values.length <= capabilities.maxTxnOps) {
      return await writer.commit(values, options);
    }
    const writes = [
      ...values.map(([segments, raw]) =>
        writer.put(segments, raw, false, options)
      ),
      ...dirs.filter((segments) => this.node(segments) === undefined)
        .map((segments) => writer.mkdir(segments, undefined, options)),
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
    let index = this.index;
    for (const outcome of settled) {
      if (outcome.status === "fulfilled") {
        index = Math.max(index, outcome.value);
      }
    }
    return index;
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
   * ```ts
   * import type { EtcdTree } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(tree: EtcdTree) {
   *   await tree.close();
   * }
   * ```
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#setState("closed");
      this.#closed = true;
      this.#signal?.removeEventListener("abort", this.#onAbort);
      this.#settler.stop();
      const closed = this.#failure ?? new TreeClosed(this.prefix);
      this.#applied.rejectAll(closed);
      this.#changed.rejectAll(closed);
      for (const queue of this.#subscribers) queue.end();
      this.#subscribers.clear();
    }
    await this.#follower.close();
  }

  /**
   * Closes the tree, for `await using`.
   *
   * @example Usage
   * ```ts
   * import type { Client } from "@etcd-tree/etcd-tree/v2";
   * async function usage(client: Client) {
   *   {
   *     await using tree = await EtcdTree.open(client, "app");
   *   } // closed here
   * }
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #load(): Promise<void> {
    const signal = this.#signal;
    signal?.throwIfAborted();
    const snapshot = await this.#store.snapshot(
      this.#subtree,
      signal ? { signal } : {},
    );
    this.#mirror.load(snapshot);
    this.#skipped = snapshot.skipped ?? [];
    if (snapshot.entries.length === 0) {
      // A twin with keys most likely means a misspelled prefix; not being
      // able to tell is no reason to fail the open.
      this.#hint = await otherSpelling(
        this.#store,
        this.prefix,
        signal ? { signal } : {},
      ).catch(() => undefined);
    }
    signal?.addEventListener("abort", this.#onAbort);
    this.#follower.start();
  }

  #emit(
    kind: ChangeKind,
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
    for (const queue of this.#subscribers) queue.push(change);
    this.#changed.changed(path);
    this.#settler.note(kind, path);
    this.dispatchEvent(new TreeChangeEvent(change));
  }

  #setState(state: TreeState, error?: unknown): void {
    if (state === this.#state || this.#state === "closed") return;
    this.#state = state;
    this.dispatchEvent(new TreeStateEvent(state, error));
  }

  #fail(error: unknown): void {
    const failure = new OutOfSync(this.prefix, error);
    this.#failure = failure;
    this.#setState("out of sync", failure);
    this.#applied.rejectAll(failure);
    this.#changed.rejectAll(failure);
    for (const queue of this.#subscribers) queue.fail(failure);
    this.#subscribers.clear();
    this.dispatchEvent(
      new ErrorEvent("error", { error: failure, message: failure.message }),
    );
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
