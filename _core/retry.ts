// When and how soon to try again. Internal.

export { retryable } from "./kinds.ts";

/** A duration option in milliseconds (`Infinity` allowed), checked. */
export function milliseconds(value: number, what: string): number {
  if (typeof value !== "number" || !(value >= 0)) {
    throw new RangeError(
      `Invalid ${what} ${value}: expected milliseconds >= 0`,
    );
  }
  return value;
}

/** Backoff after a failure: first delay and cap, in milliseconds. */
const BACKOFF_FIRST = 50;
const BACKOFF_CAP = 2000;

/** The delay before attempt `failures + 1`: capped, doubling, jittered. */
export function backoff(failures: number): number {
  const ceiling = Math.min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** failures);
  return ceiling / 2 + Math.random() * ceiling / 2;
}

/**
 * Sleeps `ms` milliseconds, or less: until `early` settles, or until the
 * owner calls every function in `sleeps` (as `close()` does).
 */
export function pause(
  ms: number,
  sleeps: Set<() => void>,
  early?: Promise<unknown>,
): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      sleeps.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    sleeps.add(done);
    early?.then(done, done);
  });
}
