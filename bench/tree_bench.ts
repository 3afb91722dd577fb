/**
 * EtcdTree against a throwaway etcd: opening big trees and following fast
 * writers.
 *
 * - Open: a tree of 10,000 and of 100,000 keys (100 values per directory),
 *   beside the baseline of one raw recursive get (`fetch`, `text()`,
 *   `JSON.parse`) of the same data, in alternating rounds (four times as many
 *   for the small tree, whose few milliseconds are noisier); median time, and
 *   heap bytes per key that the result keeps alive (after a full GC). Goal:
 *   open at most 1.5x the raw read, under 300 bytes of heap per key.
 * - Lag: 16 writers at full speed for 10 s (in a process of their own,
 *   `_writer.ts`), a tree on their prefix: time from a write's reply to the
 *   tree applying it, p50 and p99, beside a bare watcher in the same run.
 *   Goal: every write applied, p99 under 50 ms.
 *
 * ```sh
 * deno run -A --v8-flags=--expose-gc bench/tree_bench.ts [--rounds 5] [--seconds 10]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Client, EtcdTree } from "../v2/mod.ts";
import { startEtcd } from "../testing.ts";
import { lagsOf, median, percentile } from "./_stats.ts";
import { measureInChild, runWriters } from "./_run.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "5" },
    seconds: { type: "string", default: "10" },
    // Internal: measure the heap one read keeps, in a fresh process.
    heap: { type: "string" },
    endpoint: { type: "string" },
    prefix: { type: "string" },
  },
});
const ROUNDS = Number(flags.rounds);
const SECONDS = Number(flags.seconds);

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error("Run with --v8-flags=--expose-gc to measure heap per key");
  Deno.exit(2);
}

function heap(): number {
  gc!();
  gc!();
  return Deno.memoryUsage().heapUsed;
}

async function rawRead(endpoint: string, prefix: string): Promise<unknown> {
  const response = await fetch(`${endpoint}/v2/keys/${prefix}?recursive=true`);
  return JSON.parse(await response.text());
}

if (flags.heap !== undefined) {
  // A child process: bytes of heap that one read of `prefix` keeps alive.
  const endpoint = flags.endpoint!;
  await using client = new Client({ endpoints: endpoint, timeout: 60_000 });
  // Warm up both paths on a tiny subtree, so that code and connections
  // are not counted.
  await rawRead(endpoint, "steady");
  await (await EtcdTree.open(client, "steady")).close();
  const before = heap();
  const kept = flags.heap === "raw"
    ? await rawRead(endpoint, flags.prefix!)
    : await EtcdTree.open(client, flags.prefix!);
  const bytes = heap() - before;
  if (kept instanceof EtcdTree) await kept.close();
  console.log(bytes);
  Deno.exit(0);
}

function retained(kind: "raw" | "tree", prefix: string): Promise<number> {
  return measureInChild(import.meta.url, [
    `--heap=${kind}`,
    `--endpoint=${etcd.endpoint}`,
    `--prefix=${prefix}`,
  ]);
}

await using etcd = await startEtcd();
await using client = new Client({
  endpoints: etcd.endpoint,
  timeout: 60_000,
});
const { etcdserver } = await client.version();
await client.set("steady/seed", "0");
console.log(
  `etcd ${etcdserver}, Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores`,
);

async function fill(prefix: string, keys: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < keys) {
      const i = next++;
      await client.set(
        `${prefix}/d${Math.floor(i / 100)}/k${i % 100}`,
        `value-${i}-${"x".repeat(12)}`,
      );
    }
  }));
}

let met = true;
console.log(
  "\nopen".padEnd(14) + "raw get".padStart(10) + "tree".padStart(10) +
    "ratio".padStart(8) + "raw B/key".padStart(11) + "tree B/key".padStart(12),
);
for (const keys of [10_000, 100_000]) {
  const prefix = `open${keys}`;
  await fill(prefix, keys);
  const raw: number[] = [];
  const tree: number[] = [];
  // The small tree's few milliseconds are noisier: more rounds for it.
  const rounds = keys <= 10_000 ? ROUNDS * 4 : ROUNDS;
  for (let round = 0; round < rounds + 1; round++) {
    let start = performance.now();
    await rawRead(etcd.endpoint, prefix);
    if (round > 0) raw.push(performance.now() - start); // round 0 warms up
    start = performance.now();
    const opened = await EtcdTree.open(client, prefix);
    if (round > 0) tree.push(performance.now() - start);
    await opened.close();
  }
  const rawBytes = await retained("raw", prefix) / keys;
  const treeBytes = await retained("tree", prefix) / keys;
  const ratio = median(tree) / median(raw);
  met &&= ratio <= 1.5 && treeBytes < 300;
  console.log(
    `${keys} keys`.padEnd(13) + `${median(raw).toFixed(0)} ms`.padStart(10) +
      `${median(tree).toFixed(0)} ms`.padStart(10) +
      `${ratio.toFixed(2)}x`.padStart(8) + rawBytes.toFixed(0).padStart(11) +
      treeBytes.toFixed(0).padStart(12),
  );
}

// Lag under 16 writers at full speed.
const seed = await client.set("steady/seed", "1");
const tree = await EtcdTree.open(client, "steady");
const applied = new Map<number, number>();
tree.addEventListener("change", ({ change }) => {
  if (!change.node.dir) {
    applied.set(change.index, performance.timeOrigin + performance.now());
  }
});
const watcher = client.watch("steady", {
  recursive: true,
  waitIndex: seed.index + 1,
});
const watched = new Map<number, number>();
const watching = (async () => {
  for await (const event of watcher) {
    watched.set(
      event.node.modifiedIndex,
      performance.timeOrigin + performance.now(),
    );
  }
})();
const { seconds, writes } = await runWriters(
  etcd.endpoint,
  "steady",
  ["steady", `${SECONDS}`],
);
const last = Math.max(...writes.map(([index]) => index));
await tree.synced(last, { signal: AbortSignal.timeout(10_000) });
while (!watched.has(last)) await new Promise((r) => setTimeout(r, 10));
await watcher.close();
await watching;
await tree.close();

const lags = (seen: Map<number, number>) => lagsOf(writes, seen);

console.log(
  `\n16 writers, ${SECONDS} s: ${
    (writes.length / seconds).toFixed(0)
  } writes/s`,
);
console.log(
  "follower".padEnd(14) + "applied".padStart(9) + "missing".padStart(9) +
    "lag p50".padStart(10) + "lag p99".padStart(10),
);
for (
  const [name, seen] of [["bare watcher", watched], ["tree", applied]] as const
) {
  const { missing, sorted } = lags(seen);
  if (name === "tree") met &&= missing === 0 && percentile(sorted, 0.99) < 50;
  console.log(
    name.padEnd(14) + String(writes.length - missing).padStart(9) +
      String(missing).padStart(9) +
      `${percentile(sorted, 0.5).toFixed(1)} ms`.padStart(10) +
      `${percentile(sorted, 0.99).toFixed(1)} ms`.padStart(10),
  );
}
console.log(met ? "\ngoal met" : "\ngoal MISSED");
