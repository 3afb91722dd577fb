/**
 * One benchmark run, side by side: the raw HTTP ceiling (`wrk`), the peer
 * (`node-etcd` under Node.js) and this project's `Client`, doing the same
 * gets and sets of the same 100 keys on one throwaway etcd, sequentially and
 * 16 at a time. Each figure is the median of several alternating rounds.
 * Then the scenario benchmarks of the other modules run (watch, tree, CLI,
 * viewer, v3, v3 by wire; each on a throwaway etcd of its own), and everything is
 * written to `BENCHMARKS.md`.
 *
 * Needs `wrk` (`apt-get install wrk`), Node.js with npm (node-etcd is
 * installed on first use into `.tools/peer/`) and Chromium for the viewer.
 *
 * ```sh
 * deno run -A bench/compare.ts [--seconds 2] [--rounds 5] [--quick]
 * ```
 *
 * Goals (ratios in one run): sequential get and set at least 2x node-etcd;
 * set at least 0.8x and get at least 0.5x wrk at 1 connection; 16-way set at
 * least 0.6x and get at least 0.4x wrk at 16 connections.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Client } from "../v2/mod.ts";
import { startEtcd } from "../testing.ts";
import { median } from "./_stats.ts";
import { npmPeer, rate, run } from "./_run.ts";
import { wrkRate } from "./_wrk.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "2" },
    rounds: { type: "string", default: "5" },
    // Skip the scenario benchmarks of the other modules.
    quick: { type: "boolean", default: false },
  },
});
const SECONDS = Number(flags.seconds);
const ROUNDS = Number(flags.rounds);
const KEYS = 100;
const NODE_ETCD = "7.0.0";
const root = new URL("..", import.meta.url).pathname;

type Scenario = "get x1" | "set x1" | "get x16" | "set x16";
const SCENARIOS: Scenario[] = ["get x1", "set x1", "get x16", "set x16"];

await using etcd = await startEtcd();
await using client = new Client({ endpoints: etcd.endpoint });
for (let i = 0; i < KEYS; i++) await client.set(`bench/k${i}`, "v");
const { etcdserver } = await client.version();
const peerDir = await npmPeer("peer", "node-etcd", NODE_ETCD);
const nodeVersion = (await run("node", ["--version"])).trim();

const scripts = await Deno.makeTempDir();
await Deno.writeTextFile(
  `${scripts}/get.lua`,
  `local i = 0
request = function()
  i = (i + 1) % ${KEYS}
  return wrk.format("GET", "/v2/keys/bench/k" .. i)
end
`,
);
await Deno.writeTextFile(
  `${scripts}/set.lua`,
  `local i = 0
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
request = function()
  i = (i + 1) % ${KEYS}
  return wrk.format("PUT", "/v2/keys/bench/k" .. i, nil, "value=v")
end
`,
);

function wrk(scenario: Scenario): Promise<number> {
  const [kind, times] = scenario.split(" x") as [string, string];
  return wrkRate(
    etcd.endpoint,
    `${scripts}/${kind}.lua`,
    Number(times),
    SECONDS,
  );
}

async function peer(): Promise<Record<Scenario, number>> {
  const text = await run(
    "node",
    [`${root}bench/_peer.cjs`, etcd.endpoint, String(SECONDS)],
    { env: { NODE_PATH: `${peerDir}/node_modules` } },
  );
  return JSON.parse(text);
}

function ours(scenario: Scenario): Promise<number> {
  return rate(
    scenario,
    KEYS,
    SECONDS,
    (kind, i) =>
      kind === "get"
        ? client.get(`bench/k${i}`)
        : client.set(`bench/k${i}`, "v"),
  );
}

/** Deno's `fetch` doing the same requests with nothing around it. */
function bare(scenario: Scenario): Promise<number> {
  return rate(scenario, KEYS, SECONDS, async (kind, i) => {
    const url = `${etcd.endpoint}/v2/keys/bench/k${i}`;
    const response = kind === "get" ? await fetch(url) : await fetch(url, {
      method: "PUT",
      body: "value=v",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    return JSON.parse(await response.text());
  });
}

const figures: Record<string, Record<Scenario, number[]>> = {
  wrk: { "get x1": [], "set x1": [], "get x16": [], "set x16": [] },
  fetch: { "get x1": [], "set x1": [], "get x16": [], "set x16": [] },
  "node-etcd": { "get x1": [], "set x1": [], "get x16": [], "set x16": [] },
  Client: { "get x1": [], "set x1": [], "get x16": [], "set x16": [] },
};
for (let round = 0; round < ROUNDS; round++) {
  console.error(`round ${round + 1} of ${ROUNDS} ...`);
  for (const scenario of SCENARIOS) {
    figures.wrk![scenario].push(await wrk(scenario));
    figures.fetch![scenario].push(await bare(scenario));
    figures.Client![scenario].push(await ours(scenario));
  }
  const fromPeer = await peer();
  for (const scenario of SCENARIOS) {
    figures["node-etcd"]![scenario].push(fromPeer[scenario]);
  }
}
await Deno.remove(scripts, { recursive: true });

const m = (who: string, scenario: Scenario) => median(figures[who]![scenario]);
const goals: Record<Scenario, { wrk: number; peer?: number }> = {
  "get x1": { wrk: 0.5, peer: 2 },
  "set x1": { wrk: 0.8, peer: 2 },
  "get x16": { wrk: 0.4 },
  "set x16": { wrk: 0.6 },
};
const lines = [
  "| scenario | wrk (ceiling) | bare fetch | node-etcd | Client | Client / wrk | Client / fetch | Client / node-etcd | goals |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---|",
];
let met = true;
for (const scenario of SCENARIOS) {
  const toWrk = m("Client", scenario) / m("wrk", scenario);
  const toPeer = m("Client", scenario) / m("node-etcd", scenario);
  const goal = goals[scenario];
  const ok = toWrk >= goal.wrk &&
    (goal.peer === undefined || toPeer >= goal.peer);
  met &&= ok;
  lines.push(
    `| ${scenario} | ${m("wrk", scenario).toFixed(0)} | ${
      m("fetch", scenario).toFixed(0)
    } | ${m("node-etcd", scenario).toFixed(0)} | ${
      m("Client", scenario).toFixed(0)
    } | ${toWrk.toFixed(2)}x | ${
      (m("Client", scenario) / m("fetch", scenario)).toFixed(2)
    }x | ${toPeer.toFixed(2)}x | ≥${goal.wrk}x wrk${
      goal.peer ? `, ≥${goal.peer}x node-etcd` : ""
    }: ${ok ? "met" : "MISSED"} |`,
  );
}
const table = lines.join("\n");
console.log(`\n${table}\n`);

// The scenario benchmarks of the other modules, each as it reports itself.
const scenarios: string[] = [];
const missedScenarios: string[] = [];
if (!flags.quick) {
  for (
    const [file, v8] of [
      ["client_bench.ts", false],
      ["watch_bench.ts", false],
      ["tree_bench.ts", true],
      ["cli_bench.ts", false],
      ["view_bench.ts", false],
      ["v3_bench.ts", false],
      ["tree_v3_bench.ts", true],
      // Writes its own section of BENCHMARKS.md (kept below).
      ["wire_bench.ts", true],
    ] as const
  ) {
    console.error(`running bench/${file} ...`);
    const own = file === "wire_bench.ts";
    const text = await run(Deno.execPath(), [
      "run",
      "-A",
      ...(v8 ? ["--v8-flags=--expose-gc"] : []),
      `${root}bench/${file}`,
      ...(own ? ["--write"] : []),
    ]);
    if (!own) {
      scenarios.push(`### bench/${file}\n\n\`\`\`\n${text.trim()}\n\`\`\``);
    }
    // Each reports its goals on lines that start with "goal".
    if (/^goal.*\bmissed\b/im.test(text)) missedScenarios.push(file);
  }
}

// The sections written by other means (wire_bench.ts, notes of profiles)
// stay: every "## " section but this report's own.
const kept = (await Deno.readTextFile(`${root}BENCHMARKS.md`).catch(() => ""))
  .split(/^(?=## )/m).slice(1)
  .filter((section) => !section.startsWith("## Scenarios\n"));

const report = `# Benchmarks

Written by \`deno run -A bench/compare.ts\` (part of \`deno task bench\`) on
${
  new Date().toISOString().slice(0, 10)
}: ${navigator.hardwareConcurrency} cores, etcd ${etcdserver}, Deno ${Deno.version.deno},
Node.js ${nodeVersion}, node-etcd ${NODE_ETCD}. Operations per second, median of ${ROUNDS}
alternating rounds of ${SECONDS} s, on one throwaway etcd, the same ${KEYS} keys for
everyone; \`xN\` is N requests in flight at once (wrk: N connections).

${table}

Goals: ${
  met && missedScenarios.length === 0 ? "all met" : `not all met (${
    [
      ...(met ? [] : ["see the table"]),
      ...missedScenarios.map((file) => `missed in ${file}`),
    ].join("; ")
  })`
}. These machines are
noisy: the ratios measured in one run are what count. "bare fetch" is Deno's
\`fetch\` doing the same requests with nothing around it. The Client does not
use fetch by default: it speaks HTTP/1.1 over Deno's sockets itself, with
keep-alive connections (\`transport: "fetch"\` is the option), so it can be
faster than bare fetch. Its CPU per request counts about double on two cores,
because etcd needs the other core: what is left of the gap to wrk at one
connection is the Client's own work per request (keys, results, deadlines).

## Scenarios

${scenarios.length ? scenarios.join("\n\n") : "(skipped: --quick)"}

${kept.join("\n")}`;
await Deno.writeTextFile(`${root}BENCHMARKS.md`, report);
await run(Deno.execPath(), ["fmt", `${root}BENCHMARKS.md`]);
console.log(
  `Wrote BENCHMARKS.md; goals ${
    met && missedScenarios.length === 0 ? "met" : "MISSED"
  }`,
);
