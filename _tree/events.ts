// What a tree tells: its changes, bursts, state, and the errors of its
// writes. Internal; public through tree.ts.

import { type TreeDirectory, TreeValue } from "./nodes.ts";

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
 * ```ts
 * import type { EtcdTree } from "@etcd-tree/etcd-tree/v2";
 *
 * async function usage(tree: EtcdTree) {
 *   tree.addEventListener("change", (event) => console.log(event.change.path));
 * }
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
 * ```ts
 * import type { EtcdTree } from "@etcd-tree/etcd-tree/v2";
 *
 * async function usage(tree: EtcdTree) {
 *   tree.addEventListener("settled", (event) => {
 *     console.log("reload:", event.added, event.updated, event.deleted);
 *   });
 * }
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
 * ```ts
 * import type { EtcdTree } from "@etcd-tree/etcd-tree/v2";
 *
 * async function usage(tree: EtcdTree) {
 *   tree.addEventListener("state", (event) => console.log(event.state, event.error));
 * }
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
 * ```ts
 * import { WriteConflict } from "@etcd-tree/etcd-tree/v2";
 * import type { EtcdTree } from "@etcd-tree/etcd-tree/v2";
 *
 * async function usage(tree: EtcdTree) {
 *   try {
 *     await tree.set("leader", "me");
 *   } catch (error) {
 *     if (!(error instanceof WriteConflict)) throw error;
 *     console.log("lost to", error.currentValue);
 *   }
 * }
 * ```
 */
export class WriteConflict extends Error {
  /** The path written. */
  readonly path: string;
  /** The node at the path now, as the mirror shows it. */
  readonly current: TreeValue | TreeDirectory | undefined;
  /**
   * etcd's answer: on v2 an `EtcdError` (`CompareFailed`, `NodeExists`,
   * `KeyNotFound`, ...); its `kind` says which condition failed.
   */
  override readonly cause: Error;

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
    cause: Error,
  ) {
    const now = current === undefined
      ? "it is gone"
      : `it is now a ${
        current.dir ? "directory" : "value"
      } of index ${current.modifiedIndex}`;
    super(
      `Cannot write ${JSON.stringify(path)}: it changed elsewhere, ${now} ` +
        `(${describeCause(cause)})`,
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
 * ```ts
 * import type { EtcdTree } from "@etcd-tree/etcd-tree/v2";
 *
 * async function usage(tree: EtcdTree) {
 *   tree.addEventListener("error", (event) => console.error(event.error));
 * }
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
 * ```ts
 * import { TreeClosed } from "@etcd-tree/etcd-tree/v2";
 * import type { EtcdTree } from "@etcd-tree/etcd-tree/v2";
 *
 * async function usage(tree: EtcdTree) {
 *   await tree.close();
 *   await tree.set("a", "1").catch((error) => console.log(error instanceof TreeClosed));
 * }
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
/** etcd's error in brief: `etcd error 101: Compare failed` on v2. */
function describeCause(cause: Error): string {
  const { errorCode, etcdMessage } = cause as {
    errorCode?: unknown;
    etcdMessage?: unknown;
  };
  return typeof errorCode === "number" && typeof etcdMessage === "string"
    ? `etcd error ${errorCode}: ${etcdMessage}`
    : cause.message;
}
