/**
 * Keeps a key alive: writes it with a TTL and refreshes the TTL (without
 * telling watchers) until stopped. A process announcing itself this way
 * disappears from etcd within its TTL when it dies.
 *
 * @example Usage
 * ```ts
 * import { Client, keepAlive } from "@etcd-tree/etcd-tree/v2";
 * import { startEtcd } from "@etcd-tree/etcd-tree/testing";
 * import assert from "node:assert/strict";
 *
 * await using etcd = await startEtcd();
 * await using client = new Client({ endpoints: etcd.endpoint });
 * await using alive = await keepAlive(client, "services/api/host-7", "10.0.0.7:8080", { ttl: 10 });
 * assert.equal((await client.get("services/api/host-7")).node.ttl, 10);
 * alive.signal.addEventListener("abort", () => console.error(alive.signal.reason));
 * ```
 *
 * @module
 */

import type { EtcdClient, Key } from "./client.ts";
import {
  type ChangeStream,
  type Lease,
  type Store,
  storeOf,
  type Subtree,
  type Written,
} from "./_core/store.ts";
import { checkTtl } from "./_recipes/contenders.ts";
import { guardKey } from "./_recipes/guard.ts";

/** Options of {@linkcode keepAlive}. */
export interface KeepAliveOptions {
  /** Seconds the key lives without a refresh. Default: 10. */
  ttl?: number;
  /** Aborts the first write. */
  signal?: AbortSignal;
}

/** Makes a {@linkcode KeepAlive}; set by its class, for keepAlive() only. */
let keptAlive: (
  store: Store,
  subtree: Subtree,
  written: Written,
  lease: Lease,
) => KeepAlive;

/**
 * A key kept alive by {@linkcode keepAlive}. Closing it stops the refreshes;
 * the key then expires after its TTL.
 *
 * @example Usage
 * ```ts
 * import type { Client } from "@etcd-tree/etcd-tree/v2";
 * async function usage(client: Client) {
 *   const alive = await keepAlive(client, "workers/7", "up", { ttl: 5 });
 *   await alive.close(); // gone within 5 s
 * }
 * ```
 */
export class KeepAlive implements AsyncDisposable {
  /** The key, such as `"/services/api/host-7"`. */
  readonly key: string;
  readonly #lease: Lease;
  readonly #lost: Promise<Error>;
  readonly #controller = new AbortController();
  readonly #guard: ChangeStream | undefined;

  static {
    keptAlive = (store, subtree, written, lease) =>
      new KeepAlive(store, subtree, written, lease);
  }

  private constructor(
    store: Store,
    subtree: Subtree,
    written: Written,
    lease: Lease,
  ) {
    this.key = subtree.key;
    this.#lease = lease;
    let lose!: (reason: Error) => void;
    const lost = new Promise<Error>((resolve) => lose = resolve);
    lease.lost.then(lose);
    this.#guard = guardKey(store, subtree, "", written.index + 1, lose);
    this.#lost = lost.then((reason) => {
      const error = new Error(`Lost ${this.key}: ${reason.message}`, {
        cause: reason,
      });
      lease.abandon();
      void this.#guard?.close();
      this.#controller.abort(error);
      return error;
    });
  }

  /**
   * Resolves with the reason if the key is lost: deleted, expired, or not
   * refreshed before it could have expired.
   */
  get lost(): Promise<Error> {
    return this.#lost;
  }

  /** Aborted, with the reason, if the key is lost. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * Stops refreshing; the key expires after its TTL.
   *
   * @example Usage
   * ```ts
   * import type { KeepAlive } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(alive: KeepAlive) {
   *   await alive.close();
   * }
   * ```
   */
  async close(): Promise<void> {
    this.#lease.abandon();
    await this.#guard?.close();
  }

  /**
   * Stops refreshing, for `await using`.
   *
   * @example Usage
   * ```ts
   * import type { Client } from "@etcd-tree/etcd-tree/v2";
   * async function usage(client: Client) {
   *   {
   *     await using alive = await keepAlive(client, "workers/7", "up");
   *   } // refreshes stop here
   * }
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Writes `value` at `key` with a TTL (creating the key or taking it over)
 * and refreshes the TTL every third of it until the returned
 * {@linkcode KeepAlive} is closed.
 *
 * @param client The client.
 * @param key The key.
 * @param value The value.
 * @param options `ttl` (seconds, default 10) and a signal.
 * @returns The running keep-alive.
 *
 * @example Usage
 * ```ts
 * import type { Client } from "@etcd-tree/etcd-tree/v2";
 * async function usage(client: Client) {
 *   await using alive = await keepAlive(client, "workers/7", "up", { ttl: 5 });
 * }
 * ```
 */
export async function keepAlive(
  client: EtcdClient,
  key: Key,
  value: string,
  options: KeepAliveOptions = {},
): Promise<KeepAlive> {
  const ttl = checkTtl(options.ttl ?? 10);
  const store = storeOf(client);
  const subtree = store.subtree(key, "key");
  const lease = await store.grant(ttl);
  let written: Written;
  try {
    written = await store.put(
      subtree,
      "",
      value,
      options.signal ? { lease, signal: options.signal } : { lease },
    );
  } catch (error) {
    lease.abandon();
    throw error;
  }
  return keptAlive(store, subtree, written, lease);
}
