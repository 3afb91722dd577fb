// The schedule a kept lease runs on either protocol: a refresh every third
// of its TTL; lost when etcd says it is gone, when a refresh fails in a way
// that will not pass, or when none succeeded for a whole TTL. Each backend
// says only how to refresh once. Internal.

import { retryable } from "./kinds.ts";

/** Keeps a lease alive by refreshing it; reports its loss once. */
export class Keeper {
  /** Resolves with the reason if the lease is lost (never, if ended). */
  readonly lost: Promise<Error>;
  readonly #ttl: number;
  readonly #refresh: () => Promise<Error | undefined>;
  readonly #stale: (cause: unknown) => Error;
  readonly #controller = new AbortController();
  #resolveLost!: (error: Error) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #refreshed = performance.now();
  #ended = false;

  /**
   * @param ttl Seconds the lease lives without a refresh.
   * @param refresh Refreshes once: resolves with the reason when etcd says
   *   the lease is gone, with nothing when it is refreshed; rejects when the
   *   refresh failed.
   * @param stale The loss when refreshes failed for good or for a whole TTL,
   *   given the last failure.
   */
  constructor(
    ttl: number,
    refresh: () => Promise<Error | undefined>,
    stale: (cause: unknown) => Error,
  ) {
    this.#ttl = ttl;
    this.#refresh = refresh;
    this.#stale = stale;
    this.lost = new Promise((resolve) => this.#resolveLost = resolve);
  }

  /** Aborted with the reason if the lease is lost. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Whether the lease is still kept. */
  get active(): boolean {
    return !this.#ended && !this.#controller.signal.aborted;
  }

  /** Whether `end()` was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Counts the lease as fresh now, and starts refreshing if not yet. */
  touch(): void {
    if (!this.active) return;
    this.#refreshed = performance.now();
    if (this.#timer === undefined) this.#schedule();
  }

  /** Stops refreshing; nothing is reported lost after this. */
  end(): void {
    this.#ended = true;
    clearTimeout(this.#timer);
  }

  #lose(error: Error): void {
    if (!this.active) return;
    clearTimeout(this.#timer);
    this.#controller.abort(error);
    this.#resolveLost(error);
  }

  #schedule(): void {
    this.#timer = setTimeout(() => void this.#run(), this.#ttl * 1000 / 3);
  }

  async #run(): Promise<void> {
    if (!this.active) return;
    try {
      const gone = await this.#refresh();
      if (!this.active) return;
      if (gone !== undefined) return this.#lose(gone);
      this.#refreshed = performance.now();
    } catch (error) {
      if (!this.active) return;
      if (
        !retryable(error) ||
        performance.now() - this.#refreshed >= this.#ttl * 1000
      ) {
        return this.#lose(this.#stale(error));
      }
    }
    this.#schedule();
  }
}
