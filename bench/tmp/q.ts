import { Client } from "../../mod.ts";
import { startEtcd } from "../../testing.ts";
await using etcd = await startEtcd();
await using client = new Client({ endpoints: etcd.endpoint });
{
  const start = (await client.set("fast/seed", "0")).index + 1;
  await using watcher = client.watch("fast", {
    recursive: true,
    waitIndex: start,
  });
  await Promise.all(Array.from({ length: 16 }, async (_, writer) => {
    for (let i = 0; i < 150; i++) await client.set(`fast/w${writer}`, `${i}`);
  }));
  const burst = await Promise.all(
    Array.from({ length: 2000 }, (_, i) => client.set(`fast/b${i % 97}`, "b")),
  );
  const it = watcher[Symbol.asyncIterator]();
  let n = 0;
  const total = 2400;
  while (n < total) {
    await it.next();
    n++;
  }
  console.log("burst step done");
}
console.log("closed");
await using watcher = client.watch("quiet", { recursive: true });
let k = 0;
while (watcher.index === 0 && k++ < 300) {
  await new Promise((r) => setTimeout(r, 10));
}
console.log("index", watcher.index);
