/**
 * Issue #24: the v3 `Client` on each wire beside etcd's own Go client, in
 * one run on one throwaway etcd 3.5:
 *
 * - Calls: range and put of the same 100 keys, 1 and 16 in flight, by Go
 *   clientv3 (`_peer_go`), `wrk` on the gateway, microsoft/etcd3 (`npm
 *   etcd3` under Node.js), this Client on gRPC and on the gateway; median
 *   of alternating rounds; and etcd's CPU per request for each (utime +
 *   stime of the etcd process around each run). Goals (the Client on gRPC,
 *   its default): at least 1.0x Go, at 16 in flight at least 3x etcd3 too;
 *   etcd's CPU per request at most 1.15x Go's.
 * - 100,000 keys of 100-byte values: one range (Go, the Client on gRPC and
 *   on the gateway, every key and value read as bytes, as Go's client gives
 *   them, and on gRPC as text too; goal at most 1.2x Go); `EtcdTree.open` beside a bare gRPC range and decode (goal at most
 *   1.3x); `etcd2yaml` beside `etcdctl get --prefix -w json`, whole
 *   processes (goal at most 1.5x).
 * - Watch: 16 writers for 10 s, then a burst of 5,000 (`_writer.ts`, a
 *   process of its own), one prefix watch; goal 100% delivered, p99 lag
 *   under 5 ms. 1,000 watches on one client: the connections etcd sees
 *   for them (goal one socket) and the heap per watch.
 *
 * Needs `wrk`, Node.js with npm (etcd3 is installed on first use into
 * `.tools/peer-v3/`), Go with Debian's golang-etcd-server-dev (the Go peer
 * is built into `.tools/peer-go/`) and etcd 3.5 in `.tools/etcd-3.5/`.
 * `--write` puts the section "v3 over gRPC vs etcd's Go client" into
 * BENCHMARKS.md; `--profile NAME` runs only the Client's part of one
 * scenario ("range x1", "put x16", "big range", "tree open", or
 * "etcd2yaml" in this process), for `--cpu-prof`.
 *
 * ```sh
 * deno run -A --v8-flags=--expose-gc bench/wire_bench.ts [--seconds 2] [--rounds 5] [--write]
 * deno run -A --cpu-prof bench/wire_bench.ts --profile "range x1"
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Client } from "../mod.ts";
import { EtcdTree } from "../tree.ts";
import { startEtcd } from "../testing.ts";
import { GrpcChannel } from "../v3/_grpc.ts";
import { RangeRequest, RangeResponse } from "../v3/_proto/mod.ts";
import { median, percentile } from "./_stats.ts";
import { main as dump } from "../cli/dump.ts";
import { goPeer, npmPeer, quietIo, rate, run } from "./_run.ts";
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
    watches: { type: "string", default: "1000" },
    profile: { type: "string" },
    write: { type: "boolean", default: false },
  },
});
const SECONDS = Number(flags.seconds);
const ROUNDS = Number(flags.rounds);
const WATCH_SECONDS = Number(flags.watch);
const BURST = Number(flags.burst);
const BIG = Number(flags.big);
const WATCHES = Number(flags.watches);
const KEYS = 100;
const COUNT = BIG.toLocaleString("en-US");
const ETCD3 = "1.1.2";
const root = new URL("..", import.meta.url).pathname;
const etcdctl = `${root}.tools/etcd-3.5/usr/bin/etcdctl`;

type Scenario = "range x1" | "put x1" | "range x16" | "put x16";
const SCENARIOS: Scenario[] = ["range x1", "put x1", "range x16", "put x16"];
const WHO = ["Go", "wrk", "etcd3", "grpc", "gateway"] as const;
type Who = typeof WHO[number];

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined && flags.profile === undefined) {
  console.error("Run with --v8-flags=--expose-gc to measure heap per watch");
  Deno.exit(2);
}

await using etcd = await startEtcd({ version: "3.5" });
const pid = etcd.pid!;
await using grpc = new Client({ endpoints: etcd.endpoint, timeout: 60_000 });
await using gateway = new Client({
  endpoints: etcd.endpoint,
  transport: "gateway",
  timeout: 60_000,
});
for (let i = 0; i < KEYS; i++) await grpc.put(`bench/k${i}`, "v");

/** etcd's CPU time so far (user + system), in microseconds. */
async function etcdCpu(): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the command, which may hold spaces: utime is the 14th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks * 1e6 / 100; // CLK_TCK is 100 on Linux
}

/** Calls a second of one of our clients in `scenario`. */
function ours(client: Client, scenario: Scenario): Promise<number> {
  return rate(scenario, KEYS, SECONDS, async (kind, i) => {
    if (kind === "put") return await client.put(`bench/k${i}`, "v");
    return (await client.get(`bench/k${i}`))?.value;
  });
}

/** 100-byte values under `big/`, 100 to a directory, in txns of 128. */
async function fillBig(): Promise<void> {
  const value = "v".repeat(100);
  for (let i = 0; i < BIG; i += 128) {
    await grpc.txn({
      success: Array.from({ length: Math.min(128, BIG - i) }, (_, j) => {
        const n = i + j;
        const key = `big/d${String(Math.floor(n / 100)).padStart(4, "0")}/k${
          String(n % 100).padStart(2, "0")
        }`;
        return { put: key, value };
      }),
    });
  }
}

/**
 * One range of `big/` by `client`, every key and value read as bytes (as
 * Go's client gives them), or as text.
 */
async function bigRange(client: Client, text = false): Promise<number> {
  const { kvs } = await client.range("big/", { prefix: true });
  let bytes = 0;
  for (const kv of kvs) {
    bytes += text
      ? kv.key.length + kv.value.length
      : kv.keyBytes.length + kv.valueBytes.length;
  }
  if (kvs.length !== BIG) throw new Error(`read ${kvs.length} keys`);
  return bytes;
}

const channel = new GrpcChannel(etcd.endpoint);
const bigRequest = RangeRequest.encode({
  key: new TextEncoder().encode("big/"),
  range_end: new TextEncoder().encode("big0"),
});

/** The baseline of a tree's open: a bare gRPC range, decoded to text. */
async function bareRange(): Promise<[string, string][]> {
  const answer = await channel.unary("/etcdserverpb.KV/Range", bigRequest);
  const decoder = new TextDecoder();
  return RangeResponse.decode(answer).kvs.map((kv) => [
    decoder.decode(kv.key),
    decoder.decode(kv.value),
  ]);
}

async function openTree(): Promise<void> {
  const tree = await EtcdTree.open(grpc, "big");
  await tree.close();
}

if (flags.profile !== undefined) {
  // Only the Client's part of one scenario, for --cpu-prof; then stop
  // (disposing first: Deno.exit skips `await using`, and etcd would stay).
  const name = flags.profile;
  let code = 0;
  if ((SCENARIOS as string[]).includes(name)) {
    await ours(grpc, name as Scenario); // warm up
    console.log(
      `${name}: ${(await ours(grpc, name as Scenario)).toFixed(0)}/s`,
    );
  } else if (["big range", "tree open", "etcd2yaml"].includes(name)) {
    await fillBig();
    const started = performance.now();
    for (let round = 0; round < ROUNDS; round++) {
      if (name === "big range") await bigRange(grpc);
      else if (name === "tree open") await openTree();
      else await dump(["big", "--endpoints", etcd.endpoint], quietIo());
    }
    console.log(
      `${name}: ${((performance.now() - started) / ROUNDS).toFixed(0)} ms`,
    );
  } else {
    console.error(`Unknown --profile ${JSON.stringify(name)}`);
    code = 2;
  }
  channel.close();
  await gateway.close();
  await grpc.close();
  await etcd[Symbol.asyncDispose]();
  Deno.exit(code);
}

const [go, peerDir, nodeVersion, load] = await Promise.all([
  goPeer(),
  npmPeer("peer-v3", "etcd3", ETCD3),
  run("node", ["--version"]).then((text) => text.trim()),
  Deno.readTextFile("/proc/loadavg").then((text) => text.split(" ")[0]!),
]);
const scripts = await gatewayScripts(KEYS);

/** A peer process doing one scenario; its ops/s. */
async function peer(who: "Go" | "etcd3", scenario: Scenario) {
  const text = who === "Go"
    ? await run(go, [etcd.endpoint, String(SECONDS)], {
      env: { PEER_SCENARIOS: scenario },
    })
    : await run("node", [
      `${root}bench/_peer_v3.cjs`,
      etcd.endpoint,
      String(SECONDS),
    ], {
      env: {
        NODE_PATH: `${peerDir}/node_modules`,
        PEER_SCENARIOS: scenario,
      },
    });
  return (JSON.parse(text) as Record<Scenario, number>)[scenario];
}

const callers: Record<Who, (scenario: Scenario) => Promise<number>> = {
  Go: (scenario) => peer("Go", scenario),
  wrk: (scenario) => {
    const [kind, times] = scenario.split(" x") as ["range" | "put", string];
    return wrkRate(etcd.endpoint, scripts.files[kind], Number(times), SECONDS);
  },
  etcd3: (scenario) => peer("etcd3", scenario),
  grpc: (scenario) => ours(grpc, scenario),
  gateway: (scenario) => ours(gateway, scenario),
};

// Calls: ops/s and etcd's CPU µs per request, per round.
const ops = new Map<string, number[]>();
const cpu = new Map<string, number[]>();
const push = (map: Map<string, number[]>, key: string, value: number) =>
  map.set(key, [...map.get(key) ?? [], value]);
for (let round = 0; round < ROUNDS; round++) {
  console.error(`calls: round ${round + 1} of ${ROUNDS} ...`);
  for (const scenario of SCENARIOS) {
    for (const who of WHO) {
      const before = await etcdCpu();
      const perSecond = await callers[who](scenario);
      const used = await etcdCpu() - before;
      push(ops, `${who} ${scenario}`, perSecond);
      push(cpu, `${who} ${scenario}`, used / (perSecond * SECONDS));
    }
  }
}
await Deno.remove(scripts.dir, { recursive: true });

const opsOf = (who: Who, scenario: Scenario) =>
  median(ops.get(`${who} ${scenario}`)!);
const cpuOf = (who: Who, scenario: Scenario) =>
  median(cpu.get(`${who} ${scenario}`)!);
const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
const x = (ratio: number) => `${ratio.toFixed(2)}x`;
const verdict = (ok: boolean) => ok ? "met" : "missed";
const missed: string[] = [];
const lines: string[] = [];

lines.push(
  row(["calls (ops/s)", ...WHO, "grpc / Go", "grpc / etcd3", "goal"]),
  row(["---", ...Array(WHO.length + 2).fill("---:"), "---"]),
);
for (const scenario of SCENARIOS) {
  const toGo = opsOf("grpc", scenario) / opsOf("Go", scenario);
  const toEtcd3 = opsOf("grpc", scenario) / opsOf("etcd3", scenario);
  const sixteen = scenario.endsWith("x16");
  const ok = toGo >= 1 && (!sixteen || toEtcd3 >= 3);
  if (!ok) missed.push(`${scenario} speed`);
  lines.push(row([
    scenario,
    ...WHO.map((who) => opsOf(who, scenario).toFixed(0)),
    x(toGo),
    x(toEtcd3),
    `>=1.0x Go${sixteen ? ", >=3x etcd3" : ""}: ${verdict(ok)}`,
  ]));
}
lines.push(
  "",
  row(["etcd CPU µs/request", ...WHO, "grpc / Go", "", "goal"]),
  row(["---", ...Array(WHO.length + 2).fill("---:"), "---"]),
);
for (const scenario of SCENARIOS) {
  const toGo = cpuOf("grpc", scenario) / cpuOf("Go", scenario);
  if (toGo > 1.15) missed.push(`${scenario} etcd CPU`);
  lines.push(row([
    scenario,
    ...WHO.map((who) => cpuOf(who, scenario).toFixed(0)),
    x(toGo),
    "",
    `<=1.15x Go: ${verdict(toGo <= 1.15)}`,
  ]));
}

// 100,000 keys.
console.error(`${BIG} keys ...`);
await fillBig();
const times = new Map<string, number[]>();
async function timed(name: string, work: () => Promise<unknown>) {
  // What the last one left (100,000 keys' worth) is collected first, not
  // swept by this process's threads while the next is measured.
  gc!();
  const started = performance.now();
  await work();
  push(times, name, performance.now() - started);
}
const processes = {
  etcd2yaml: [Deno.execPath(), [
    "run",
    "-A",
    `${root}cli/dump.ts`,
    "big",
    "--endpoints",
    etcd.endpoint,
  ]],
  etcdctl: [etcdctl, [
    "--endpoints",
    etcd.endpoint,
    "get",
    "--prefix",
    "big/",
    "-w",
    "json",
  ]],
} as const;
async function whole(name: keyof typeof processes): Promise<void> {
  const [command, args] = processes[name];
  const { success, code } = await new Deno.Command(command, {
    args: [...args],
    stdout: "null",
    stderr: "inherit",
  }).output();
  if (!success) throw new Error(`${name} failed: ${code}`);
}
// Round 0 warms up (connections, code, Deno's module cache) and is dropped.
for (let round = 0; round <= ROUNDS; round++) {
  console.error(`${BIG} keys: round ${round} of ${ROUNDS} ...`);
  const Go = JSON.parse(
    await run(go, [etcd.endpoint, "1", "big/"]),
  ) as Record<string, number>;
  if (Go["big range keys"] !== BIG) throw new Error("Go read too few keys");
  await timed("grpc range", () => bigRange(grpc));
  await timed("grpc range, as text", () => bigRange(grpc, true));
  await timed("gateway range", () => bigRange(gateway));
  await timed("bare range", bareRange);
  await timed("tree open", openTree);
  await timed("etcd2yaml", () => whole("etcd2yaml"));
  await timed("etcdctl", () => whole("etcdctl"));
  push(times, "Go range", Go["big range ms"]!);
  if (round === 0) { for (const values of times.values()) values.length = 0; }
}
const ms = (name: string) => median(times.get(name)!);
lines.push(
  "",
  row([
    `${COUNT} keys (100 B values)`,
    "ms",
    "baseline",
    "ms",
    "ratio",
    "goal",
  ]),
  row(["---", "---:", "---", "---:", "---:", "---"]),
);
for (
  const [name, baseline, goal] of [
    ["grpc range", "Go range", 1.2],
    ["grpc range, as text", "Go range", undefined],
    ["gateway range", "Go range", undefined],
    ["tree open", "bare range", 1.3],
    ["etcd2yaml", "etcdctl", 1.5],
  ] as const
) {
  const ratio = ms(name) / ms(baseline);
  if (goal !== undefined && ratio > goal) missed.push(name);
  lines.push(row([
    name,
    ms(name).toFixed(0),
    baseline,
    ms(baseline).toFixed(0),
    x(ratio),
    goal === undefined ? "" : `<=${goal}x: ${verdict(ratio <= goal)}`,
  ]));
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
  // The 100,000-key rounds leave a big heap behind: collected now, not in
  // the middle of the watch's measure.
  gc!();
  const result = await watchDelivery(grpc, etcd.endpoint, prefix, args);
  watchMet &&= result.missing === 0 && result.extra === 0 &&
    percentile(result.lags, 0.99) < 5 && result.error === undefined;
  watchLines.push(watchLine(name, result));
}
if (!watchMet) missed.push("watch delivery");

/** Established connections to etcd's client port, as etcd sees them. */
async function etcdConnections(): Promise<number> {
  const port = new URL(etcd.endpoint).port;
  let count = 0;
  for (const file of ["tcp", "tcp6"]) {
    const table = await Deno.readTextFile(`/proc/${pid}/net/${file}`);
    for (const line of table.split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state === "01" && parseInt(local!.split(":")[1]!, 16) === +port) {
        count++;
      }
    }
  }
  return count;
}

// Many watches on one client.
console.error(`${WATCHES} watches ...`);
const heap = () => {
  gc!();
  gc!();
  return Deno.memoryUsage().heapUsed;
};
const watchClient = new Client({ endpoints: etcd.endpoint });
await watchClient.get("bench/k0");
const socketsBefore = await etcdConnections();
const heapBefore = heap();
const watchers = Array.from(
  { length: WATCHES },
  (_, i) => watchClient.watch(`many/${i}`),
);
const deadline = performance.now() + 60_000;
while (
  performance.now() < deadline && watchers.some((w) => w.revision === 0)
) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const started = watchers.filter((w) => w.revision > 0).length;
const sockets = await etcdConnections() - socketsBefore;
const heapPerWatch = (heap() - heapBefore) / WATCHES;
await Promise.all(watchers.map((w) => w.close()));
await watchClient.close();
// One connection per watch: the gateway's HTTP/1.1 POST streams; none or
// one more: a shared gRPC Watch stream.
const watchWire = sockets >= WATCHES
  ? "the gateway (an HTTP/1.1 POST stream per watch)"
  : "gRPC (one Watch stream shared)";
const manyMet = started === WATCHES && sockets <= 1;
if (!manyMet) missed.push("1,000 watches");
channel.close();

const date = new Date().toISOString().slice(0, 10);
const section = `## v3 over gRPC vs etcd's Go client

Written by \`deno run -A --v8-flags=--expose-gc bench/wire_bench.ts --write\` on
${date}: etcd ${etcd.version}, Deno ${Deno.version.deno}, Node.js ${nodeVersion},
etcd3 ${ETCD3}, Go clientv3 of Debian's golang-etcd-server-dev, ${navigator.hardwareConcurrency} cores, load
average ${load} at the start${
  Number(load) >= 1 ? " (the machine was busy with other work)" : ""
}. Calls: median of ${ROUNDS} alternating rounds of ${SECONDS} s, the same ${KEYS}
keys, \`xN\` N in flight; grpc and gateway are this Client on each wire. etcd's
CPU per request is the utime + stime of etcd's process around each run (10 ms
ticks) over the requests made. ${COUNT} keys: median of ${ROUNDS} rounds after
one to warm up; etcd2yaml and etcdctl are whole processes, output discarded.

${lines.join("\n")}

Watch: this Client (gRPC for calls), its watches on ${watchWire}; one prefix
watch:

\`\`\`
${watchLines.join("\n")}
\`\`\`

${WATCHES} watches on one client: ${started} started, ${sockets} more connection(s)
to etcd, ${
  (heapPerWatch / 1024).toFixed(1)
} KiB of heap per watch (after a full GC).

Goals: ${missed.length ? `missed: ${missed.join(", ")}` : "all met"}.
`;
console.log(section);
console.log(`goal (issue #24): ${missed.length ? "missed" : "met"}`);

if (flags.write) {
  const file = `${root}BENCHMARKS.md`;
  const text = await Deno.readTextFile(file).catch(() => "# Benchmarks\n");
  const at = text.indexOf("\n## v3 over gRPC vs etcd's Go client\n");
  let updated: string;
  if (at < 0) updated = `${text.trimEnd()}\n\n${section}`;
  else {
    const next = text.indexOf("\n## ", at + 1);
    updated = `${text.slice(0, at + 1)}${section}${
      next < 0 ? "" : `\n${text.slice(next + 1)}`
    }`;
  }
  await Deno.writeTextFile(file, updated);
  await run(Deno.execPath(), ["fmt", file]);
  console.error("Wrote the section into BENCHMARKS.md");
}
