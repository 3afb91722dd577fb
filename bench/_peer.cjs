// The peer, node-etcd under Node.js, doing the same work as bench/compare.ts
// asks of the others. Prints one JSON object: ops/s per scenario.
//
//   node bench/_peer.cjs ENDPOINT SECONDS
"use strict";
const Etcd = require("node-etcd");

const [endpoint, seconds] = process.argv.slice(2);
const etcd = new Etcd([endpoint]);
const KEYS = 100;
const key = (i) => `bench/k${i % KEYS}`;

function op(kind, i) {
  return new Promise((resolve, reject) => {
    const done = (error) => (error ? reject(error) : resolve());
    if (kind === "get") etcd.get(key(i), done);
    else etcd.set(key(i), "v", done);
  });
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
  const out = {};
  for (
    const [kind, concurrency] of [["get", 1], ["set", 1], ["get", 16], [
      "set",
      16,
    ]]
  ) {
    out[`${kind} x${concurrency}`] = await run(kind, concurrency);
  }
  process.stdout.write(JSON.stringify(out) + "\n");
})().catch((error) => {
  process.stderr.write(String(error) + "\n");
  process.exit(1);
});
