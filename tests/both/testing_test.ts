import assert from "node:assert/strict";
import { Client, Value } from "../../v2/mod.ts";
import { startCluster, startEtcd } from "../../testing.ts";
import { test } from "../_wait.ts";

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
  // The cluster names the same leader as etcd's own statistics.
  assert.equal(
    (await cluster.leader()).endpoint,
    members.find((member) => member.id === leader.id)!.clientURLs[0],
  );

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

test("startEtcd() says how to install etcd when it cannot start the one asked for", async (t) => {
  await t.step("no such binary", async () => {
    await assert.rejects(
      startEtcd({ binary: "/nonexistent/etcd" }),
      /no "\/nonexistent\/etcd" executable found; install it with "apt-get install etcd-server"/,
    );
  });
  await t.step("a binary of another version", async () => {
    const etcd34 = await startEtcd({ version: "3.4" });
    const binary = etcd34.binary;
    await etcd34[Symbol.asyncDispose]();
    await assert.rejects(
      startEtcd({ version: "3.5", binary }),
      /^Error: Cannot start etcd 3\.5: .* is etcd 3\.4\.\d+; run "bash tools\/dev\.sh test" as root once/,
    );
  });
  await t.step("an etcd that exits at once, with its log", async () => {
    await assert.rejects(
      startEtcd({ args: ["--no-such-flag"] }),
      /^Error: Cannot start etcd "etcd0": the process exited: flag provided but not defined: -no-such-flag$/,
    );
  });
  await t.step("a cluster of no members", async () => {
    await assert.rejects(
      startCluster(0),
      /^RangeError: Invalid cluster size 0: expected 1 or more/,
    );
  });
  await t.step("a version it does not know", async () => {
    await assert.rejects(
      startEtcd({ version: "3.6" as "3.5" }),
      /^TypeError: Invalid version "3\.6": expected "3\.4" or "3\.5"/,
    );
  });
});
