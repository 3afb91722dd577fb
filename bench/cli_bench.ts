/**
 * The command-line tools against a throwaway etcd.
 *
 * - Load: `yaml2etcd` loading 10,000 keys (100 directories of 100), at its
 *   default concurrency (16) and at 64, beside a plain sequential loop of
 *   `client.set()` writing the same keys with the same kind of client;
 *   median of 3 alternating rounds (the first, with yaml2etcd's code still
 *   cold, is shown too). `wrk` creates keys the same way at 1 and at 16
 *   connections: how much faster etcd itself gets with 16 writes in flight
 *   bounds what any client can gain (needs `wrk`: apt-get install wrk).
 *   Goal: yaml2etcd's speed-up at the default concurrency (16) over the
 *   sequential loop is at least 0.8 of wrk's own 16-vs-1 gain, in the same
 *   run.
 * - Dump: `etcd2yaml` dumping 100,000 keys, beside one raw recursive get
 *   (`fetch`, `text()`, `JSON.parse`) of the same data; median of
 *   alternating rounds. Goal: at most 3x the raw read.
 *
 * Both tools run in this process through their `main()`, output discarded.
 *
 * ```sh
 * deno run -A bench/cli_bench.ts [--rounds 5]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Client } from "../v2/mod.ts";
import { main as dump } from "../cli/dump.ts";
import { main as load } from "../cli/load.ts";
import { startEtcd } from "../testing.ts";
import { median } from "./_stats.ts";
import { quietIo } from "./_run.ts";
import { wrkRate } from "./_wrk.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: { rounds: { type: "string", default: "5" } },
});
const ROUNDS = Number(flags.rounds);

await using etcd = await startEtcd();
await using client = new Client({ endpoints: etcd.endpoint, timeout: 60_000 });
const { etcdserver } = await client.version();
console.log(
  `etcd ${etcdserver}, Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores`,
);

let met = true;

// Load 10,000 keys.
const KEYS = 10_000;
let yaml = "";
for (let d = 0; d < KEYS / 100; d++) {
  yaml += `d${d}:\n`;
  for (let k = 0; k < 100; k++) yaml += `  k${k}: value-${d}-${k}\n`;
}
// Alternating rounds: the sequential loop, then yaml2etcd at 16 and at 64,
// each into a prefix of its own; medians. The first round runs yaml2etcd's
// code cold, as a fresh process would: it is reported as well.
const LOAD_ROUNDS = 3;
const times: Record<string, number[]> = { sequential: [], "16": [], "64": [] };
for (let round = 0; round < LOAD_ROUNDS; round++) {
  let start = performance.now();
  for (let d = 0; d < KEYS / 100; d++) {
    for (let k = 0; k < 100; k++) {
      await client.set(`sequential${round}/d${d}/k${k}`, `value-${d}-${k}`);
    }
  }
  times.sequential!.push(performance.now() - start);
  for (const concurrency of ["16", "64"]) {
    start = performance.now();
    const code = await load([
      `/loaded${concurrency}-${round}`,
      "-",
      "--concurrency",
      concurrency,
      "--endpoints",
      etcd.endpoint,
      "--api",
      "v2",
    ], quietIo(yaml));
    if (code !== 0) throw new Error(`yaml2etcd failed: ${code}`);
    times[concurrency]!.push(performance.now() - start);
  }
}
const sequential = median(times.sequential!);
console.log(
  `\nload ${KEYS} keys, median of ${LOAD_ROUNDS} rounds: sequential set loop ${
    sequential.toFixed(0)
  } ms`,
);
const speedups: Record<string, number> = {};
for (const concurrency of ["16", "64"]) {
  const loaded = median(times[concurrency]!);
  speedups[concurrency] = sequential / loaded;
  console.log(
    `  yaml2etcd --concurrency ${concurrency.padEnd(3)} ${
      loaded.toFixed(0).padStart(5)
    } ms (first, cold: ${times[concurrency]![0]!.toFixed(0)} ms): ${
      speedups[concurrency]!.toFixed(1)
    }x as fast as the loop`,
  );
}

// The server's own gain from 16 writes in flight: wrk creating keys as
// yaml2etcd does, at 1 and at 16 connections; medians of 3 alternating
// rounds of 2 s.
const script = await Deno.makeTempFile({ suffix: ".lua" });
await Deno.writeTextFile(
  script,
  `local i = 0
local prefix = os.getenv("PREFIX")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
request = function()
  i = i + 1
  return wrk.format("PUT", "/v2/keys/" .. prefix .. "/d" .. math.floor(i / 100) ..
    "/k" .. (i % 100) .. "?prevExist=false", nil, "value=value-" .. i)
end
`,
);
const created: Record<"1" | "16", number[]> = { "1": [], "16": [] };
for (let round = 0; round < 3; round++) {
  for (const connections of ["1", "16"] as const) {
    created[connections].push(
      await wrkRate(etcd.endpoint, script, Number(connections), 2, {
        PREFIX: `wrk${connections}-${round}`,
      }),
    );
  }
}
await Deno.remove(script);
const gain = median(created["16"]) / median(created["1"]);
console.log(
  `  wrk creating keys: ${median(created["1"]).toFixed(0)}/s at 1 connection, ${
    median(created["16"]).toFixed(0)
  }/s at 16: etcd itself gets ${
    gain.toFixed(1)
  }x faster with 16 writes in flight`,
);
const share = speedups["16"]! / gain;
met &&= share >= 0.8;
console.log(
  `  yaml2etcd at the default 16 gains ${
    share.toFixed(2)
  } of etcd's own gain (goal >= 0.8)`,
);

// Dump 100,000 keys.
const BIG = 100_000;
let next = 0;
await Promise.all(Array.from({ length: 64 }, async () => {
  while (next < BIG) {
    const i = next++;
    await client.set(
      `big/d${Math.floor(i / 100)}/k${i % 100}`,
      `value-${i}-${"x".repeat(12)}`,
    );
  }
}));
const raw: number[] = [];
const dumped: number[] = [];
for (let round = 0; round <= ROUNDS; round++) {
  let start = performance.now();
  const response = await fetch(`${etcd.endpoint}/v2/keys/big?recursive=true`);
  JSON.parse(await response.text());
  if (round > 0) raw.push(performance.now() - start);
  start = performance.now();
  const code = await dump(
    ["/big", "--api", "v2", "--endpoints", etcd.endpoint],
    quietIo(),
  );
  if (round > 0) dumped.push(performance.now() - start);
  if (code !== 0) throw new Error(`etcd2yaml failed: ${code}`);
}
const ratio = median(dumped) / median(raw);
met &&= ratio <= 3;
console.log(
  `dump ${BIG} keys: raw recursive get ${median(raw).toFixed(0)} ms, ` +
    `etcd2yaml ${median(dumped).toFixed(0)} ms: ${
      ratio.toFixed(2)
    }x (goal <= 3x)`,
);
console.log(met ? "\ngoal met" : "\ngoal MISSED");
