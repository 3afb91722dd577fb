// One queue-backed async iterator, used wherever values are produced in the
// background and taken by a `for await` loop: watch events, tree changes.
// Internal.

/**
 * Values pushed by a producer, taken in order by one consumer. The
 * producer ends the queue (`end`) or fails it (`fail`); what was pushed
 * before is still taken first. A consumer that leaves the loop early calls
 * `return()`, which runs `onReturn` once.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  #items: T[] = [];
  #head = 0;
  #end: { error?: unknown; failed: boolean } | undefined;
  #wake: (() => void) | undefined;
  #onReturn: (() => void | Promise<void>) | undefined;

  /** @param onReturn Called once when the consumer leaves early. */
  constructor(onReturn?: () => void | Promise<void>) {
    this.#onReturn = onReturn;
  }

  /** Adds a value; ignored once the queue has ended. */
  push(value: T): void {
    if (this.#end !== undefined) return;
    this.#items.push(value);
    this.#wakeUp();
  }

  /** Ends the queue: the consumer's loop ends after the waiting values. */
  end(): void {
    this.#end ??= { failed: false };
    this.#wakeUp();
  }

  /**
   * Fails the queue: the consumer gets `error` after the waiting values, or
   * at once with `drop` (the waiting values are dropped).
   */
  fail(error: unknown, drop = false): void {
    if (drop) {
      this.#items = [];
      this.#head = 0;
      this.#end = { error, failed: true };
    } else {
      this.#end ??= { error, failed: true };
    }
    this.#wakeUp();
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.#head < this.#items.length) {
        const value = this.#items[this.#head++]!;
        if (this.#head === this.#items.length) {
          this.#items = [];
          this.#head = 0;
        }
        return { done: false, value };
      }
      const end = this.#end;
      if (end !== undefined) {
        if (end.failed) throw end.error;
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  async return(): Promise<IteratorResult<T>> {
    this.#end ??= { failed: false };
    this.#items = [];
    this.#head = 0;
    const onReturn = this.#onReturn;
    this.#onReturn = undefined;
    await onReturn?.();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
