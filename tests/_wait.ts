// Bounded waits for tests: every wait ends, and a wait that times out says
// what did not happen.

/** Resolves or rejects as `promise` does, or rejects after `ms` naming `what`. */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${ms} ms: ${what}`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `check()` holds, asking every `every` ms; fails after `ms`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
  every = 20,
): Promise<void> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (await check()) return;
    if (performance.now() >= deadline) {
      throw new Error(`Timed out after ${ms} ms: ${what}`);
    }
    await delay(every);
  }
}

/**
 * Takes exactly `count` items from an iterator within `ms`; fails if it
 * ends early or times out, saying how many came.
 */
export async function take<T>(
  iterator: AsyncIterator<T>,
  count: number,
  ms: number,
  what = "items",
): Promise<T[]> {
  const out: T[] = [];
  const taking = (async () => {
    while (out.length < count) {
      const next = await iterator.next();
      if (next.done) {
        throw new Error(`Ended after ${out.length} of ${count}: ${what}`);
      }
      out.push(next.value);
    }
    return out;
  })();
  taking.catch(() => {});
  try {
    return await within(taking, ms, `${what}: ${"${n}"} of ${count} came`);
  } catch (error) {
    if (error instanceof Error) {
      error.message = error.message.replace("${n}", String(out.length));
    }
    throw error;
  }
}

/** Sleeps; only for pacing load, never to wait for something to happen. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How long a test may take, unless it says otherwise. */
const TEST_BOUND = 300_000;

/**
 * `Deno.test` with a bound: a test that has not finished after `ms` fails
 * with a message saying so (its own waits say what did not happen).
 */
export function test(
  name: string,
  fn: (t: Deno.TestContext) => Promise<void> | void,
): void;
export function test(
  name: string,
  ms: number,
  fn: (t: Deno.TestContext) => Promise<void> | void,
): void;
export function test(
  name: string,
  msOrFn: number | ((t: Deno.TestContext) => Promise<void> | void),
  maybeFn?: (t: Deno.TestContext) => Promise<void> | void,
): void {
  const ms = typeof msOrFn === "number" ? msOrFn : TEST_BOUND;
  const fn = typeof msOrFn === "number" ? maybeFn! : msOrFn;
  Deno.test(name, async (t) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `Timed out: the test did not finish within ${ms / 1000} s`,
            ),
          ),
        ms,
      );
    });
    try {
      await Promise.race([fn(t), bound]);
    } finally {
      clearTimeout(timer);
    }
  });
}
