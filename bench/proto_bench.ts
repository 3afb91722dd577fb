/**
 * The v3 protobuf codec (v3/_proto/) on the answers that matter: one
 * RangeResponse of 100,000 keys (30-byte keys, 100-byte values) decoded
 * from protobuf, beside `JSON.parse` + base64 decode of the gateway's JSON
 * of the same answer (what the gateway transport pays today); and the
 * encoding of a PutRequest. Median of the rounds; no etcd needed (the
 * encodings are checked against a real etcd in tests/proto_etcd_test.ts).
 *
 * ```sh
 * deno run bench/proto_bench.ts [--keys 100000] [--rounds 9]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { PutRequest, RangeResponse } from "../v3/_proto/mod.ts";
import { median } from "./_stats.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    keys: { type: "string", default: "100000" },
    rounds: { type: "string", default: "9" },
  },
});
const keys = Number(flags.keys);
const rounds = Number(flags.rounds);

const encoder = new TextEncoder();
const text = new TextDecoder();
const value = encoder.encode("v".repeat(100));
const answer = RangeResponse.create({
  header: {
    cluster_id: 0xe4b1c5a6d2f30718n,
    member_id: 0x1a2b3c4d5e6f7081n,
    revision: 1_000_000 + keys,
    raft_term: 7,
  },
  kvs: Array.from({ length: keys }, (_, i) => ({
    key: encoder.encode(`/app/config/service-${String(i).padStart(9, "0")}`),
    value,
    create_revision: 1_000_000 + i,
    mod_revision: 1_000_000 + i,
    version: 1,
  })),
  count: keys,
});
const binary = RangeResponse.encode(answer);
const json = JSON.stringify(RangeResponse.toJson(answer));

function time(f: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    f();
    times.push(performance.now() - start);
  }
  return median(times);
}

let sink = 0;
const results: [string, number][] = [
  [
    "protobuf decode",
    time(() => {
      sink += RangeResponse.decode(binary).kvs.length;
    }),
  ],
  [
    "protobuf decode + keys and values as text",
    time(() => {
      for (const kv of RangeResponse.decode(binary).kvs) {
        sink += text.decode(kv.key).length + text.decode(kv.value).length;
      }
    }),
  ],
  [
    "JSON.parse + base64 decode (gateway today)",
    time(() => {
      const body = JSON.parse(json) as {
        kvs: { key: string; value: string }[];
      };
      for (const kv of body.kvs) {
        sink += Uint8Array.fromBase64(kv.key).length +
          Uint8Array.fromBase64(kv.value).length;
      }
    }),
  ],
  [
    "JSON.parse + base64 + text",
    time(() => {
      const body = JSON.parse(json) as {
        kvs: { key: string; value: string }[];
      };
      for (const kv of body.kvs) {
        sink += text.decode(Uint8Array.fromBase64(kv.key)).length +
          text.decode(Uint8Array.fromBase64(kv.value)).length;
      }
    }),
  ],
  [
    "JSON.parse + RangeResponse.fromJson",
    time(() => {
      sink += RangeResponse.fromJson(JSON.parse(json)).kvs.length;
    }),
  ],
];

const put = {
  key: encoder.encode("/app/config/service-000000001"),
  value,
  lease: 0x694d7a3b9c1d2e4fn,
  prev_kv: true,
};
const puts = 200_000;
const putMs = time(() => {
  for (let i = 0; i < puts; i++) sink += PutRequest.encode(put).length;
});

console.log(
  `RangeResponse of ${keys} keys: ${
    (binary.length / 1e6).toFixed(1)
  } MB protobuf, ${
    (json.length / 1e6).toFixed(1)
  } MB JSON; median of ${rounds} rounds`,
);
for (const [name, ms] of results) {
  console.log(`  ${name.padEnd(44)} ${ms.toFixed(1).padStart(7)} ms`);
}
console.log(
  `PutRequest.encode (30-byte key, 100-byte value, lease, prev_kv): ${
    Math.round(puts / (putMs / 1000)).toLocaleString("en")
  } /s (${(putMs * 1e6 / puts).toFixed(0)} ns each)`,
);
if (sink === 0) console.log("");
