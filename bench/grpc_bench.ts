/**
 * Our gRPC over our HTTP/2 (v3/_grpc.ts, _h2/) against a throwaway etcd
 * 3.5, beside Deno's `node:http2` sending the same hand-encoded bytes:
 * unary Range and Put of 100 keys, 1 and 16 in flight, median of
 * alternating rounds; then one range of 100,000 keys (~15 MB). Go's
 * clientv3 measured 2303 (range x1) and 8795 (range x16) ops/s on this
 * machine class: the goal.
 *
 * ```sh
 * deno run -A bench/grpc_bench.ts [--seconds 2] [--rounds 3]
 * ```
 *
 * @module
 */

import http2 from "node:http2";
import { parseArgs } from "node:util";
import { startEtcd } from "../testing.ts";
import { GrpcChannel } from "../v3/_grpc.ts";
import { median } from "./_stats.ts";
import { rate } from "./_run.ts";
import { putRequest, rangeRequest, txnPuts } from "../tests/_protobuf.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "2" },
    rounds: { type: "string", default: "3" },
  },
});
const seconds = Number(flags.seconds);
const rounds = Number(flags.rounds);
const KEYS = 100;
const RANGE = "/etcdserverpb.KV/Range";
const PUT = "/etcdserverpb.KV/Put";

function framed(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

/** A unary call by node:http2, as a naive gRPC client would make it. */
function nodeUnary(
  session: http2.ClientHttp2Session,
  path: string,
  body: Uint8Array,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
    });
    const chunks: Uint8Array[] = [];
    let status: string | undefined;
    stream.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    stream.on("trailers", (trailers) => {
      status = String(trailers["grpc-status"]);
    });
    stream.on("error", reject);
    stream.on("end", () => {
      if (status !== "0") reject(new Error(`grpc-status ${status}`));
      else resolve(new Uint8Array(Buffer.concat(chunks)).subarray(5));
    });
    stream.end(body);
  });
}

await using etcd = await startEtcd({ version: "3.5" });
const channel = new GrpcChannel(etcd.endpoint);
const session = http2.connect(etcd.endpoint);
const keys = Array.from({ length: KEYS }, (_, i) => `bench/${i}`);
const ranges = keys.map((key) => rangeRequest(key));
const puts = keys.map((key) => putRequest(key, "v".repeat(100)));
const nodeRanges = ranges.map(framed);
const nodePuts = puts.map(framed);
for (const put of puts) await channel.unary(PUT, put);

const clients = {
  ours: (kind: string, i: number) =>
    kind === "range"
      ? channel.unary(RANGE, ranges[i]!)
      : channel.unary(PUT, puts[i]!),
  "node:http2": (kind: string, i: number) =>
    kind === "range"
      ? nodeUnary(session, RANGE, nodeRanges[i]!)
      : nodeUnary(session, PUT, nodePuts[i]!),
};

console.log(
  `ops/s, median of ${rounds} rounds of ${seconds} s, etcd ${etcd.version}`,
);
console.log("| scenario | ours | node:http2 | Go clientv3 (reference) |");
console.log("|---|---|---|---|");
const GO: Record<string, number> = {
  "range x1": 2303,
  "range x16": 8795,
  "put x1": 898,
  "put x16": 6959,
};
for (const scenario of ["range x1", "range x16", "put x1", "put x16"]) {
  const results: Record<string, number[]> = { ours: [], "node:http2": [] };
  for (let round = 0; round < rounds; round++) {
    for (const [name, send] of Object.entries(clients)) {
      results[name]!.push(await rate(scenario, KEYS, seconds, send));
    }
  }
  console.log(
    `| ${scenario} | ${median(results.ours!).toFixed(0)} | ${
      median(results["node:http2"]!).toFixed(0)
    } | ${GO[scenario]} |`,
  );
}

// One range of 100,000 keys.
const value = "v".repeat(120);
let next = 0;
await Promise.all(Array.from({ length: 16 }, async () => {
  while (next < 100_000) {
    const pairs: [string, string][] = [];
    for (; pairs.length < 128 && next < 100_000; next++) {
      pairs.push([`big/${String(next).padStart(6, "0")}`, value]);
    }
    await channel.unary("/etcdserverpb.KV/Txn", txnPuts(pairs));
  }
}));
const big = rangeRequest("big/", "big0");
const times: Record<string, number[]> = { ours: [], "node:http2": [] };
for (let round = 0; round < rounds; round++) {
  let started = performance.now();
  const answer = await channel.unary(RANGE, big);
  times.ours!.push(performance.now() - started);
  started = performance.now();
  await nodeUnary(session, RANGE, framed(big));
  times["node:http2"]!.push(performance.now() - started);
  if (round === 0) {
    console.log(`\n100,000-key range, ${(answer.length / 1e6).toFixed(1)} MB:`);
  }
}
console.log(
  `ours ${median(times.ours!).toFixed(0)} ms, node:http2 ${
    median(times["node:http2"]!).toFixed(0)
  } ms (Go clientv3: 279 ms, with decoding)`,
);
channel.close();
session.close();
