/**
 * Watch delivery under the fastest writers, against a throwaway etcd.
 *
 * Two scenarios, each with a recursive watcher on the written prefix:
 * 16 concurrent writers at full speed for 10 s, and a burst of 5,000 writes
 * issued at once (through a `Client`, so at most 64 in flight). The writers
 * run in a process of their own (`_writer.ts`), as they would in real life,
 * so that the watcher does not share their event loop. It prints writes/s, events delivered and missing, and the
 * lag from a write's reply to its event (p50, p99; wall-clock times of the
 * two processes on one machine). Goal: 100% delivered in
 * both, p99 lag under 50 ms.
 *
 * ```sh
 * deno run -A bench/watch_bench.ts [--seconds 10] [--burst 5000]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Client } from "../v2/mod.ts";
import { startEtcd } from "../testing.ts";
import { lagsOf, percentile } from "./_stats.ts";
import { runWriters } from "./_run.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "10" },
    burst: { type: "string", default: "5000" },
  },
});
const SECONDS = Number(flags.seconds);
const BURST = Number(flags.burst);

await using etcd = await startEtcd();
await using reader = new Client({ endpoints: etcd.endpoint });

interface Run {
  writes: number;
  seconds: number;
  delivered: number;
  missing: number;
  extra: number;
  lags: number[];
  error: string | undefined;
}

async function scenario(prefix: string, args: string[]): Promise<Run> {
  const start = (await reader.set(`${prefix}/seed`, "0")).index + 1;
  const watcher = reader.watch(prefix, { recursive: true, waitIndex: start });
  const seen = new Map<number, number>(); // index -> wall-clock time of its event
  let extra = 0;
  let error: string | undefined;
  const reading = (async () => {
    for await (const event of watcher) {
      const index = event.node.modifiedIndex;
      if (seen.has(index)) extra++;
      seen.set(index, performance.timeOrigin + performance.now());
    }
  })().catch((reason) => error = String(reason));
  const { seconds, writes } = await runWriters(
    etcd.endpoint,
    prefix,
    args,
  );
  // Give the watcher a moment for the last events.
  const deadline = performance.now() + 5000;
  while (
    error === undefined && performance.now() < deadline &&
    writes.some(([index]) => !seen.has(index))
  ) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await watcher.close();
  await reading;
  const { missing, sorted: lags } = lagsOf(writes, seen);
  return {
    writes: writes.length,
    seconds,
    delivered: writes.length - missing,
    missing,
    extra,
    lags,
    error,
  };
}

const { etcdserver } = await reader.version();
console.log(
  `etcd ${etcdserver}, Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores`,
);

const runs: [string, Run][] = [
  [
    `16 writers, ${SECONDS} s`,
    await scenario("steady", ["steady", `${SECONDS}`]),
  ],
  [`burst of ${BURST}`, await scenario("burst", ["burst", `${BURST}`])],
];

console.log(
  "scenario".padEnd(22) + "writes/s".padStart(10) + "writes".padStart(9) +
    "delivered".padStart(11) + "missing".padStart(9) + "lag p50".padStart(10) +
    "lag p99".padStart(10),
);
let met = true;
for (const [name, run] of runs) {
  const p99 = percentile(run.lags, 0.99);
  met &&= run.missing === 0 && run.extra === 0 && p99 < 50 &&
    run.error === undefined;
  console.log(
    name.padEnd(22) + (run.writes / run.seconds).toFixed(0).padStart(10) +
      String(run.writes).padStart(9) +
      `${(100 * run.delivered / run.writes).toFixed(2)}%`.padStart(11) +
      String(run.missing).padStart(9) +
      `${percentile(run.lags, 0.5).toFixed(1)} ms`.padStart(10) +
      `${p99.toFixed(1)} ms`.padStart(10),
  );
  if (run.extra > 0) console.log(`  ${run.extra} events delivered twice`);
  if (run.error) console.log(`  watcher failed: ${run.error}`);
}
console.log(
  `goal (100% delivered, p99 lag under 50 ms): ${met ? "met" : "missed"}`,
);
