/**
 * EtcdTree and the tools on etcd v3 (3.5), against a throwaway server:
 *
 * - Open a tree of 100,000 keys (1,000 directories of 100), beside the
 *   baseline of a bare paged range (`fetch` of pages of 5,000 at one
 *   revision, `JSON.parse`, every key and value base64-decoded to text);
 *   alternating rounds, median; and the heap bytes per key each keeps
 *   alive (after a full GC, in a fresh process). Goal: at most 1.5x the
 *   bare read, under 300 bytes per key.
 * - Lag: 16 writers at full speed for 10 s (in a process of their own), a
 *   tree on their prefix: time from a write's reply to the tree applying
 *   it, beside a bare watch in the same run. Goal: every write applied,
 *   p99 under 50 ms.
 * - Dump 100,000 keys with `etcd2yaml`, beside the bare paged range. Goal:
 *   at most 2x.
 * - Load 10,000 keys with `yaml2etcd` (transactions of 128), beside a
 *   sequential loop of `client.put()` writing the same keys. Goal: at
 *   least 10x as fast.
 *
 * ```sh
 * deno run -A --v8-flags=--expose-gc bench/tree_v3_bench.ts [--rounds 5] [--seconds 10]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { EtcdTree } from "../v2/mod.ts";
import { Client } from "../mod.ts";
import { main as dump } from "../cli/dump.ts";
import { main as load } from "../cli/load.ts";
import { startEtcd } from "../testing.ts";
import { lagsOf, median, percentile } from "./_stats.ts";
import { measureInChild, quietIo, runWriters } from "./_run.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "5" },
    seconds: { type: "string", default: "10" },
    heap: { type: "string" },
    endpoint: { type: "string" },
    prefix: { type: "string" },
  },
});
const ROUNDS = Number(flags.rounds);
const SECONDS = Number(flags.seconds);
const PAGE = 5000;
const BIG = 100_000;

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

const decoder = new TextDecoder();
const b64 = (text: string) => new TextEncoder().encode(text).toBase64();

/** The baseline: pages of a range at one revision, parsed and decoded. */
async function bareRead(
  endpoint: string,
  prefix: string,
): Promise<[string, string][]> {
  const end = b64(
    prefix.slice(0, -1) +
      String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1),
  );
  let key = b64(prefix);
  let revision: string | undefined;
  const out: [string, string][] = [];
  for (;;) {
    const response = await fetch(`${endpoint}/v3/kv/range`, {
      method: "POST",
      body: JSON.stringify({
        key,
        range_end: end,
        limit: PAGE,
        ...(revision ? { revision } : {}),
      }),
    });
    const body = JSON.parse(await response.text());
    revision ??= body.header.revision;
    const kvs = body.kvs ?? [];
    for (const kv of kvs) {
      out.push([
        decoder.decode(Uint8Array.fromBase64(kv.key)),
        decoder.decode(Uint8Array.fromBase64(kv.value)),
      ]);
    }
    if (!body.more) return out;
    const last = Uint8Array.fromBase64(kvs.at(-1).key);
    key = new Uint8Array([...last, 0]).toBase64();
  }
}

if (flags.heap !== undefined) {
  // A child process: bytes of heap that one read of `prefix` keeps alive.
  const endpoint = flags.endpoint!;
  await using client = new Client({ endpoints: endpoint, timeout: 60_000 });
  await bareRead(endpoint, "steady/");
  await (await EtcdTree.open(client, "steady")).close();
  const before = heap();
  const kept = flags.heap === "raw"
    ? await bareRead(endpoint, `${flags.prefix!}/`)
    : await EtcdTree.open(client, flags.prefix!);
  const bytes = heap() - before;
  if (kept instanceof EtcdTree) await kept.close();
  console.log(bytes);
  Deno.exit(0);
}

await using etcd = await startEtcd({ version: "3.5" });
await using client = new Client({ endpoints: etcd.endpoint, timeout: 60_000 });
await client.put("steady/seed", "0");
console.log(
  `etcd ${etcd.version}, Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores`,
);

function retained(kind: "raw" | "tree", prefix: string): Promise<number> {
  return measureInChild(import.meta.url, [
    `--heap=${kind}`,
    `--endpoint=${etcd.endpoint}`,
    `--prefix=${prefix}`,
  ]);
}

/** `keys` keys in directories of 100, in transactions of 128. */
async function fill(prefix: string, keys: number): Promise<void> {
  for (let i = 0; i < keys; i += 128) {
    await client.txn({
      success: Array.from({ length: Math.min(128, keys - i) }, (_, j) => {
        const n = i + j;
        return {
          put: `${prefix}/d${Math.floor(n / 100)}/k${n % 100}`,
          value: `value-${n}-${"x".repeat(12)}`,
        };
      }),
    });
  }
}

let met = true;
const report: string[] = [];

// Open.
await fill("open", BIG);
const bare: number[] = [];
const opened: number[] = [];
for (let round = 0; round < ROUNDS + 1; round++) {
  let start = performance.now();
  const rows = await bareRead(etcd.endpoint, "open/");
  if (round > 0) bare.push(performance.now() - start); // round 0 warms up
  if (rows.length !== BIG) throw new Error(`read ${rows.length} keys`);
  start = performance.now();
  const tree = await EtcdTree.open(client, "open");
  if (round > 0) opened.push(performance.now() - start);
  await tree.close();
}
const rawBytes = await retained("raw", "open") / BIG;
const treeBytes = await retained("tree", "open") / BIG;
const openRatio = median(opened) / median(bare);
met &&= openRatio <= 1.5 && treeBytes < 300;
report.push(
  "open".padEnd(14) + "bare paged".padStart(11) + "tree".padStart(9) +
    "ratio".padStart(8) + "bare B/key".padStart(12) + "tree B/key".padStart(12),
  `${BIG} keys`.padEnd(14) + `${median(bare).toFixed(0)} ms`.padStart(11) +
    `${median(opened).toFixed(0)} ms`.padStart(9) +
    `${openRatio.toFixed(2)}x`.padStart(8) + rawBytes.toFixed(0).padStart(12) +
    treeBytes.toFixed(0).padStart(12),
  `goal (open at most 1.5x the bare paged range, under 300 B/key): ${
    openRatio <= 1.5 && treeBytes < 300 ? "met" : "missed"
  }`,
);

// Lag under 16 writers at full speed.
const seed = await client.put("steady/seed", "1");
const tree = await EtcdTree.open(client, "steady");
const applied = new Map<number, number>();
tree.addEventListener("change", ({ change }) => {
  if (!change.node.dir) {
    applied.set(change.index, performance.timeOrigin + performance.now());
  }
});
const watcher = client.watch("steady/", {
  prefix: true,
  startRevision: seed.revision + 1,
});
const watched = new Map<number, number>();
const watching = (async () => {
  for await (const event of watcher) {
    watched.set(event.revision, performance.timeOrigin + performance.now());
  }
})();
const { seconds, writes } = await runWriters(
  etcd.endpoint,
  "steady",
  ["steady", `${SECONDS}`],
  "v3",
);
const last = Math.max(...writes.map(([index]) => index));
await tree.synced(last, { signal: AbortSignal.timeout(10_000) });
while (!watched.has(last)) await new Promise((r) => setTimeout(r, 10));
await watcher.close();
await watching;
await tree.close();
const lags = (seen: Map<number, number>) => lagsOf(writes, seen);
report.push(
  "",
  `16 writers, ${SECONDS} s: ${(writes.length / seconds).toFixed(0)} writes/s`,
  "follower".padEnd(14) + "applied".padStart(9) + "missing".padStart(9) +
    "lag p50".padStart(10) + "lag p99".padStart(10),
);
let lagMet = true;
for (
  const [name, seen] of [["bare watch", watched], ["tree", applied]] as const
) {
  const { missing, sorted } = lags(seen);
  if (name === "tree") {
    lagMet = missing === 0 && percentile(sorted, 0.99) < 50;
    met &&= lagMet;
  }
  report.push(
    name.padEnd(14) + String(writes.length - missing).padStart(9) +
      String(missing).padStart(9) +
      `${percentile(sorted, 0.5).toFixed(1)} ms`.padStart(10) +
      `${percentile(sorted, 0.99).toFixed(1)} ms`.padStart(10),
  );
}
report.push(
  `goal (every write applied, p99 under 50 ms): ${lagMet ? "met" : "missed"}`,
);

// Dump and load through the tools' main(), output discarded.
const dumped: number[] = [];
const bareAgain: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  let start = performance.now();
  await bareRead(etcd.endpoint, "open/");
  bareAgain.push(performance.now() - start);
  start = performance.now();
  const code = await dump(["open", "--endpoints", etcd.endpoint], quietIo());
  dumped.push(performance.now() - start);
  if (code !== 0) throw new Error(`etcd2yaml failed: ${code}`);
}
const dumpRatio = median(dumped) / median(bareAgain);
met &&= dumpRatio <= 2;
report.push(
  "",
  `dump ${BIG} keys: bare paged range ${
    median(bareAgain).toFixed(0)
  } ms, etcd2yaml ${median(dumped).toFixed(0)} ms, ${dumpRatio.toFixed(2)}x`,
  `goal (dump at most 2x the bare paged range): ${
    dumpRatio <= 2 ? "met" : "missed"
  }`,
);

const KEYS = 10_000;
const yaml = Array.from(
  { length: 100 },
  (_, d) =>
    `d${d}:\n` +
    Array.from({ length: 100 }, (_, k) => `  k${k}: value-${d}-${k}\n`).join(
      "",
    ),
).join("");
const loads: number[] = [];
const loops: number[] = [];
for (let round = 0; round < 3; round++) {
  let start = performance.now();
  const code = await load(
    [`load${round}`, "-", "--endpoints", etcd.endpoint],
    quietIo(yaml),
  );
  loads.push(performance.now() - start);
  if (code !== 0) throw new Error(`yaml2etcd failed: ${code}`);
  start = performance.now();
  for (let d = 0; d < 100; d++) {
    for (let k = 0; k < 100; k++) {
      await client.put(`loop${round}/d${d}/k${k}`, `value-${d}-${k}`);
    }
  }
  loops.push(performance.now() - start);
}
const speedup = median(loops) / median(loads);
met &&= speedup >= 10;
report.push(
  "",
  `load ${KEYS} keys: sequential put loop ${
    median(loops).toFixed(0)
  } ms, yaml2etcd ${median(loads).toFixed(0)} ms, ${
    speedup.toFixed(1)
  }x as fast`,
  `goal (load at least 10x the sequential loop): ${
    speedup >= 10 ? "met" : "missed"
  }`,
);

console.log(report.join("\n"));
console.log(met ? "\ngoal met" : "\ngoal MISSED");
