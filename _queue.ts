// A place in a fair queue of in-order keys under one directory, kept alive
// by refreshing its TTL: what Lock and Election are made of. Internal.

import type { Client } from "./client.ts";
import { EventIndexCleared, KeyNotFound } from "./errors.ts";
import { Directory, type Value } from "./results.ts";

/** The queue's entries, oldest first, and the store index of the listing. */
export async function listQueue(
  client: Client,
  dir: string,
  signal?: AbortSignal,
): Promise<{ entries: Value[]; index: number }> {
  try {
    const options = signal ? { sorted: true, signal } : { sorted: true };
    const { node, etcdIndex } = await client.get(dir, options);
    const entries = node instanceof Directory
      ? node.children.filter((child): child is Value => !child.dir)
      : [];
    return { entries, index: etcdIndex };
  } catch (error) {
    if (error instanceof KeyNotFound) {
      return { entries: [], index: error.index };
    }
    throw error;
  }
}

/** Why a held place was lost. */
export class PlaceLost extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PlaceLost";
  }
}

/**
 * One entry in the queue: created by `join()`, refreshed every third of its
 * TTL until `leave()`. If the key is gone, or cannot be refreshed for longer
 * than its TTL, `lost` resolves and `signal` aborts.
 */
export class Place {
  readonly key: string;
  readonly createdIndex: number;
  readonly #client: Client;
  readonly #ttl: number;
  readonly #controller = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #refreshed = performance.now();
  #left = false;
  #resolveLost!: (error: Error) => void;
  readonly lost: Promise<Error>;

  private constructor(client: Client, key: string, index: number, ttl: number) {
    this.#client = client;
    this.key = key;
    this.createdIndex = index;
    this.#ttl = ttl;
    this.lost = new Promise((resolve) => this.#resolveLost = resolve);
    this.#schedule();
  }

  /** Keeps an existing key alive (keepAlive). */
  static keep(
    client: Client,
    key: string,
    index: number,
    ttl: number,
  ): Place {
    return new Place(client, key, index, ttl);
  }

  /** Joins the queue in `dir` with `value`. */
  static async join(
    client: Client,
    dir: string,
    value: string,
    ttl: number,
  ): Promise<Place> {
    const created = await client.append(dir, value, { ttl });
    return new Place(client, created.node.key, created.index, ttl);
  }

  /** Aborted when the place is lost (not when it is left). */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Whether the place is still held. */
  get active(): boolean {
    return !this.#left && !this.#controller.signal.aborted;
  }

  /** Position among `entries`: the entry just before ours, or none if first. */
  predecessor(entries: readonly Value[]): Value | undefined | null {
    const at = entries.findIndex((entry) => entry.key === this.key);
    if (at < 0) return null; // gone
    return at === 0 ? undefined : entries[at - 1];
  }

  /**
   * Waits until this place is the first of the queue. Watches only the
   * entry just before it, so a release wakes one waiter.
   */
  async waitFirst(dir: string, signal: AbortSignal): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      if (!this.active) throw this.#lostError();
      const { entries, index } = await listQueue(this.#client, dir, signal);
      const before = this.predecessor(entries);
      if (before === null) {
        this.#lose(new PlaceLost(`Lost ${this.key}: the key is gone`));
        throw this.#lostError();
      }
      if (before === undefined) return;
      try {
        // The next change of the predecessor: its delete or expiry (refreshes
        // are not reported).
        await this.#client.wait(before.key, {
          waitIndex: index + 1,
          signal: AbortSignal.any([signal, this.#controller.signal]),
        });
      } catch (error) {
        // History lost while waiting: list again, never loop on the error.
        if (!(error instanceof EventIndexCleared)) {
          if (this.#controller.signal.aborted) throw this.#lostError();
          throw error;
        }
      }
    }
  }

  /** Stops refreshing; the key expires after its TTL. */
  stop(): void {
    this.#left = true;
    clearTimeout(this.#timer);
  }

  /** Leaves the queue: stops refreshing and deletes the key. */
  async leave(): Promise<void> {
    if (this.#left) return;
    this.stop();
    try {
      await this.#client.delete(this.key);
    } catch (error) {
      if (!(error instanceof KeyNotFound)) throw error;
    }
  }

  #lostError(): Error {
    const reason = this.#controller.signal.reason;
    return reason instanceof Error ? reason : new PlaceLost(`Lost ${this.key}`);
  }

  #lose(error: Error): void {
    if (this.#controller.signal.aborted) return;
    clearTimeout(this.#timer);
    this.#controller.abort(error);
    this.#resolveLost(error);
  }

  #schedule(): void {
    this.#timer = setTimeout(() => void this.#refresh(), this.#ttl * 1000 / 3);
  }

  async #refresh(): Promise<void> {
    if (this.#left) return;
    try {
      await this.#client.refresh(this.key, this.#ttl);
      this.#refreshed = performance.now();
    } catch (error) {
      if (this.#left) return;
      if (error instanceof KeyNotFound) {
        this.#lose(
          new PlaceLost(`Lost ${this.key}: it expired or was deleted`, {
            cause: error,
          }),
        );
        return;
      }
      if (performance.now() - this.#refreshed >= this.#ttl * 1000) {
        this.#lose(
          new PlaceLost(
            `Lost ${this.key}: it could not be refreshed for its TTL of ${this.#ttl} s`,
            { cause: error },
          ),
        );
        return;
      }
    }
    if (!this.#left && !this.#controller.signal.aborted) this.#schedule();
  }
}

/**
 * Joins the queue in `dir` and waits to be its first; if the wait fails,
 * leaves it again. `joined` learns the place as soon as it exists, so that
 * a release during the wait can leave it. The join itself is not aborted
 * half way: a key written by an abandoned request would stay in the queue,
 * ahead of later ones, until its TTL ran out.
 */
export async function claimFirst(
  client: Client,
  dir: string,
  value: string,
  ttl: number,
  signal: AbortSignal,
  joined: (place: Place) => void,
): Promise<Place> {
  signal.throwIfAborted();
  const place = await Place.join(client, dir, value, ttl);
  joined(place);
  try {
    signal.throwIfAborted();
    await place.waitFirst(dir, signal);
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

/** Checks a TTL in whole seconds. */
export function checkTtl(ttl: number): number {
  if (!Number.isInteger(ttl) || ttl < 1) {
    throw new RangeError(
      `Invalid ttl ${ttl}: expected a whole number of seconds >= 1`,
    );
  }
  return ttl;
}
