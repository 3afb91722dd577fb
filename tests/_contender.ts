// A separate process for the coordination tests.
//
//   count ENDPOINT TIMES   increment /counter TIMES times under the lock "counter"
//   hold ENDPOINT TTL      take the lock "held", say "held", wait to be killed
//   candidate ENDPOINT NAME TTL
//                          campaign in "boss" as NAME, say "leader"; "resign"
//                          on stdin resigns and exits
//   alive ENDPOINT KEY TTL keep KEY alive, say "alive", wait to be killed

import {
  Client,
  Election,
  keepAlive,
  KeyNotFound,
  Lock,
  type Value,
} from "../v2/mod.ts";

const [mode, endpoint, a, b] = Deno.args;
const client = new Client({ endpoints: endpoint! });
const say = (line: string) =>
  Deno.stdout.write(new TextEncoder().encode(line + "\n"));
const forever = () => new Promise(() => setInterval(() => {}, 1 << 30));

if (mode === "count") {
  const lock = new Lock(client, "counter", { ttl: 5 });
  for (let i = 0; i < Number(a); i++) {
    await lock.acquire();
    let count = 0;
    try {
      const { node } = await client.get("counter");
      count = Number((node as Value).value);
    } catch (error) {
      if (!(error instanceof KeyNotFound)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
    await client.set("counter", String(count + 1));
    // Acquisition order, with this holder's place in the queue.
    await client.append("order", String(lock.key!.split("/").at(-1)));
    await lock.release();
  }
  await say("done");
  await client.close();
} else if (mode === "hold") {
  const lock = new Lock(client, "held", { ttl: Number(a) });
  await lock.acquire();
  await say("held");
  await forever();
} else if (mode === "candidate") {
  const election = new Election(client, "boss", { ttl: Number(b) });
  await election.campaign(a!);
  await say("leader");
  for await (const chunk of Deno.stdin.readable) {
    if (new TextDecoder().decode(chunk).includes("resign")) break;
  }
  await election.resign();
  await say("resigned");
  await client.close();
  Deno.exit(0);
} else if (mode === "alive") {
  await keepAlive(client, a!, "up", { ttl: Number(b) });
  await say("alive");
  await forever();
}
