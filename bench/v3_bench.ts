/**
 * The v3 client against a throwaway etcd 3.5, side by side with the
 * ceiling and the peers, in one run:
 *
 * - Calls: range and put of the same 100 keys, sequentially and 16 at a
 *   time, by `wrk` on the gateway (the ceiling), bare `fetch` on the
 *   gateway, microsoft/etcd3 (npm `etcd3`, gRPC, under Node.js) and this
 *   `Client`; median of alternating rounds. Goals: range x1 and x16 at
 *   least 0.5x wrk, put x1 at least 0.8x and put x16 at least 0.7x wrk; at
 *   least 3x etcd3 for ranges and 1.2x for puts.
 * - Watch: 16 writers at full speed for 10 s, then a burst of 5,000 puts
 *   (in a process of their own, `_writer.ts`), a prefix watch on them.
 *   Goal: 100% delivered, p99 lag under 50 ms.
 * - One range of 100,000 keys, every key and value read as text, beside a
 *   bare `fetch` + `JSON.parse` + base64 decode of the same answer. Goal:
 *   at most 1.3x.
 *
 * Needs `wrk`, Node.js with npm (etcd3 is installed on first use into
 * `.tools/peer-v3/`) and etcd 3.5 (`tools/dev.sh` downloads it).
 *
 * ```sh
 * deno run -A bench/v3_bench.ts [--seconds 2] [--rounds 5] [--watch 10]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Client } from "../mod.ts";
import { startEtcd } from "../testing.ts";
import { median, percentile } from "./_stats.ts";
import { npmPeer, rate, run } from "./_run.ts";
import { gatewayScripts, wrkRate } from "./_wrk.ts";
import { WATCH_HEADER, watchDelivery, watchLine } from "./_watch.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "2" },
    rounds: { type: "string", default: "5" },
    watch: { type: "string", default: "10" },
    burst: { type: "string", default: "5000" },
    big: { type: "string", default: "100000" },
  },
});
const SECONDS = Number(flags.seconds);
const ROUNDS = Number(flags.rounds);
const WATCH_SECONDS = Number(flags.watch);
const BURST = Number(flags.burst);
const BIG = Number(flags.big);
const KEYS = 100;
const ETCD3 = "1.1.2";
const root = new URL("..", import.meta.url).pathname;

type Scenario = "range x1" | "put x1" | "range x16" | "put x16";
const SCENARIOS: Scenario[] = ["range x1", "put x1", "range x16", "put x16"];

await using etcd = await startEtcd({ version: "3.5" });
await using client = new Client({ endpoints: etcd.endpoint });
for (let i = 0; i < KEYS; i++) await client.put(`bench/k${i}`, "v");
const peerDir = await npmPeer("peer-v3", "etcd3", ETCD3);
const nodeVersion = (await run("node", ["--version"])).trim();

const b64 = (text: string) => new TextEncoder().encode(text).toBase64();
const scripts = await gatewayScripts(KEYS);
const rangeBodies = scripts.bodies.range;
const putBodies = scripts.bodies.put;

function wrk(scenario: Scenario): Promise<number> {
  const [kind, times] = scenario.split(" x") as [string, string];
  return wrkRate(
    etcd.endpoint,
    scripts.files[kind as "range" | "put"],
    Number(times),
    SECONDS,
  );
}

function ours(scenario: Scenario): Promise<number> {
  return rate(scenario, KEYS, SECONDS, async (kind, i) => {
    if (kind === "put") return await client.put(`bench/k${i}`, "v");
    return (await client.get(`bench/k${i}`))?.value;
  });
}

/** Deno's `fetch` doing the same calls, decoding what a caller needs. */
function bare(scenario: Scenario): Promise<number> {
  const decoder = new TextDecoder();
  return rate(scenario, KEYS, SECONDS, async (kind, i) => {
    const response = await fetch(`${etcd.endpoint}/v3/kv/${kind}`, {
      method: "POST",
      body: (kind === "range" ? rangeBodies[i] : putBodies[i])!,
    });
    const body = JSON.parse(await response.text());
    if (kind === "range") {
      return decoder.decode(Uint8Array.fromBase64(body.kvs[0].value));
    }
    return body.header.revision;
  });
}

async function peer(): Promise<Record<Scenario, number>> {
  const text = await run(
    "node",
    [`${root}bench/_peer_v3.cjs`, etcd.endpoint, String(SECONDS)],
    { env: { NODE_PATH: `${peerDir}/node_modules` } },
  );
  return JSON.parse(text);
}

const figures: Record<string, Record<Scenario, number[]>> = {};
for (const who of ["wrk", "fetch", "etcd3", "Client"]) {
  figures[who] = {
    "range x1": [],
    "put x1": [],
    "range x16": [],
    "put x16": [],
  };
}
for (let round = 0; round < ROUNDS; round++) {
  console.error(`round ${round + 1} of ${ROUNDS} ...`);
  for (const scenario of SCENARIOS) {
    figures.wrk![scenario].push(await wrk(scenario));
    figures.fetch![scenario].push(await bare(scenario));
    figures.Client![scenario].push(await ours(scenario));
  }
  const fromPeer = await peer();
  for (const scenario of SCENARIOS) {
    figures.etcd3![scenario].push(fromPeer[scenario]);
  }
}
await Deno.remove(scripts.dir, { recursive: true });

const m = (who: string, scenario: Scenario) => median(figures[who]![scenario]);
const goals: Record<Scenario, { wrk: number; peer: number }> = {
  "range x1": { wrk: 0.5, peer: 3 },
  "put x1": { wrk: 0.8, peer: 1.2 },
  "range x16": { wrk: 0.5, peer: 3 },
  "put x16": { wrk: 0.7, peer: 1.2 },
};
let met = true;
const table = [
  "scenario".padEnd(11) + "wrk".padStart(8) + "fetch".padStart(8) +
  "etcd3".padStart(8) + "Client".padStart(8) + "/wrk".padStart(7) +
  "/fetch".padStart(8) + "/etcd3".padStart(8) + "  goals",
];
for (const scenario of SCENARIOS) {
  const toWrk = m("Client", scenario) / m("wrk", scenario);
  const toPeer = m("Client", scenario) / m("etcd3", scenario);
  const goal = goals[scenario];
  const ok = toWrk >= goal.wrk && toPeer >= goal.peer;
  met &&= ok;
  table.push(
    scenario.padEnd(11) + m("wrk", scenario).toFixed(0).padStart(8) +
      m("fetch", scenario).toFixed(0).padStart(8) +
      m("etcd3", scenario).toFixed(0).padStart(8) +
      m("Client", scenario).toFixed(0).padStart(8) +
      `${toWrk.toFixed(2)}x`.padStart(7) +
      `${(m("Client", scenario) / m("fetch", scenario)).toFixed(2)}x`.padStart(
        8,
      ) +
      `${toPeer.toFixed(2)}x`.padStart(8) +
      `  >=${goal.wrk}x wrk, >=${goal.peer}x etcd3: ${ok ? "met" : "missed"}`,
  );
}

// Watch delivery.
const watchLines = [WATCH_HEADER];
let watchMet = true;
for (
  const [name, prefix, args] of [
    [`16 writers, ${WATCH_SECONDS} s`, "steady", [
      "steady",
      `${WATCH_SECONDS}`,
    ]],
    [`burst of ${BURST}`, "burst", ["burst", `${BURST}`]],
  ] as const
) {
  console.error(`watch: ${name} ...`);
  const result = await watchDelivery(client, etcd.endpoint, prefix, args);
  const p99 = percentile(result.lags, 0.99);
  watchMet &&= result.missing === 0 && result.extra === 0 && p99 < 50 &&
    result.error === undefined;
  watchLines.push(watchLine(name, result));
}

// One big range.
console.error(`range of ${BIG} keys ...`);
const value = "v".repeat(100);
for (let i = 0; i < BIG; i += 128) {
  await client.txn({
    success: Array.from(
      { length: Math.min(128, BIG - i) },
      (_, j) => ({ put: `big/${String(i + j).padStart(6, "0")}`, value }),
    ),
  });
}
const decoder = new TextDecoder();
const bigBody = JSON.stringify({
  key: b64("big/"),
  range_end: b64("big0"),
});
async function bareBig(): Promise<number> {
  const response = await fetch(`${etcd.endpoint}/v3/kv/range`, {
    method: "POST",
    body: bigBody,
  });
  const body = JSON.parse(await response.text());
  let bytes = 0;
  for (const kv of body.kvs) {
    bytes += decoder.decode(Uint8Array.fromBase64(kv.key)).length +
      decoder.decode(Uint8Array.fromBase64(kv.value)).length;
  }
  return bytes;
}
async function ourBig(): Promise<number> {
  const { kvs } = await client.range("big/", { prefix: true });
  let bytes = 0;
  for (const kv of kvs) bytes += kv.key.length + kv.value.length;
  return bytes;
}
const bigTimes: Record<string, number[]> = { bare: [], Client: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const [who, read] of [["bare", bareBig], ["Client", ourBig]] as const) {
    const started = performance.now();
    const bytes = await read();
    bigTimes[who]!.push(performance.now() - started);
    if (bytes !== BIG * (10 + value.length)) {
      throw new Error(`${who} read ${bytes} bytes of text, not ${BIG * 110}`);
    }
  }
}
const bigRatio = median(bigTimes.Client!) / median(bigTimes.bare!);
const bigMet = bigRatio <= 1.3;

console.log(
  `etcd ${etcd.version}, Deno ${Deno.version.deno}, Node.js ${nodeVersion}, etcd3 ${ETCD3}, ${navigator.hardwareConcurrency} cores`,
);
console.log(
  `calls: ops/s, median of ${ROUNDS} alternating rounds of ${SECONDS} s, the same ${KEYS} keys`,
);
console.log(table.join("\n"));
console.log(
  `goal (calls, ratios above): ${met ? "met" : "missed"}`,
);
console.log("");
console.log(watchLines.join("\n"));
console.log(
  `goal (watch: 100% delivered, p99 lag under 50 ms): ${
    watchMet ? "met" : "missed"
  }`,
);
console.log("");
console.log(
  `range of ${BIG} keys (100 B values), median of ${ROUNDS}: bare fetch + JSON.parse + base64 ${
    median(bigTimes.bare!).toFixed(0)
  } ms, Client ${median(bigTimes.Client!).toFixed(0)} ms, ${
    bigRatio.toFixed(2)
  }x`,
);
console.log(
  `goal (big range at most 1.3x the bare read): ${bigMet ? "met" : "missed"}`,
);
