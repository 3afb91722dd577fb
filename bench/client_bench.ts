/**
 * Client overhead over bare `fetch`, against a throwaway etcd.
 *
 * Sequential and 16-way concurrent `get` and `set` of the same keys, once
 * through {@linkcode Client} and once as a bare `fetch` loop that sends the
 * same requests and parses the same JSON. Rounds alternate between the two so
 * that drift on a noisy machine hits both; the median of the rounds is
 * reported. Goal: the client's overhead is at most 10% (it is negative since
 * the client speaks HTTP/1.1 over its own sockets instead of fetch).
 *
 * ```sh
 * deno task bench            # or: deno run -A bench/client_bench.ts [--rounds 9] [--ms 500]
 * ```
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { Client } from "../v2/mod.ts";
import { startEtcd } from "../testing.ts";
import { median } from "./_stats.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "9" },
    ms: { type: "string", default: "500" },
  },
});
const ROUNDS = Number(flags.rounds);
const MS = Number(flags.ms);
const KEYS = 100;
const VALUE = "v".repeat(64);

await using etcd = await startEtcd();
await using client = new Client({ endpoints: etcd.endpoint });
const base = `${etcd.endpoint}/v2/keys/bench`;
const form = "application/x-www-form-urlencoded";

type Op = (i: number) => Promise<unknown>;

const scenarios: Record<string, { bare: Op; client: Op }> = {
  set: {
    bare: async (i) => {
      const response = await fetch(`${base}/k${i % KEYS}`, {
        method: "PUT",
        headers: { "content-type": form },
        body: "value=" + encodeURIComponent(VALUE),
      });
      return await response.json();
    },
    client: (i) => client.set(`bench/k${i % KEYS}`, VALUE),
  },
  get: {
    bare: async (i) => {
      const response = await fetch(`${base}/k${i % KEYS}`);
      return await response.json();
    },
    client: (i) => client.get(`bench/k${i % KEYS}`),
  },
};

interface Figures {
  /** Operations per second. */
  ops: number;
  /** CPU time of this process per operation, in microseconds. */
  cpu: number;
}

/** Runs `op` with `concurrency` workers for `MS` milliseconds. */
async function measure(op: Op, concurrency: number): Promise<Figures> {
  let done = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const end = started + MS;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) await op(done++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { ops: done / seconds, cpu: (used.user + used.system) / done };
}

// Fill the keys and warm up connections and JIT.
for (let i = 0; i < KEYS; i++) await client.set(`bench/k${i}`, VALUE);
for (const { bare, client } of Object.values(scenarios)) {
  await measure(bare, 16);
  await measure(client, 16);
}

const { etcdserver } = await client.version();
console.log(
  `etcd ${etcdserver}, Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores, ` +
    `${ROUNDS} alternating rounds of ${MS} ms, median ops/s`,
);
console.log(
  "scenario".padEnd(16) + "bare fetch".padStart(12) +
    "Client".padStart(12) + "overhead".padStart(10) +
    "CPU µs/op bare".padStart(16) + "Client".padStart(8),
);
let worst = 0;
for (const concurrency of [1, 16]) {
  for (const [name, { bare, client }] of Object.entries(scenarios)) {
    const bareRuns: Figures[] = [];
    const clientRuns: Figures[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first so that drift hits both alike.
      if (round % 2 === 0) {
        bareRuns.push(await measure(bare, concurrency));
        clientRuns.push(await measure(client, concurrency));
      } else {
        clientRuns.push(await measure(client, concurrency));
        bareRuns.push(await measure(bare, concurrency));
      }
    }
    const bareOps = median(bareRuns.map((run) => run.ops));
    const clientOps = median(clientRuns.map((run) => run.ops));
    const overhead = (bareOps / clientOps - 1) * 100;
    worst = Math.max(worst, overhead);
    console.log(
      `${name} x${concurrency}`.padEnd(16) +
        bareOps.toFixed(0).padStart(12) +
        clientOps.toFixed(0).padStart(12) +
        `${overhead.toFixed(1)}%`.padStart(10) +
        median(bareRuns.map((run) => run.cpu)).toFixed(1).padStart(16) +
        median(clientRuns.map((run) => run.cpu)).toFixed(1).padStart(8),
    );
  }
}
console.log(
  `worst overhead ${worst.toFixed(1)}% (goal: at most 10%): ${
    worst <= 10 ? "met" : "missed"
  }`,
);
