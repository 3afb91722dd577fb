/**
 * A fair, advisory lock on etcd.
 *
 * Contenders queue as keys under a prefix; the oldest key holds the lock.
 * Each waiter watches only the key just before its own, so a release wakes
 * exactly one. Keys live by a lease that the holder refreshes every third
 * of its TTL: a holder that dies frees the lock when its TTL runs out, and
 * a holder that cannot refresh in time (or whose key someone deletes)
 * learns that it lost the lock: no later than its key could expire on
 * etcd, counted from when its last successful refresh was sent.
 *
 * On etcd v3 the lock is the one of etcd's own Go recipes
 * (`go.etcd.io/etcd/client/v3/concurrency`) and `etcdctl lock`: the prefix
 * is the lock's name, each contender is `<name>/<lease ID in hex>`, ordered
 * by create revision; so a `Lock` here and `etcdctl lock NAME` (or a Go
 * service) exclude each other. On v2 contenders are in-order keys under a
 * hidden directory, `/_locks/<name>`.
 *
 * @example Usage
 * ```ts
 * import { Client, Lock } from "@etcd-tree/etcd-tree/v2";
 * import { startEtcd } from "@etcd-tree/etcd-tree/testing";
 * import assert from "node:assert/strict";
 *
 * await using etcd = await startEtcd();
 * await using client = new Client({ endpoints: etcd.endpoint });
 * await using lock = new Lock(client, "nightly-report", { ttl: 10 });
 * await lock.acquire({ timeout: 30_000 });
 * assert.ok(lock.held); // work, checking lock.signal (aborted if lost)
 * await lock.release();
 * ```
 *
 * @module
 */

import type { EtcdClient } from "./client.ts";
import { type Store, storeOf, type Subtree } from "./_core/store.ts";
import {
  checkTtl,
  claimFirst,
  defaultPrefix,
  listContenders,
  type Loss,
  lossOf,
  NO_LOSS,
  Place,
} from "./_recipes/contenders.ts";

/** Options of {@linkcode Lock}. */
export interface LockOptions {
  /** Seconds a holder that stops refreshing keeps the lock. Default: 30. */
  ttl?: number;
  /** The queue's prefix. Default: the name (v3), `/_locks/<name>` (v2). */
  prefix?: string;
  /** Stored in the queue key, for people looking at etcd. Default: a random id. */
  value?: string;
}

/** Options of {@linkcode Lock.acquire}. */
export interface AcquireOptions {
  /** Gives up waiting (and leaves the queue). */
  signal?: AbortSignal;
  /** Milliseconds to wait at most. */
  timeout?: number;
}

/**
 * The lock was lost while held: its key expired or was deleted, or it could
 * not be refreshed before it could have expired.
 *
 * @example Usage
 * ```ts
 * import type { Lock } from "@etcd-tree/etcd-tree/v2";
 *
 * async function usage(lock: Lock) {
 *   const lost = await lock.lost;
 *   console.error(lost instanceof LockLost, lost.message);
 * }
 * ```
 */
export class LockLost extends Error {
  /**
   * Constructs the error.
   *
   * @param name The lock's name.
   * @param cause Why.
   */
  constructor(name: string, cause: unknown) {
    super(
      `Lost the lock ${JSON.stringify(name)}: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { cause },
    );
    this.name = "LockLost";
  }
}

/**
 * A fair, advisory lock. One `Lock` object is one contender; it can be
 * acquired and released again and again.
 *
 * @example Usage
 * ```ts
 * import { Client, Lock } from "@etcd-tree/etcd-tree/v2";
 *
 * async function usage() {
 *   await using client = new Client();
 *   const lock = new Lock(client, "jobs");
 *   if (await lock.tryAcquire()) {
 *     try {
 *       // ... exclusive work ...
 *     } finally {
 *       await lock.release();
 *     }
 *   }
 * }
 * ```
 */
export class Lock implements AsyncDisposable {
  /** The lock's name. */
  readonly name: string;
  /** The queue's directory, such as `"/_locks/jobs"`. */
  readonly prefix: string;
  readonly #store: Store;
  readonly #queue: Subtree;
  readonly #ttl: number;
  readonly #value: string;
  #place: Place | undefined;
  #held = false;
  #loss: Loss<LockLost> = NO_LOSS;

  /**
   * Prepares a contender; nothing is written until it acquires.
   *
   * @param client The client.
   * @param name The lock's name.
   * @param options `ttl`, `prefix` and `value`.
   * @throws {TypeError} When the name or prefix is not a valid key.
   * @throws {RangeError} When the TTL is not a whole number of seconds >= 1.
   */
  constructor(client: EtcdClient, name: string, options: LockOptions = {}) {
    this.#store = storeOf(client);
    this.name = name;
    this.#queue = this.#store.subtree(
      options.prefix ?? defaultPrefix(this.#store, "_locks", name),
      "lock prefix",
    );
    this.prefix = this.#queue.key;
    this.#ttl = checkTtl(options.ttl ?? 30);
    this.#value = options.value ?? crypto.randomUUID();
  }

  /** Whether this contender holds the lock now. */
  get held(): boolean {
    return this.#held && this.#place?.active === true;
  }

  /**
   * Resolves with a {@linkcode LockLost} if the lock is lost while held
   * (never, if it is released first).
   */
  get lost(): Promise<LockLost> {
    return this.#loss.lost;
  }

  /** Aborted, with the {@linkcode LockLost}, if the lock is lost while held. */
  get signal(): AbortSignal {
    return this.#loss.signal;
  }

  /** The key of this contender's place in the queue, while it has one. */
  get key(): string | undefined {
    return this.#place?.key;
  }

  /**
   * A number that grows with every holder, for the systems the lock
   * guards to refuse a stale holder's writes: the create revision (v2:
   * index) of this contender's key; `undefined` unless held. On v3, a
   * transaction can make a write conditional on still holding the lock
   * with `compare.held(lock)`.
   */
  get fencingToken(): number | undefined {
    return this.held ? this.#place?.createdIndex : undefined;
  }

  /**
   * Waits for the lock, first come, first served.
   *
   * @param options A signal and a timeout; either leaves the queue and
   *   rejects (with the signal's reason, or a `TimeoutError`).
   *
   * @example Usage
   * ```ts
   * import type { Lock } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(lock: Lock) {
   *   await lock.acquire({ timeout: 5000 });
   * }
   * ```
   */
  async acquire(options: AcquireOptions = {}): Promise<void> {
    if (this.#held) {
      throw new Error(
        `Cannot acquire the lock ${
          JSON.stringify(this.name)
        }: it is held already`,
      );
    }
    const signals: AbortSignal[] = [];
    if (options.signal) signals.push(options.signal);
    if (options.timeout !== undefined) {
      signals.push(AbortSignal.timeout(options.timeout));
    }
    let place: Place;
    try {
      place = await claimFirst(
        this.#store,
        this.#queue,
        this.#value,
        this.#ttl,
        AbortSignal.any(signals),
        (joined) => this.#place = joined,
      );
    } catch (error) {
      this.#place = undefined;
      throw error;
    }
    this.#hold(place);
  }

  /**
   * Takes the lock if nobody holds it or waits for it, without waiting.
   *
   * @returns Whether the lock is now held.
   *
   * @example Usage
   * ```ts
   * import type { Lock } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(lock: Lock) {
   *   if (!(await lock.tryAcquire())) console.log("busy");
   * }
   * ```
   */
  async tryAcquire(): Promise<boolean> {
    if (this.#held) return true;
    const place = await Place.join(
      this.#store,
      this.#queue,
      this.#value,
      this.#ttl,
    );
    this.#place = place;
    const { entries } = await listContenders(this.#store, this.#queue);
    if (place.predecessor(entries) !== undefined) {
      this.#place = undefined;
      await place.leave();
      return false;
    }
    this.#hold(place);
    return true;
  }

  /**
   * Releases the lock (or leaves the queue); the next in line gets it.
   *
   * @example Usage
   * ```ts
   * import type { Lock } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(lock: Lock) {
   *   await lock.release();
   * }
   * ```
   */
  async release(): Promise<void> {
    const place = this.#place;
    this.#place = undefined;
    this.#held = false;
    await place?.leave();
  }

  /**
   * Releases the lock, for `await using`.
   *
   * @example Usage
   * ```ts
   * import type { Client } from "@etcd-tree/etcd-tree/v2";
   * async function usage(client: Client) {
   *   {
   *     await using lock = new Lock(client, "jobs");
   *     await lock.acquire();
   *   } // released here
   * }
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  #hold(place: Place): void {
    this.#held = true;
    this.#loss = lossOf(place, (reason) => new LockLost(this.name, reason));
  }
}
