// The deadlines of a client's calls, on both wires, enforced by one coarse
// ticker instead of a timer per call: it runs only while a call with a
// deadline is in flight, and wakes every few milliseconds. Internal.

/** A call (or a wait for a turn) that has a deadline. */
export interface Timed {
  /** `performance.now()` after which it times out; `Infinity` for never. */
  readonly deadline: number;
  /** Its deadline passed: give up (called once, from the ticker). */
  expire(): void;
}

/** The ticker and the calls it watches. */
export class Deadlines {
  readonly #entries = new Set<Timed>();
  readonly #every: number;
  #ticker: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param every Milliseconds between ticks: a deadline is enforced at
   *   most this late.
   */
  constructor(every: number) {
    this.#every = every;
  }

  /** The ticker's period for calls of `timeout` ms: a twentieth, 5 to 100. */
  static periodFor(timeout: number): number {
    return Math.min(100, Math.max(5, timeout / 20));
  }

  /** The entries watched now (for `close()` of the owner). */
  get entries(): ReadonlySet<Timed> {
    return this.#entries;
  }

  /** Watches `entry` until `delete(entry)` or its deadline. */
  add(entry: Timed): void {
    this.#entries.add(entry);
    if (entry.deadline !== Infinity && this.#ticker === undefined) {
      this.#ticker = this.#arm();
    }
  }

  /** Stops watching `entry`. */
  delete(entry: Timed): void {
    this.#entries.delete(entry);
  }

  /** Stops the ticker and forgets every entry (none is expired). */
  clear(): void {
    clearTimeout(this.#ticker);
    this.#ticker = undefined;
    this.#entries.clear();
  }

  #tick = (): void => {
    const now = performance.now();
    let timed = 0;
    for (const entry of this.#entries) {
      if (entry.deadline <= now) {
        this.#entries.delete(entry);
        entry.expire();
      } else if (entry.deadline !== Infinity) {
        timed++;
      }
    }
    this.#ticker = timed > 0 ? this.#arm() : undefined;
  };

  #arm(): ReturnType<typeof setTimeout> {
    const ticker = setTimeout(this.#tick, this.#every);
    // Pending deadlines alone do not keep the process alive.
    Deno.unrefTimer(Number(ticker));
    return ticker;
  }
}
