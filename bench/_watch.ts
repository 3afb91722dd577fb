// Watch delivery under load, for the v3 benchmarks: a prefix watch while
// `_writer.ts` writes in a process of its own.

import type { Client } from "../mod.ts";
import { runWriters } from "./_run.ts";
import { lagsOf, percentile } from "./_stats.ts";

/** What one watched load gave. */
export interface WatchRun {
  writes: number;
  seconds: number;
  missing: number;
  /** Revisions delivered more than once. */
  extra: number;
  /** Milliseconds from each write's reply to its event, sorted. */
  lags: number[];
  error: string | undefined;
}

/**
 * Watches `prefix/` with `client` while `_writer.ts` runs `args` (`steady
 * SECONDS` or `burst COUNT`) on `endpoint`; waits up to 5 s for the last
 * events.
 */
export async function watchDelivery(
  client: Client,
  endpoint: string,
  prefix: string,
  args: readonly string[],
): Promise<WatchRun> {
  const start = (await client.put(`${prefix}/seed`, "0")).revision + 1;
  const watcher = client.watch(`${prefix}/`, {
    prefix: true,
    startRevision: start,
  });
  const seen = new Map<number, number>(); // revision -> wall-clock time
  let extra = 0;
  let error: string | undefined;
  const reading = (async () => {
    for await (const event of watcher) {
      if (seen.has(event.revision)) extra++;
      seen.set(event.revision, performance.timeOrigin + performance.now());
    }
  })().catch((reason) => error = String(reason));
  const { seconds, writes } = await runWriters(endpoint, prefix, args, "v3");
  const deadline = performance.now() + 5000;
  while (
    error === undefined && performance.now() < deadline &&
    writes.some(([revision]) => !seen.has(revision))
  ) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await watcher.close();
  await reading;
  const { missing, sorted: lags } = lagsOf(writes, seen);
  return { writes: writes.length, seconds, missing, extra, lags, error };
}

/** The header of {@linkcode watchLine}'s table. */
export const WATCH_HEADER = "watch".padEnd(22) + "writes/s".padStart(10) +
  "writes".padStart(9) + "delivered".padStart(11) + "missing".padStart(9) +
  "lag p50".padStart(10) + "lag p99".padStart(10);

/** One row of the watch table. */
export function watchLine(name: string, result: WatchRun): string {
  const delivered = 100 * (result.writes - result.missing) / result.writes;
  return name.padEnd(22) +
    (result.writes / result.seconds).toFixed(0).padStart(10) +
    String(result.writes).padStart(9) +
    `${delivered.toFixed(2)}%`.padStart(11) +
    String(result.missing).padStart(9) +
    `${percentile(result.lags, 0.5).toFixed(1)} ms`.padStart(10) +
    `${percentile(result.lags, 0.99).toFixed(1)} ms`.padStart(10) +
    (result.extra ? `  ${result.extra} twice` : "") +
    (result.error ? `  failed: ${result.error}` : "");
}
