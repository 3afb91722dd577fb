/**
 * The gRPC watch hub (v3/_grpc_watch.ts) on one throwaway etcd 3.5:
 *
 * - Delivery: 16 writers at full speed for 10 s, then a burst of 5,000
 *   writes (the v3 writers of bench/_writer.ts, in a process of their own),
 *   watched by one watch on the hub: how many events arrived, and the lag
 *   from a write's reply to its event (p50, p99). Goal: 100% delivered, p99
 *   lag under 5 ms.
 * - Scale: 1,000 watches on one client: sockets dialed, Watch streams etcd
 *   counts, the time to create them all, and the heap per watch (measured
 *   in a fresh process with GC exposed).
 *
 * ```sh
 * deno run -A bench/grpc_watch_bench.ts [--seconds 10] [--burst 5000] [--watches 1000]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { denoDialer } from "../_h2/socket.ts";
import { startEtcd } from "../testing.ts";
import { GrpcChannel } from "../v3/_grpc.ts";
import { GrpcWatchHub } from "../v3/_grpc_watch.ts";
import { METHODS, PutRequest, PutResponse } from "../v3/_proto/mod.ts";
import { lagsOf, percentile } from "./_stats.ts";
import { measureInChild, runWriters } from "./_run.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "10" },
    burst: { type: "string", default: "5000" },
    watches: { type: "string", default: "1000" },
    // Internal: measure the heap of N watches on ENDPOINT and print it.
    memory: { type: "string" },
  },
});
const WATCHES = Number(flags.watches);
const bytes = (text: string) => new TextEncoder().encode(text);

/** A channel counting its dials, and a hub on it. */
function connect(endpoint: string) {
  const dial = denoDialer(endpoint);
  const counted = { dials: 0 };
  const channel = new GrpcChannel(endpoint, {
    dial: (signal) => {
      counted.dials++;
      return dial(signal);
    },
  });
  const hub = new GrpcWatchHub((path, options) => channel.bidi(path, options));
  return { channel, hub, counted };
}

/** Opens `count` watches and waits for each to be created. */
async function openWatches(hub: GrpcWatchHub, count: number) {
  const iterators = [];
  for (let i = 0; i < count; i++) {
    const watch = hub.open(
      { key: bytes(`many/${i}`) },
      new AbortController().signal,
    );
    iterators.push(watch[Symbol.asyncIterator]());
  }
  for (const iterator of iterators) await iterator.next();
  return iterators;
}

if (flags.memory !== undefined) {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const { hub, channel } = connect(flags.memory);
  await openWatches(hub, 1); // the stream and the connection themselves
  gc();
  const before = Deno.memoryUsage().heapUsed;
  const iterators = await openWatches(hub, WATCHES);
  gc();
  const after = Deno.memoryUsage().heapUsed;
  console.log(Math.round((after - before) / WATCHES));
  iterators.length = 0;
  hub.close();
  channel.close();
  Deno.exit(0);
}

await using etcd = await startEtcd({ version: "3.5" });
const { channel, hub, counted } = connect(etcd.endpoint);

async function put(key: string): Promise<number> {
  const answer = await channel.unary(
    METHODS.kv.put.path,
    PutRequest.encode({ key: bytes(key), value: bytes("0") }),
  );
  return PutResponse.decode(answer).header!.revision;
}

interface Run {
  writes: number;
  seconds: number;
  missing: number;
  extra: number;
  lags: number[];
}

async function scenario(prefix: string, args: string[]): Promise<Run> {
  const start = await put(`${prefix}/seed`) + 1;
  const abort = new AbortController();
  const watch = hub.open({
    key: bytes(`${prefix}/`),
    range_end: bytes(`${prefix}0`),
    start_revision: start,
  }, abort.signal);
  const seen = new Map<number, number>(); // revision -> wall-clock time
  let extra = 0;
  const reading = (async () => {
    for await (const answer of watch) {
      const now = performance.timeOrigin + performance.now();
      for (const event of answer.events) {
        const revision = event.kv!.mod_revision;
        if (seen.has(revision)) extra++;
        seen.set(revision, now);
      }
    }
  })().catch(() => {});
  const { seconds, writes } = await runWriters(
    etcd.endpoint,
    prefix,
    args,
    "v3",
  );
  const deadline = performance.now() + 5000;
  while (
    performance.now() < deadline && writes.some(([index]) => !seen.has(index))
  ) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  abort.abort();
  await reading;
  const { missing, sorted: lags } = lagsOf(writes, seen);
  return { writes: writes.length, seconds, missing, extra, lags };
}

console.log(
  `etcd ${etcd.version}, Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores`,
);
const runs: [string, Run][] = [
  [
    `16 writers, ${flags.seconds} s`,
    await scenario("steady", ["steady", flags.seconds]),
  ],
  [`burst of ${flags.burst}`, await scenario("burst", ["burst", flags.burst])],
];
console.log(
  "scenario".padEnd(22) + "writes/s".padStart(10) + "writes".padStart(9) +
    "delivered".padStart(11) + "lag p50".padStart(10) + "lag p99".padStart(10),
);
let met = true;
for (const [name, run] of runs) {
  const p99 = percentile(run.lags, 0.99);
  met &&= run.missing === 0 && run.extra === 0 && p99 < 5;
  console.log(
    name.padEnd(22) + (run.writes / run.seconds).toFixed(0).padStart(10) +
      String(run.writes).padStart(9) +
      `${(100 * (run.writes - run.missing) / run.writes).toFixed(2)}%`
        .padStart(11) +
      `${percentile(run.lags, 0.5).toFixed(1)} ms`.padStart(10) +
      `${p99.toFixed(1)} ms`.padStart(10),
  );
  if (run.extra > 0) console.log(`  ${run.extra} events delivered twice`);
}
console.log(
  `goal (100% delivered, p99 lag under 5 ms): ${met ? "met" : "missed"}`,
);

const started = performance.now();
const many = await openWatches(hub, WATCHES);
const took = performance.now() - started;
const streams = await (async () => {
  using client = Deno.createHttpClient({});
  const text = await (await fetch(`${etcd.endpoint}/metrics`, { client }))
    .text();
  return text.split("\n").find((line) =>
    line.startsWith("etcd_debugging_mvcc_watch_stream_total ")
  )?.split(" ")[1];
})();
const perWatch = await measureInChild(import.meta.url, [
  "--memory",
  etcd.endpoint,
  "--watches",
  String(WATCHES),
]);
console.log(
  `${many.length} watches: created in ${
    took.toFixed(0)
  } ms, ${counted.dials} socket(s), ` +
    `${streams} Watch stream(s) on etcd, ${perWatch} heap bytes per watch`,
);
hub.close();
channel.close();
