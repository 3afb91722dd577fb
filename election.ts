/**
 * Leader election on etcd: candidates queue as keys under a prefix; the
 * oldest leads. Built like {@linkcode Lock}: a candidate watches only the
 * one before it, refreshes its lease every third of the TTL, and learns when
 * it lost its place. On etcd v3 it is the election of etcd's Go recipes and
 * `etcdctl elect` (the prefix is the name, each candidate
 * `<name>/<lease ID in hex>`, its value the proposal), so `etcdctl elect
 * --listen NAME` sees the leader elected here, and the other way round; on
 * v2 candidates are in-order keys under `/_elections/<name>`.
 *
 * @example Usage
 * ```ts
 * import { Client, Election } from "@etcd-tree/etcd-tree/v2";
 * import { startEtcd } from "@etcd-tree/etcd-tree/testing";
 * import assert from "node:assert/strict";
 *
 * await using etcd = await startEtcd();
 * await using client = new Client({ endpoints: etcd.endpoint });
 * await using election = new Election(client, "scheduler", { ttl: 5 });
 * await election.campaign("worker-7");
 * assert.equal(await election.leader(), "worker-7");
 * ```
 *
 * @module
 */

import type { EtcdClient } from "./client.ts";
import { errorKind } from "./_core/kinds.ts";
import { type Store, storeOf, type Subtree } from "./_core/store.ts";
import {
  checkTtl,
  claimFirst,
  defaultPrefix,
  listContenders,
  type Loss,
  lossOf,
  NO_LOSS,
  type Place,
} from "./_recipes/contenders.ts";

/** Options of {@linkcode Election}. */
export interface ElectionOptions {
  /** Seconds a leader that stops refreshing keeps leading. Default: 30. */
  ttl?: number;
  /** The queue's prefix. Default: the name (v3), `/_elections/<name>` (v2). */
  prefix?: string;
}

/**
 * Leadership was lost: the candidate's key expired or was deleted, or could
 * not be refreshed before it could have expired.
 *
 * @example Usage
 * ```ts
 * import type { Election } from "@etcd-tree/etcd-tree/v2";
 *
 * async function usage(election: Election) {
 *   const lost = await election.lost;
 *   console.error(lost instanceof LeadershipLost);
 * }
 * ```
 */
export class LeadershipLost extends Error {
  /**
   * Constructs the error.
   *
   * @param name The election's name.
   * @param cause Why.
   */
  constructor(name: string, cause: unknown) {
    super(
      `Lost the leadership of ${JSON.stringify(name)}: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { cause },
    );
    this.name = "LeadershipLost";
  }
}

/**
 * One candidate of an election, and a view of who leads.
 *
 * @example Usage
 * ```ts
 * import { Client, Election } from "@etcd-tree/etcd-tree/v2";
 *
 * async function usage() {
 *   await using client = new Client();
 *   const election = new Election(client, "scheduler");
 *   for await (const leader of election.observe()) console.log("leader:", leader);
 * }
 * ```
 */
export class Election implements AsyncDisposable {
  /** The election's name. */
  readonly name: string;
  /** The queue's directory, such as `"/_elections/scheduler"`. */
  readonly prefix: string;
  readonly #store: Store;
  readonly #queue: Subtree;
  readonly #ttl: number;
  #place: Place | undefined;
  #leading = false;
  #loss: Loss<LeadershipLost> = NO_LOSS;

  /**
   * Prepares a candidate; nothing is written until it campaigns.
   *
   * @param client The client.
   * @param name The election's name.
   * @param options `ttl` and `prefix`.
   */
  constructor(
    client: EtcdClient,
    name: string,
    options: ElectionOptions = {},
  ) {
    this.#store = storeOf(client);
    this.name = name;
    this.#queue = this.#store.subtree(
      options.prefix ?? defaultPrefix(this.#store, "_elections", name),
      "election prefix",
    );
    this.prefix = this.#queue.key;
    this.#ttl = checkTtl(options.ttl ?? 30);
  }

  /**
   * While leading: the create revision (v2: index) of the leader's key, a
   * number that grows with every leader (a fencing token).
   */
  get fencingToken(): number | undefined {
    return this.leading ? this.#place?.createdIndex : undefined;
  }

  /** This candidate's key, while it is one. */
  get key(): string | undefined {
    return this.#place?.key;
  }

  /** Whether this candidate leads now. */
  get leading(): boolean {
    return this.#leading && this.#place?.active === true;
  }

  /** Resolves with a {@linkcode LeadershipLost} if leadership is lost. */
  get lost(): Promise<LeadershipLost> {
    return this.#loss.lost;
  }

  /** Aborted, with the {@linkcode LeadershipLost}, if leadership is lost. */
  get signal(): AbortSignal {
    return this.#loss.signal;
  }

  /**
   * Stands as a candidate with `value` and resolves once it leads.
   *
   * @param value What the leader publishes, such as its address.
   * @param options A signal: gives up (and withdraws) when it aborts.
   *
   * @example Usage
   * ```ts
   * import type { Election } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(election: Election) {
   *   await election.campaign("10.0.0.7:8080");
   * }
   * ```
   */
  async campaign(
    value: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    if (this.#place !== undefined) {
      throw new Error(
        `Cannot campaign in ${JSON.stringify(this.name)}: already a candidate`,
      );
    }
    let place: Place;
    try {
      place = await claimFirst(
        this.#store,
        this.#queue,
        value,
        this.#ttl,
        options.signal ?? NO_LOSS.signal,
        (joined) => this.#place = joined,
      );
    } catch (error) {
      this.#place = undefined;
      throw error;
    }
    this.#leading = true;
    this.#loss = lossOf(
      place,
      (reason) => new LeadershipLost(this.name, reason),
    );
  }

  /**
   * Steps down (or withdraws): the next candidate leads at once.
   *
   * @example Usage
   * ```ts
   * import type { Election } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(election: Election) {
   *   await election.resign();
   * }
   * ```
   */
  async resign(): Promise<void> {
    const place = this.#place;
    this.#place = undefined;
    this.#leading = false;
    await place?.leave();
  }

  /**
   * The current leader's value.
   *
   * @param options A signal.
   * @returns The value, or `undefined` when nobody leads.
   *
   * @example Usage
   * ```ts
   * import type { Election } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(election: Election) {
   *   console.log(await election.leader());
   * }
   * ```
   */
  async leader(options: { signal?: AbortSignal } = {}): Promise<
    string | undefined
  > {
    const { entries } = await listContenders(
      this.#store,
      this.#queue,
      options.signal,
    );
    return entries[0]?.value;
  }

  /**
   * The leader's value now, then each time it changes (`undefined` while
   * nobody leads), until the signal aborts or the loop is left.
   *
   * @param options A signal.
   * @returns An async iterator of leader values.
   *
   * @example Usage
   * ```ts
   * import type { Election } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(election: Election) {
   *   for await (const leader of election.observe()) console.log(leader);
   * }
   * ```
   */
  async *observe(
    options: { signal?: AbortSignal } = {},
  ): AsyncIterableIterator<string | undefined> {
    const signal = options.signal;
    let last:
      | { value: string | undefined; path: string | undefined }
      | undefined;
    for (;;) {
      signal?.throwIfAborted();
      const { entries, index } = await listContenders(
        this.#store,
        this.#queue,
        signal,
      );
      const first = entries[0];
      if (last === undefined || last.path !== first?.path) {
        last = { value: first?.value, path: first?.path };
        yield last.value;
      }
      const stream = this.#store.follow(this.#queue, index + 1);
      const stop = () => void stream.close();
      signal?.addEventListener("abort", stop, { once: true });
      try {
        for await (const _ of stream) {
          const now = await listContenders(this.#store, this.#queue, signal);
          const head = now.entries[0];
          if (last.path !== head?.path) {
            last = { value: head?.value, path: head?.path };
            yield last.value;
          }
        }
        signal?.throwIfAborted();
        return; // closed
      } catch (error) {
        // History lost: list again and follow from there.
        if (errorKind(error) !== "history lost") throw error;
      } finally {
        signal?.removeEventListener("abort", stop);
        await stream.close();
      }
    }
  }

  /**
   * Resigns, for `await using`.
   *
   * @example Usage
   * ```ts
   * import type { Client } from "@etcd-tree/etcd-tree/v2";
   * async function usage(client: Client) {
   *   {
   *     await using election = new Election(client, "scheduler");
   *     await election.campaign("me");
   *   } // resigned here
   * }
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.resign();
  }
}
