// The nodes of a mirror. Internal; the classes are public through tree.ts.
// The mirror changes nodes in place through `touch` and `childrenOf`; users
// only read them.

import type { Codec } from "../codec.ts";
import type { Key } from "../client.ts";
import { hasEmptySegment, namesOf } from "../_core/paths.ts";

/** Changes a node's modification index and expiry in place. */
export let touch: (
  node: TreeNode,
  modifiedIndex: number,
  expires: number | undefined,
) => void;
/** A directory's children, to change in place. */
export let childrenOf: (
  dir: TreeDirectory,
) => Map<string, TreeValue | TreeDirectory>;

/** What etcd v3 says of a key besides its revisions. */
export interface KeyMeta {
  /** How many times the key was written since created. */
  readonly version?: number | undefined;
  /** The lease it lives by (its ID: 16 hex digits, as etcdctl prints it). */
  readonly lease?: string | undefined;
}

/**
 * What every node of a tree has: its name, place, indices and TTL.
 *
 * @example Usage
 * ```ts
 * import type { TreeNode } from "@etcd-tree/etcd-tree/v2";
 *
 * async function usage() {
 *   function describe(node: TreeNode): string {
 *     return `${node.path} (created at ${node.createdIndex})`;
 *   }
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

  /** etcd v3's name of `createdIndex`: the revision that created the key. */
  get createRevision(): number {
    return this.createdIndex;
  }

  /** etcd v3's name of `modifiedIndex`: the revision that last changed it. */
  get modRevision(): number {
    return this.modifiedIndex;
  }
}

/**
 * A value in a tree: the stored string and what its codec made of it.
 * Values are never changed: a change of the key brings a new `TreeValue`.
 *
 * @typeParam T The type its codec decodes to.
 *
 * @example Usage
 * ```ts
 * import { TreeValue } from "@etcd-tree/etcd-tree/v2";
 * import type { EtcdTree } from "@etcd-tree/etcd-tree/v2";
 *
 * async function usage(tree: EtcdTree) {
 *   const node = tree.node("db/port");
 *   if (node instanceof TreeValue) {
 *     if (node.error) console.warn(`bad ${node.path}: ${node.raw}`, node.error);
 *     else console.log(node.value);
 *   }
 * }
 * ```
 */
export class TreeValue<T = unknown> extends TreeNode {
  /**
   * What etcd stores: the string, or on etcd v3 the bytes when they are not
   * UTF-8 text (kept exactly, whatever the codec).
   */
  readonly raw: string | Uint8Array;
  /** The decoded value; `undefined` when decoding failed (see `error`). */
  readonly value: T | undefined;
  /** Why the stored value did not decode, if it did not. */
  readonly error: Error | undefined;
  /** etcd v3: how many times the key was written since it was created. */
  readonly version: number | undefined;
  /**
   * etcd v3: the ID of the lease the key lives by (16 hex digits, as
   * etcdctl prints it), `undefined` if none.
   */
  readonly lease: string | undefined;

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
   * @param meta etcd v3's version and lease of the key.
   */
  constructor(
    name: string,
    parent: TreeDirectory | undefined,
    raw: string | Uint8Array,
    createdIndex: number,
    modifiedIndex: number,
    expires: number | undefined,
    codec: Codec<T>,
    meta: KeyMeta = {},
  ) {
    super(name, parent, createdIndex, modifiedIndex, expires);
    this.raw = raw;
    this.version = meta.version;
    this.lease = meta.lease;
    let value: T | undefined;
    let error: Error | undefined;
    try {
      if (typeof raw === "string") value = codec.decode(raw);
      else if (codec.decodeBytes) value = codec.decodeBytes(raw);
      else {
        throw new TypeError(
          `Cannot decode ${raw.length} bytes as ${codec.name}: they are not UTF-8 text (kept as they are in raw; register codecs.bytes for the path)`,
        );
      }
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
 * ```ts
 * import type { EtcdTree } from "@etcd-tree/etcd-tree/v2";
 *
 * async function usage(tree: EtcdTree) {
 *   const services = tree.node("services");
 *   if (services instanceof TreeDirectory) {
 *     for (const child of services) console.log(child.name, child.dir);
 *   }
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
    if (typeof path === "string" && hasEmptySegment(path)) {
      // A key with an empty segment (v3: `/a` below the prefix ""), if
      // there is one; else the extra "/" are dropped, as always.
      const exact = this.node(namesOf(path));
      if (exact !== undefined) return exact;
    }
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
/** A path's segments, empty ones dropped. */
export function splitPath(path: string): string[] {
  return path.split("/").filter((segment) => segment !== "");
}
