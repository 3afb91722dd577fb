// Seeded randomness for generated test input: one fixed seed per run,
// printed, and overridable with TEST_SEED so that a failure can be replayed.

/** A small seeded generator (mulberry32): numbers in [0, 1). */
export function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The seed of a test: `TEST_SEED` if set, else `fallback` (fixed, so that a
 * run is repeatable). Printed, so that a failure names it.
 */
export function testSeed(test: string, fallback: number): number {
  const given = Deno.env.get("TEST_SEED");
  const seed = given === undefined ? fallback : Number(given);
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`Invalid TEST_SEED ${JSON.stringify(given)}: an integer`);
  }
  console.log(`${test}: seed ${seed} (replay with TEST_SEED=${seed})`);
  return seed;
}
