// The load for bench/watch_bench.ts, in a process of its own so that it does
// not share the watcher's event loop. Prints one JSON object: the index of
// every write and the wall-clock time (ms) its reply arrived.
//
// With WRITER_API=v3 the writes are v3 puts, and the index is the revision.
//
//   deno run -A bench/_writer.ts ENDPOINT PREFIX steady SECONDS
//   deno run -A bench/_writer.ts ENDPOINT PREFIX burst COUNT

import { Client } from "../v2/mod.ts";
import { Client as V3Client } from "../mod.ts";

const [endpoint, prefix, mode, amount] = Deno.args;
const options = {
  endpoints: endpoint!,
  timeout: 30_000,
  maxConcurrency: Number(Deno.env.get("WRITER_CONCURRENCY") ?? 64),
};
const v3 = Deno.env.get("WRITER_API") === "v3";
await using client = v3 ? new V3Client(options) : new Client(options);
const writes: [number, number][] = [];
const now = () => performance.timeOrigin + performance.now();

async function set(key: string): Promise<void> {
  const index = client instanceof V3Client
    ? (await client.put(key, "x")).revision
    : (await client.set(key, "x")).index;
  writes.push([index, now()]);
}

const began = performance.now();
if (mode === "steady") {
  const end = began + Number(amount) * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: 16 }, async (_, worker) => {
      while (performance.now() < end) {
        await set(`${prefix}/w${worker}/${n++ % 100}`);
      }
    }),
  );
} else {
  await Promise.all(
    Array.from(
      { length: Number(amount) },
      (_, i) => set(`${prefix}/k${i % 500}`),
    ),
  );
}
const seconds = (performance.now() - began) / 1000;
console.log(JSON.stringify({ seconds, writes }));
