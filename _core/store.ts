// The seam between etcd's protocols and what is built on them (EtcdTree,
// the command-line tools, locks and elections). Internal.
//
// It speaks intent, flat: a snapshot is a list of entries at one index; a
// change is one entry put or deleted; a write names the condition it needs
// by meaning ("only if unchanged since index N", "only if absent"). Each
// protocol backend (v2/store.ts, later v3/store.ts) maps that onto its API
// and says what it can do; what it cannot do is refused with a clear error.

import { type ErrorKind, KIND } from "./kinds.ts";

/** One earlier version of a key (v3), newest first in a {@linkcode History}. */
export interface Version {
  modifiedIndex: number;
  createdIndex: number;
  version: number;
  value: string | Uint8Array;
}

/** A key's versions, as far back as etcd still has them. */
export interface History {
  versions: Version[];
  /**
   * Why the list ends: `"created"` (the key's first version), `"compacted"`
   * (older revisions are compacted away), `"limit"` (more exist).
   */
  end: "created" | "compacted" | "limit";
  /** With `"compacted"`: the first revision etcd still has, if known. */
  compactRevision?: number;
}

/** What a backend can do. */
export interface Capabilities {
  /** The protocol's name, for messages: `"v2"`. */
  readonly protocol: string;
  /**
   * Directories are keys of their own (v2): they carry indices and a TTL,
   * exist while empty, and are made with `mkdir`. Otherwise directories are
   * inferred from `/` in keys and vanish with their last key.
   */
  readonly directories: boolean;
  /** Keys can have a time to live of their own (v2 TTLs). */
  readonly ttl: boolean;
  /** Keys with a segment starting with `_` are hidden from listings. */
  readonly hiddenUnderscore: boolean;
  /** Values can be any bytes, not only UTF-8 text. */
  readonly binary: boolean;
  /**
   * `createUnique` works without a lease (v2's in-order keys, with or
   * without a TTL); elsewhere it names the key after the lease.
   */
  readonly inOrderKeys: boolean;
  /** The largest write request etcd takes by default, in bytes. */
  readonly maxRequestBytes: number;
  /**
   * A lease refreshes each of its keys, so a key deleted by someone else
   * ends the lease (v2); elsewhere (v3) a lease outlives its keys, and a
   * holder watches its key to learn that it is gone.
   */
  readonly keysRefreshed: boolean;
  /**
   * Most writes `commit` takes in one transaction (etcd's `--max-txn-ops`);
   * `0` where the protocol has no transactions (v2).
   */
  readonly maxTxnOps: number;
}

/** One key of a snapshot or a change, relative to the subtree's root. */
export interface Entry {
  /** Segments below the subtree's root joined by `/`; `""` is the root. */
  path: string;
  /** An explicit directory (only where `capabilities.directories`). */
  dir?: boolean;
  /**
   * The value: a string when it is UTF-8 text, the bytes when it is not.
   * Absent for a directory, and for a deleted key.
   */
  value?: string | Uint8Array;
  /** The index (revision) that created the key. */
  createdIndex: number;
  /** The index (revision) that last changed the key itself. */
  modifiedIndex: number;
  /** When the key expires, in milliseconds since the epoch. */
  expires?: number;
  /** How many times the key was written since created (v3). */
  version?: number;
  /** The lease the key lives by (v3: its ID in 16 hex digits; none: absent). */
  lease?: string;
}

/** A subtree as it was at one index. */
export interface Snapshot {
  /** The index the snapshot shows. Changes go on from `index + 1`. */
  index: number;
  /**
   * Every entry, parents before their children; an empty list when the
   * subtree does not exist.
   */
  entries: Entry[];
  /**
   * Keys under the subtree that cannot be paths (not UTF-8, or with empty
   * segments), described for messages; they are left out of `entries`.
   */
  skipped?: string[];
}

/** Options of {@linkcode Store.snapshot}. */
export interface SnapshotOptions {
  /** Read the subtree as it was at this revision (v3; v2 keeps no past). */
  revision?: number;
  signal?: AbortSignal;
  /**
   * Told the revision (v2: index) the snapshot is read at as soon as the
   * first answer says it, before the rest is read (v3 reads pages).
   */
  onRevision?: (revision: number) => void;
}

/** One change of a followed subtree. */
export interface Change {
  /** The index of the change. */
  index: number;
  /** `put`: the key was created or changed; `delete`: it went (with its subtree). */
  type: "put" | "delete";
  /** For a delete: the key's time to live ran out. */
  expired: boolean;
  /** The entry after a put; the entry that went, for a delete. */
  entry: Entry;
  /** The entry before a put over an existing key, when the store knows it. */
  prev?: Entry;
  /**
   * More changes of the same index follow at once (one transaction): the
   * index is not applied until the last of them is.
   */
  more?: boolean;
}

/** The changes of a subtree from an index on, in order, none left out. */
export interface ChangeStream extends AsyncIterable<Change>, AsyncDisposable {
  /** Stops the stream; iteration ends. */
  close(): Promise<void>;
}

/** Options of {@linkcode Store.follow}. */
export interface FollowOptions {
  /** Follow only this key (a path below the subtree), not the subtree. */
  only?: string;
  /**
   * Give each put over an existing key its entry before (`prev`), where
   * the store can; v2 always does.
   */
  prev?: boolean;
  /** Give up after this long unable to reach etcd (milliseconds). */
  retryFor?: number;
  /** Told when following starts retrying after a failure, and recovers. */
  onState?: (state: "live" | "retrying", error?: unknown) => void;
}

/**
 * What must hold for a write to happen, by meaning:
 *
 * - `{ modifiedIndex }`: the key exists and was last changed at that index
 *   (compare-and-swap).
 * - `{ absent: true }`: the key does not exist (create).
 * - `{ present: true }`: the key exists (update).
 * - `undefined`: nothing (overwrite).
 */
export type Condition =
  | { readonly modifiedIndex: number }
  | { readonly absent: true }
  | { readonly present: true }
  | undefined;

/** Options of a write. */
export interface PutOptions {
  condition?: Condition;
  /** Seconds to live (where `capabilities.ttl`); `null` removes a TTL. */
  ttl?: number | null;
  /** The lease the key lives by; it goes when the lease is lost or revoked. */
  lease?: Lease;
  signal?: AbortSignal;
}

/** Options of {@linkcode Store.remove}. */
export interface RemoveOptions {
  condition?: Condition;
  /**
   * For an explicit directory: `"empty"` removes it only if it holds
   * nothing; `"recursive"` removes it with everything in it.
   */
  dir?: "empty" | "recursive";
  signal?: AbortSignal;
}

/** What a write did: its index and the path it wrote. */
export interface Written {
  index: number;
  path: string;
}

/** One write of a transaction: a value put, or (without one) a key removed. */
export interface TxnWrite {
  /** The path below the subtree. */
  readonly path: string;
  /** The value to put; absent: the key is removed. */
  readonly value?: string | Uint8Array;
  /** What must hold of this key for the transaction to happen. */
  readonly condition?: Condition;
  /** Seconds to live (a put). */
  readonly ttl?: number;
  /** The lease the key lives by (a put). */
  readonly lease?: Lease;
}

/** What a transaction did: its index, or which conditions did not hold. */
export type Committed =
  | { readonly ok: true; readonly index: number }
  | {
    readonly ok: false;
    /** Every write whose condition did not hold, and how. */
    readonly failed: readonly {
      readonly path: string;
      readonly kind: "compare failed" | "exists" | "not found";
    }[];
  };

/** A named subtree of a store: what every operation is relative to. */
export interface Subtree {
  /** The subtree's key as the protocol spells it, such as `"/app"`. */
  readonly key: string;
  /** The full key of a path below the subtree, for messages. */
  keyOf(path: string): string;
}

/**
 * Keys that live as long as their holder keeps the lease alive: refreshed
 * in the background until revoked or abandoned; if no refresh succeeds
 * before the lease could expire on etcd, or a key is found gone, the lease
 * is lost.
 */
export interface Lease extends AsyncDisposable {
  /** An id for messages (v3: the lease ID). */
  readonly id: string;
  /** Seconds to live without a refresh. */
  readonly ttl: number;
  /** Resolves with the reason if the lease is lost (never, if revoked). */
  readonly lost: Promise<Error>;
  /** Aborted with the reason if the lease is lost. */
  readonly signal: AbortSignal;
  /** Whether the lease is still held. */
  readonly active: boolean;
  /** Ends the lease now: its keys are deleted. */
  revoke(): Promise<void>;
  /** Stops refreshing: the keys go when the TTL runs out. */
  abandon(): void;
}

/** The operations that the tree, the tools and the recipes need from etcd. */
export interface Store {
  readonly capabilities: Capabilities;
  /**
   * Names a subtree: a key given as a string of segments joined by `/` or
   * as segments.
   *
   * @throws {TypeError} When the protocol cannot hold such a key.
   */
  subtree(prefix: string | readonly string[], what?: string): Subtree;
  /**
   * Reads a subtree at one index: now, or (v3) as it was at `revision`.
   */
  snapshot(
    subtree: Subtree,
    options?: SnapshotOptions,
  ): Promise<Snapshot>;
  /** Whether the subtree holds anything (cheaper than a snapshot). */
  exists(
    subtree: Subtree,
    options?: { signal?: AbortSignal },
  ): Promise<boolean>;
  /** Follows a subtree's changes from index `from` on (or from now). */
  follow(
    subtree: Subtree,
    from: number | undefined,
    options?: FollowOptions,
  ): ChangeStream;
  /** Writes a value. */
  put(
    subtree: Subtree,
    path: string,
    value: string | Uint8Array,
    options?: PutOptions,
  ): Promise<Written>;
  /** Removes a key (with `dir`, an explicit directory). */
  remove(
    subtree: Subtree,
    path: string,
    options?: RemoveOptions,
  ): Promise<Written>;
  /**
   * Creates an explicit directory, or with `present` changes its TTL (where
   * `capabilities.directories`).
   */
  mkdir(
    subtree: Subtree,
    path: string,
    options?: PutOptions,
  ): Promise<Written>;
  /**
   * Creates a key with a new name below `path`, as a contender of a lock
   * or an election: v2 makes an in-order key (its name sorts after every
   * name made before), elsewhere the key is named after the lease.
   */
  createUnique(
    subtree: Subtree,
    path: string,
    value: string,
    options?: PutOptions,
  ): Promise<Written>;
  /**
   * Writes several keys at once, all or nothing, each under its condition
   * (where `capabilities.maxTxnOps` is not 0, and up to it).
   */
  commit(
    subtree: Subtree,
    writes: readonly TxnWrite[],
    options?: { signal?: AbortSignal },
  ): Promise<Committed>;
  /**
   * A key's versions, newest first, at most `limit` (v3; the v2 store keeps
   * no past).
   */
  history(
    subtree: Subtree,
    path: string,
    options?: { limit?: number; signal?: AbortSignal },
  ): Promise<History>;
  /** Seconds left of a lease by its ID (v3); `undefined` when it is gone. */
  leaseTtl(id: string): Promise<number | undefined>;
  /** Grants a lease of `ttl` seconds and keeps it alive. */
  grant(ttl: number): Promise<Lease>;
  /** The size in bytes of the request that writes `value` at `path`. */
  requestSize(
    subtree: Subtree,
    path: string,
    value: string | Uint8Array,
  ): number;
}

/** What a client of any protocol hands to the layers above the seam. */
export const STORE: unique symbol = Symbol("etcd-tree.store");

/** A client that has a store (every client of this library). */
export interface HasStore {
  /** The client's store. */
  readonly [STORE]: Store;
}

/** The store of a client. */
export function storeOf(client: object): Store {
  const store = (client as Partial<HasStore>)?.[STORE];
  if (store === undefined) {
    throw new TypeError(
      "Invalid client: expected a Client of etcd-tree",
    );
  }
  return store;
}

/** An operation the backend cannot do, refused before anything is sent. */
export class Unsupported extends TypeError {
  constructor(protocol: string, what: string, instead: string) {
    super(`Cannot ${what} with etcd's ${protocol} API: ${instead}`);
    this.name = "Unsupported";
  }

  get [KIND](): ErrorKind {
    return "unsupported";
  }
}
