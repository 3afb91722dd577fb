// The concurrency limit of a client (`maxConcurrency`), on both wires: at
// most so many calls in flight, the others waiting their turn in order.
// A waiting call that is aborted or runs out of time leaves the line at
// once. Internal.

import type { Deadlines, Timed } from "./deadlines.ts";

/** A call waiting for a turn. */
class Waiter implements Timed {
  constructor(
    readonly deadline: number,
    readonly resolve: () => void,
    readonly reject: (error: unknown) => void,
    readonly expire: () => void,
  ) {}
}

/** Turns to be in flight, at most `max` at once. */
export class Slots {
  readonly #max: number;
  #active = 0;
  readonly #waiting: Waiter[] = [];

  /** @param max Most calls in flight at once. */
  constructor(max: number) {
    this.#max = max;
  }

  /** Calls in flight now. */
  get active(): number {
    return this.#active;
  }

  /** Takes a turn if one is free (the common case: no allocation). */
  tryTake(): boolean {
    if (this.#active >= this.#max || this.#waiting.length > 0) return false;
    this.#active++;
    return true;
  }

  /**
   * Waits for a turn, in order. Rejects with the signal's reason when it
   * aborts, and with `timedOut()` when `deadline` (a `performance.now()`
   * time; `Infinity` for none) passes first.
   */
  take(
    signal: AbortSignal | undefined,
    deadline: number,
    deadlines: Deadlines,
    timedOut: () => unknown,
  ): Promise<void> {
    if (this.tryTake()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const leave = () => {
        const at = this.#waiting.indexOf(waiter);
        if (at >= 0) this.#waiting.splice(at, 1);
        deadlines.delete(waiter);
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        leave();
        reject(signal!.reason);
      };
      const waiter: Waiter = new Waiter(deadline, () => {
        leave();
        resolve();
      }, (error) => {
        leave();
        reject(error);
      }, () => {
        leave();
        reject(timedOut());
      });
      this.#waiting.push(waiter);
      deadlines.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Gives a turn back: the next waiting call takes it. */
  release(): void {
    const next = this.#waiting[0];
    if (next === undefined) this.#active--;
    else next.resolve();
  }

  /** Every waiting call rejects with `error`. */
  close(error: unknown): void {
    for (const waiter of [...this.#waiting]) waiter.reject(error);
  }
}
