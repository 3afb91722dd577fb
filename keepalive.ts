/**
 * Keeps a key alive: writes it with a TTL and refreshes the TTL (without
 * telling watchers) until stopped. A process announcing itself this way
 * disappears from etcd within its TTL when it dies.
 *
 * @example Usage
 * ```ts ignore
 * import { Client, keepAlive } from "@etcd-tree/etcd-tree";
 *
 * await using client = new Client();
 * await using alive = await keepAlive(client, "services/api/host-7", "10.0.0.7:8080", { ttl: 10 });
 * alive.signal.addEventListener("abort", () => console.error(alive.signal.reason));
 * ```
 *
 * @module
 */

import type { Client } from "./client.ts";
import type { Key } from "./_keys.ts";
import { checkTtl, Place } from "./_queue.ts";

/** Options of {@linkcode keepAlive}. */
export interface KeepAliveOptions {
  /** Seconds the key lives without a refresh. Default: 10. */
  ttl?: number;
  /** Aborts the first write. */
  signal?: AbortSignal;
}

/**
 * A key kept alive by {@linkcode keepAlive}. Closing it stops the refreshes;
 * the key then expires after its TTL.
 *
 * @example Usage
 * ```ts ignore
 * const alive = await keepAlive(client, "workers/7", "up", { ttl: 5 });
 * await alive.close(); // gone within 5 s
 * ```
 */
export class KeepAlive implements AsyncDisposable {
  /** The key, such as `"/services/api/host-7"`. */
  readonly key: string;
  readonly #place: Place;

  /**
   * Wraps a refresher. Use {@linkcode keepAlive}.
   *
   * @param key The key.
   * @param place The refresher.
   */
  constructor(key: string, place: Place) {
    this.key = key;
    this.#place = place;
  }

  /**
   * Resolves with the reason if the key is lost: deleted, expired, or not
   * refreshed for a whole TTL.
   */
  get lost(): Promise<Error> {
    return this.#place.lost;
  }

  /** Aborted, with the reason, if the key is lost. */
  get signal(): AbortSignal {
    return this.#place.signal;
  }

  /**
   * Stops refreshing; the key expires after its TTL.
   *
   * @example Usage
   * ```ts ignore
   * await alive.close();
   * ```
   */
  close(): Promise<void> {
    this.#place.stop();
    return Promise.resolve();
  }

  /**
   * Stops refreshing, for `await using`.
   *
   * @example Usage
   * ```ts ignore
   * {
   *   await using alive = await keepAlive(client, "workers/7", "up");
   * } // refreshes stop here
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
 * ```ts ignore
 * await using alive = await keepAlive(client, "workers/7", "up", { ttl: 5 });
 * ```
 */
export async function keepAlive(
  client: Client,
  key: Key,
  value: string,
  options: KeepAliveOptions = {},
): Promise<KeepAlive> {
  const ttl = checkTtl(options.ttl ?? 10);
  const written = await client.set(
    key,
    value,
    options.signal ? { ttl, signal: options.signal } : { ttl },
  );
  const node = written.node;
  return new KeepAlive(
    node.key,
    Place.keep(client, node.key, node.createdIndex, ttl),
  );
}
