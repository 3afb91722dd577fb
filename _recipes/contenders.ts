// Contenders of a lock or an election, on the store seam: each is a key
// created under a lease of its own below the queue's prefix; the oldest
// (lowest created index) is first. A waiter follows only the key just
// before its own, so a release wakes one waiter. Internal.

import { errorKind } from "../_core/kinds.ts";
import type {
  ChangeStream,
  Entry,
  Lease,
  Store,
  Subtree,
} from "../_core/store.ts";
import { guardKey } from "./guard.ts";

/** A contender in a queue's listing. */
export interface Contender {
  /** Its path below the queue's prefix. */
  readonly path: string;
  readonly createdIndex: number;
  readonly value: string;
}

/** The queue's contenders, oldest first, and the index of the listing. */
export async function listContenders(
  store: Store,
  queue: Subtree,
  signal?: AbortSignal,
): Promise<{ entries: Contender[]; index: number }> {
  const snapshot = await store.snapshot(queue, signal ? { signal } : {});
  const entries = snapshot.entries
    .filter(isContender)
    .map((entry) => ({
      path: entry.path,
      createdIndex: entry.createdIndex,
      value: typeof entry.value === "string" ? entry.value : "",
    }))
    .sort((a, b) => a.createdIndex - b.createdIndex);
  return { entries, index: snapshot.index };
}

/** A key directly below the queue's prefix. */
function isContender(entry: Entry): boolean {
  return entry.dir !== true && entry.path !== "" && !entry.path.includes("/");
}

/** Why a held place was lost. */
export class PlaceLost extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PlaceLost";
  }
}

/**
 * One contender: its key lives by its lease until `leave()`. If the lease
 * is lost (the key is gone, or cannot be kept for its TTL), `lost`
 * resolves and `signal` aborts.
 */
export class Place {
  readonly path: string;
  readonly createdIndex: number;
  readonly lost: Promise<Error>;
  readonly #store: Store;
  readonly #queue: Subtree;
  readonly #lease: Lease;
  readonly #controller = new AbortController();
  #resolveLost!: (error: Error) => void;
  #gone = false;
  /** Where a lease outlives its key: the watch on our key. */
  #guard: ChangeStream | undefined;

  private constructor(
    store: Store,
    queue: Subtree,
    lease: Lease,
    path: string,
    createdIndex: number,
  ) {
    this.#store = store;
    this.#queue = queue;
    this.#lease = lease;
    this.path = path;
    this.createdIndex = createdIndex;
    this.lost = new Promise((resolve) => this.#resolveLost = resolve);
    lease.lost.then((reason) => this.#lose(reason));
    this.#guard = guardKey(
      store,
      queue,
      path,
      createdIndex + 1,
      (reason) => this.#lose(reason),
    );
  }

  /** Joins the queue with `value`, under a new lease of `ttl` seconds. */
  static async join(
    store: Store,
    queue: Subtree,
    value: string,
    ttl: number,
  ): Promise<Place> {
    const lease = await store.grant(ttl);
    try {
      const written = await store.createUnique(queue, "", value, { lease });
      return new Place(store, queue, lease, written.path, written.index);
    } catch (error) {
      lease.abandon();
      throw error;
    }
  }

  /** The full key, for messages. */
  get key(): string {
    return this.#queue.keyOf(this.path);
  }

  /** Whether the place is still held. */
  get active(): boolean {
    return this.#lease.active && !this.#controller.signal.aborted;
  }

  /** The entry just before ours, `undefined` if first, `null` if we are gone. */
  predecessor(entries: readonly Contender[]): Contender | undefined | null {
    const at = entries.findIndex((entry) => entry.path === this.path);
    if (at < 0) return null;
    return at === 0 ? undefined : entries[at - 1];
  }

  /**
   * Waits until this place is the first of the queue, following only the
   * entry just before it.
   */
  async waitFirst(signal: AbortSignal): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      if (!this.active) throw this.#lostError();
      const { entries, index } = await listContenders(
        this.#store,
        this.#queue,
        signal,
      );
      const before = this.predecessor(entries);
      if (before === null) {
        this.#lose(new Error("the key is gone"));
        throw this.#lostError();
      }
      if (before === undefined) return;
      await this.#nextChangeOf(before.path, index + 1, signal);
    }
  }

  /** Waits for the next change of `path` from `from` on (or history loss). */
  async #nextChangeOf(
    path: string,
    from: number,
    signal: AbortSignal,
  ): Promise<void> {
    const stream = this.#store.follow(this.#queue, from, { only: path });
    const either = AbortSignal.any([signal, this.#controller.signal]);
    const stop = () => void stream.close();
    either.addEventListener("abort", stop, { once: true });
    try {
      for await (const _ of stream) return;
    } catch (error) {
      // History lost while waiting: list again, never loop on the error.
      if (errorKind(error) !== "history lost") throw error;
    } finally {
      either.removeEventListener("abort", stop);
      await stream.close();
    }
    if (this.#controller.signal.aborted) throw this.#lostError();
    signal.throwIfAborted();
  }

  /** Leaves the queue: the key is deleted. */
  async leave(): Promise<void> {
    if (this.#gone) return;
    this.#gone = true;
    await this.#guard?.close();
    await this.#lease.revoke();
  }

  #lostError(): Error {
    const reason = this.#controller.signal.reason;
    return reason instanceof Error ? reason : new PlaceLost(`Lost ${this.key}`);
  }

  #lose(reason: Error): void {
    if (this.#controller.signal.aborted) return;
    const error = new PlaceLost(`Lost ${this.key}: ${reason.message}`, {
      cause: reason,
    });
    this.#controller.abort(error);
    this.#lease.abandon();
    void this.#guard?.close();
    this.#resolveLost(error);
  }
}

/**
 * Joins the queue and waits to be its first; if the wait fails, leaves it
 * again. `joined` learns the place as soon as it exists, so that a release
 * during the wait can leave it. The join itself is not aborted half way: a
 * key written by an abandoned request would stay in the queue, ahead of
 * later ones, until its TTL ran out.
 */
export async function claimFirst(
  store: Store,
  queue: Subtree,
  value: string,
  ttl: number,
  signal: AbortSignal,
  joined: (place: Place) => void,
): Promise<Place> {
  signal.throwIfAborted();
  const place = await Place.join(store, queue, value, ttl);
  joined(place);
  try {
    signal.throwIfAborted();
    await place.waitFirst(signal);
  } catch (error) {
    await place.leave().catch(() => {});
    throw error;
  }
  return place;
}

/** How a holder learns that it lost its place. */
export interface Loss<E extends Error> {
  /** Resolves with the error if the place is lost (never, if it is left). */
  readonly lost: Promise<E>;
  /** Aborted with the error if the place is lost. */
  readonly signal: AbortSignal;
}

/** Nothing held, nothing to lose. */
export const NO_LOSS: Loss<never> = {
  lost: new Promise(() => {}),
  signal: new AbortController().signal,
};

/** The loss of a held place, reported as the holder's own error. */
export function lossOf<E extends Error>(
  place: Place,
  wrap: (reason: Error) => E,
): Loss<E> {
  const controller = new AbortController();
  const lost = place.lost.then((reason) => {
    const error = wrap(reason);
    controller.abort(error);
    return error;
  });
  return { lost, signal: controller.signal };
}

/**
 * Where a recipe's contenders go unless told: on v3 the name itself, as
 * etcd's Go recipes and etcdctl have it; on v2 a hidden directory.
 */
export function defaultPrefix(
  store: Store,
  hidden: string,
  name: string,
): string | string[] {
  return store.capabilities.protocol === "v2" ? [hidden, name] : name;
}

/** Checks a TTL in whole seconds. */
export function checkTtl(ttl: number): number {
  if (!Number.isInteger(ttl) || ttl < 1) {
    throw new RangeError(
      `Invalid ttl ${ttl}: expected a whole number of seconds >= 1`,
    );
  }
  return ttl;
}
