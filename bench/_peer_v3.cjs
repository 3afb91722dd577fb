// The v3 peer, microsoft/etcd3 (gRPC) under Node.js, doing the same work as
// bench/v3_bench.ts asks of the others. Prints one JSON object: ops/s per
// scenario. PEER_SCENARIOS (say "range x16,put x1") runs only those, so
// that etcd's CPU can be read around each.
//
//   node bench/_peer_v3.cjs ENDPOINT SECONDS
"use strict";
const { Etcd3 } = require("etcd3");

const [endpoint, seconds] = process.argv.slice(2);
const client = new Etcd3({ hosts: endpoint });
const KEYS = 100;
const key = (i) => `bench/k${i % KEYS}`;

function op(kind, i) {
  return kind === "range"
    ? client.get(key(i)).string()
    : client.put(key(i)).value("v").exec();
}

async function run(kind, concurrency) {
  const end = performance.now() + Number(seconds) * 1000;
  let count = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) await op(kind, count++);
  }));
  return count / Number(seconds);
}

(async () => {
  await op("range", 0); // connect first
  const out = {};
  const wanted = process.env.PEER_SCENARIOS;
  for (
    const [kind, concurrency] of [["range", 1], ["put", 1], ["range", 16], [
      "put",
      16,
    ]]
  ) {
    const name = `${kind} x${concurrency}`;
    if (wanted && !wanted.split(",").includes(name)) continue;
    out[name] = await run(kind, concurrency);
  }
  client.close();
  process.stdout.write(JSON.stringify(out) + "\n");
})().catch((error) => {
  process.stderr.write(String(error) + "\n");
  process.exit(1);
});
