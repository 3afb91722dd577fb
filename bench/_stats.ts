// Small statistics shared by the benchmarks.

/** The median (the upper one for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** The `p` quantile (0..1) of values sorted ascending; NaN for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/**
 * How long after each write (index, time) it was seen (`seen`: index to
 * time), sorted ascending, and how many were never seen.
 */
export function lagsOf(
  writes: readonly (readonly [number, number])[],
  seen: ReadonlyMap<number, number>,
): { missing: number; sorted: number[] } {
  const sorted: number[] = [];
  let missing = 0;
  for (const [index, at] of writes) {
    const got = seen.get(index);
    if (got === undefined) missing++;
    else sorted.push(Math.max(0, got - at));
  }
  return { missing, sorted: sorted.sort((a, b) => a - b) };
}
