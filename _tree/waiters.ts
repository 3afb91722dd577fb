// What a tree's writes wait for: the mirror reaching an index, or a path's
// node changing from the one a refused write was based on. Internal.

interface IndexWaiter {
  readonly index: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Promises that resolve once the mirror has applied an index. */
export class IndexWaiters {
  /** Waiting, by index. */
  readonly #waiters: IndexWaiter[] = [];

  /** Resolves once `settle()` is called with `index` or more. */
  wait(index: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const abort = () => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        reject(signal?.reason);
      };
      const waiter: IndexWaiter = {
        index,
        resolve: () => {
          signal?.removeEventListener("abort", abort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener("abort", abort);
          reject(error);
        },
      };
      signal?.addEventListener("abort", abort, { once: true });
      const waiters = this.#waiters;
      let at = waiters.length;
      while (at > 0 && waiters[at - 1]!.index > index) at--;
      waiters.splice(at, 0, waiter);
    });
  }

  /** Resolves every wait for `index` or less. */
  settle(index: number): void {
    const waiters = this.#waiters;
    if (waiters.length === 0 || waiters[0]!.index > index) return;
    let count = 0;
    while (count < waiters.length && waiters[count]!.index <= index) count++;
    for (const waiter of waiters.splice(0, count)) waiter.resolve();
  }

  /** Rejects every wait. */
  rejectAll(error: unknown): void {
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }
}

interface PathWaiter {
  readonly check: () => void;
  readonly reject: (error: unknown) => void;
}

/** Promises that resolve once a path's node is no longer a given one. */
export class PathWaiters {
  readonly #waiters = new Map<string, Set<PathWaiter>>();

  /**
   * Resolves once `changed()` is called for `path` and `stillSame()` says
   * the node there is no longer the one the caller saw.
   */
  wait(
    path: string,
    stillSame: () => boolean,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let set = this.#waiters.get(path);
      if (set === undefined) {
        set = new Set();
        this.#waiters.set(path, set);
      }
      const waiters = set;
      const stop = () => {
        waiters.delete(waiter);
        if (waiters.size === 0) this.#waiters.delete(path);
        signal?.removeEventListener("abort", abort);
      };
      const waiter: PathWaiter = {
        check: () => {
          if (stillSame()) return;
          stop();
          resolve();
        },
        reject: (error) => {
          stop();
          reject(error);
        },
      };
      const abort = () => waiter.reject(signal?.reason);
      waiters.add(waiter);
      signal?.addEventListener("abort", abort, { once: true });
    });
  }

  /** The node at `path` changed: wakes its waiters whose node is gone. */
  changed(path: string): void {
    if (this.#waiters.size === 0) return;
    const waiters = this.#waiters.get(path);
    if (waiters !== undefined) {
      for (const waiter of [...waiters]) waiter.check();
    }
  }

  /** Rejects every wait. */
  rejectAll(error: unknown): void {
    for (const waiters of [...this.#waiters.values()]) {
      for (const waiter of [...waiters]) waiter.reject(error);
    }
  }
}
