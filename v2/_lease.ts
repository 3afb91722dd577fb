// A lease on etcd's v2 API, which has none: the keys written under it carry
// its TTL, and the lease refreshes them every third of it (a refresh, which
// watchers are not told of). Internal.

import { Keeper } from "../_core/keeper.ts";
import type { Lease } from "../_core/store.ts";
import type { Client } from "./_client.ts";
import { KeyNotFound } from "./_errors.ts";
import { keyString } from "./_keys.ts";

/** Why a lease was lost. */
export class LeaseLost extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LeaseLost";
  }
}

/** The v2 lease: a TTL shared by the keys attached to it. */
export class V2Lease implements Lease {
  readonly id: string = crypto.randomUUID();
  readonly ttl: number;
  readonly #client: Client;
  readonly #keys = new Map<string, readonly string[]>();
  readonly #keeper: Keeper;

  constructor(client: Client, ttl: number) {
    this.#client = client;
    this.ttl = ttl;
    this.#keeper = new Keeper(
      ttl,
      () => this.#refresh(),
      (cause) =>
        new LeaseLost(
          `it could not be refreshed in time for its TTL of ${ttl} s`,
          {
            cause,
          },
        ),
    );
  }

  get lost(): Promise<Error> {
    return this.#keeper.lost;
  }

  get signal(): AbortSignal {
    return this.#keeper.signal;
  }

  get active(): boolean {
    return this.#keeper.active;
  }

  /**
   * Keeps a key written with the lease's TTL alive from now on.
   *
   * @param since `performance.now()` when its write was sent: the key
   *   lives its TTL from then at least.
   */
  attach(segments: readonly string[], since: number): void {
    if (!this.active) return;
    this.#keys.set(keyString(segments), segments);
    this.#keeper.touch(since);
  }

  abandon(): void {
    this.#keeper.end();
  }

  async revoke(): Promise<void> {
    if (this.#keeper.ended) return;
    this.abandon();
    await Promise.all(
      [...this.#keys.values()].map(async (segments) => {
        try {
          await this.#client.delete(segments);
        } catch (error) {
          if (!(error instanceof KeyNotFound)) throw error;
        }
      }),
    );
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.revoke();
  }

  /** Refreshes every key; a key gone means the lease is. */
  async #refresh(): Promise<Error | number> {
    try {
      await Promise.all(
        [...this.#keys.values()].map((segments) =>
          this.#client.refresh(segments, this.ttl)
        ),
      );
    } catch (error) {
      if (!(error instanceof KeyNotFound)) throw error;
      return new LeaseLost(
        `${error.key ?? "a key"}: it expired or was deleted`,
        {
          cause: error,
        },
      );
    }
    return this.ttl;
  }
}
