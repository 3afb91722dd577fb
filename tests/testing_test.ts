import assert from "node:assert/strict";
import { Client, Value } from "../mod.ts";
import { startCluster, startEtcd } from "../testing.ts";
import { test } from "./_wait.ts";

test("startCluster() starts a 3-member cluster that survives a member's loss", async () => {
  await using cluster = await startCluster(3);
  assert.equal(cluster.members.length, 3);
  await using client = new Client({ endpoints: cluster.endpoints });
  const members = await client.members();
  assert.deepEqual(
    members.map((member) => member.clientURLs[0]).sort(),
    [...cluster.endpoints].sort(),
  );
  const leader = await client.leader();
  assert.ok(members.some((member) => member.id === leader.id));

  // A write through one member is read back, with quorum, through another.
  await using first = new Client({ endpoints: cluster.endpoints[0]! });
  await using last = new Client({ endpoints: cluster.endpoints[2]! });
  const set = await first.set("cluster/key", "replicated");
  const got = await last.get("cluster/key", { quorum: true });
  assert.ok(got.node instanceof Value);
  assert.equal(got.node.value, "replicated");
  assert.equal(got.node.modifiedIndex, set.index);

  // Two of three members keep a quorum: once they agree on a leader, writes
  // go on.
  const killed = members.find((member) =>
    member.clientURLs[0] === cluster.endpoints[0]
  )!;
  await cluster.members[0]!.kill();
  assert.equal(cluster.members[0]!.running, false);
  for (let i = 0; i < 100; i++) {
    const current = await last.leader().catch(() => undefined);
    if (current !== undefined && current.id !== killed.id) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const after = await last.set("cluster/key", "still writable");
  assert.ok(after.index > set.index);
  await cluster.members[0]!.start();
  const back = await first.get("cluster/key", { quorum: true });
  assert.equal((back.node as Value).value, "still writable");
});

test("startEtcd() removes its data directory on dispose", async () => {
  let dir: string;
  {
    await using etcd = await startEtcd();
    dir = etcd.dir;
    assert.ok((await Deno.stat(`${dir}/data`)).isDirectory);
  }
  await assert.rejects(Deno.stat(dir), Deno.errors.NotFound);
});
