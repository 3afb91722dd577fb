// The schedule a kept lease runs on either protocol: a refresh every third
// of its TTL, and a deadline. The lease lives on etcd at least its TTL from
// when the last successful refresh was *sent* (etcd applied it later), so
// the keeper gives it up at that moment less a margin, whether or not an
// answer or an error ever comes; it is also lost when etcd says it is gone
// or a refresh fails in a way that will not pass. Each backend says only how
// to refresh once. Internal.

import { retryable } from "./kinds.ts";

/**
 * How long before the lease could expire on etcd a holder gives it up, in
 * ms: for clocks that drift apart and timers that fire late on a busy
 * event loop.
 */
export function safetyMargin(ttl: number): number {
  return Math.min(1000, ttl * 100);
}

/** Why a keeper gave up without a refresh failing first. */
class NoRefresh extends Error {
  constructor(ttl: number) {
    super(`no refresh succeeded in time for its TTL of ${ttl} s`);
    this.name = "NoRefresh";
  }
}

/** Keeps a lease alive by refreshing it; reports its loss once. */
export class Keeper {
  /** Resolves with the reason if the lease is lost (never, if ended). */
  readonly lost: Promise<Error>;
  readonly #ttl: number;
  readonly #refresh: () => Promise<Error | number>;
  readonly #stale: (cause: unknown) => Error;
  readonly #controller = new AbortController();
  #resolveLost!: (error: Error) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  /** When (`performance.now()`) the lease may have expired on etcd. */
  #deadline = Infinity;
  #lastFailure: unknown;
  #ended = false;

  /**
   * @param ttl Seconds the lease lives without a refresh.
   * @param refresh Refreshes once: resolves with the reason when etcd says
   *   the lease is gone, or with the seconds it now lives (counted from
   *   when the refresh was sent); rejects when the refresh failed.
   * @param stale The loss when refreshes failed for good or in time, given
   *   the last failure.
   */
  constructor(
    ttl: number,
    refresh: () => Promise<Error | number>,
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

  /**
   * Whether the lease is still kept. Past the deadline it is not, even if
   * the watchdog's timer has not fired yet.
   */
  get active(): boolean {
    if (this.#ended || this.#controller.signal.aborted) return false;
    if (performance.now() < this.#deadline) return true;
    this.#expire();
    return false;
  }

  /** Whether `end()` was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Counts in something that lives `ttl` seconds from `since` (a grant or
   * a key's write, sent then): the lease is kept no longer than that. Starts
   * refreshing if not yet.
   *
   * @param since `performance.now()` when the request was sent.
   * @param ttl Seconds it lives from then; default the lease's TTL.
   */
  touch(since: number = performance.now(), ttl: number = this.#ttl): void {
    if (!this.active) return;
    this.#extend(Math.min(this.#deadline, this.#deadlineOf(since, ttl)));
    if (this.#timer === undefined) this.#schedule(this.#ttl * 1000 / 3);
  }

  /** Stops refreshing; nothing is reported lost after this. */
  end(): void {
    this.#ended = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#watchdog);
  }

  #deadlineOf(since: number, ttl: number): number {
    return since + ttl * 1000 - safetyMargin(this.#ttl);
  }

  /** Moves the deadline, and the watchdog that gives up at it. */
  #extend(deadline: number): void {
    this.#deadline = deadline;
    clearTimeout(this.#watchdog);
    this.#watchdog = setTimeout(
      () => this.#expire(),
      Math.max(0, deadline - performance.now()),
    );
  }

  #expire(): void {
    this.#lose(this.#stale(this.#lastFailure ?? new NoRefresh(this.#ttl)));
  }

  #lose(error: Error): void {
    if (this.#ended || this.#controller.signal.aborted) return;
    clearTimeout(this.#timer);
    clearTimeout(this.#watchdog);
    this.#controller.abort(error);
    this.#resolveLost(error);
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => void this.#run(), ms);
  }

  async #run(): Promise<void> {
    if (!this.active) return;
    const sent = performance.now();
    let next = this.#ttl * 1000 / 3;
    try {
      const answer = await this.#refresh();
      if (!this.active) return;
      if (answer instanceof Error) return this.#lose(answer);
      this.#lastFailure = undefined;
      this.#extend(this.#deadlineOf(sent, answer));
      // A lease with less left than asked for is refreshed sooner.
      next = Math.min(next, (this.#deadline - performance.now()) / 2);
    } catch (error) {
      if (!this.active) return;
      if (!retryable(error)) return this.#lose(this.#stale(error));
      this.#lastFailure = error;
      // Time is short: try again sooner.
      next /= 2;
    }
    this.#schedule(Math.max(0, next));
  }
}
