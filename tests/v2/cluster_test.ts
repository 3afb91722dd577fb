// A client, a watcher and a tree on a real 3-member cluster while members
// die, hang and come back.

import assert from "node:assert/strict";
import {
  Client,
  ClusterMismatch,
  ConnectionFailed,
  errorKind,
  EtcdError,
  EtcdTree,
  RequestTimeout,
  TransportError,
} from "../../v2/mod.ts";
import { startCluster, startEtcd } from "../../testing.ts";
import { assertMirrors, delay } from "../_tree.ts";
import { startProxy } from "../_proxy.ts";
import { take, test, until, within } from "../_wait.ts";

const TIMEOUT = 1500;

test("a 3-member cluster: a member killed, another hung, all down and back", async () => {
  await using cluster = await startCluster(3);
  const [first, second] = cluster.members;
  await using client = new Client({
    endpoints: cluster.endpoints,
    timeout: TIMEOUT,
  });
  const { etcdIndex } = await client.mkdir("c");
  const seen = new Set<number>();
  const watcher = client.watch("c", {
    recursive: true,
    waitIndex: etcdIndex + 1,
  });
  let watchError: unknown;
  const watching = (async () => {
    for await (const event of watcher) seen.add(event.node.modifiedIndex);
  })().catch((error) => watchError = error);
  await using tree = await EtcdTree.open(client, "c", { retryFor: 60_000 });

  // Four loops of sets and gets, at a pace that keeps etcd's history of
  // 1000 events longer than a hung member takes to notice; every call ends,
  // in success or an error, within its timeout (plus a little).
  let stop = false;
  const applied: number[] = [];
  const errors = new Map<string, number>();
  let slowest = 0;
  const loops = Array.from({ length: 4 }, async (_, worker) => {
    for (let i = 0; !stop; i++) {
      const started = performance.now();
      try {
        if (i % 3 === 2) await client.get(`c/w${worker}`);
        else applied.push((await client.set(`c/w${worker}`, `${i}`)).index);
      } catch (error) {
        if (!(error instanceof TransportError || error instanceof EtcdError)) {
          throw error;
        }
        errors.set(error.name, (errors.get(error.name) ?? 0) + 1);
        await delay(20);
      }
      slowest = Math.max(slowest, performance.now() - started);
      await delay(20);
    }
  });

  await delay(1500);
  await first!.kill(); // the member everything talks to at first
  await delay(2500);
  await first!.start();
  await delay(1500);
  second!.pause(); // hangs: connections open, nothing answers
  await delay(3000);
  // While it still hangs, the watcher and the tree have moved on.
  const during = Math.max(...applied);
  let heardDuring = false;
  for (let i = 0; i < 50 && !heardDuring; i++) {
    heardDuring = seen.has(during) && tree.index >= during;
    if (!heardDuring) await delay(100);
  }
  second!.resume();
  assert.ok(heardDuring, "the watcher and tree left the hung member");
  await delay(1500);
  stop = true;
  await Promise.all(loops);

  assert.ok(applied.length > 100, `sets went through: ${applied.length}`);
  assert.ok(
    slowest < TIMEOUT + 1000,
    `no call hangs past its timeout: slowest ${slowest.toFixed(0)} ms`,
  );
  // The watcher saw every set that succeeded.
  const last = Math.max(...applied);
  const deadline = Date.now() + 10_000;
  while (!seen.has(last) && Date.now() < deadline) await delay(50);
  assert.equal(watchError, undefined);
  const missing = applied.filter((index) => !seen.has(index));
  assert.deepEqual(missing, [], `errors: ${JSON.stringify([...errors])}`);
  // The tree converged.
  await assertMirrors(client, tree);

  // Every member down: a clear error within the timeout.
  await Promise.all(cluster.members.map((member) => member.kill()));
  const started = performance.now();
  const error = await client.get("c").catch((error) => error);
  const took = performance.now() - started;
  assert.ok(
    error instanceof ConnectionFailed || error instanceof RequestTimeout,
    String(error),
  );
  assert.ok(took < TIMEOUT + 1000, `failed in ${took.toFixed(0)} ms`);
  for (const endpoint of cluster.endpoints) {
    assert.ok(error.message.includes(endpoint), error.message);
  }
  // Back up: the same client works again.
  await Promise.all(cluster.members.map((member) => member.start()));
  let back: unknown;
  for (let attempt = 0; attempt < 50; attempt++) {
    back = await client.set("c/back", "yes").catch((error) => error);
    if (!(back instanceof Error)) break;
    await delay(200);
  }
  assert.ok(!(back instanceof Error), String(back));
  assert.equal(await tree.synced((back as { index: number }).index), undefined);
  assert.equal(tree.get("back"), "yes");
  await watcher.close();
  await watching;
});

test("sync() learns the members; a member of another cluster is refused", async () => {
  await using cluster = await startCluster(3);
  await using client = new Client({ endpoints: cluster.endpoints[1]! });
  assert.deepEqual(
    [...await client.sync()].sort(),
    [...cluster.endpoints].sort(),
  );
  assert.equal(
    client.endpoints[0],
    cluster.endpoints[1],
    "the one in use stays first",
  );
  // syncInterval does the same on its own.
  await using syncing = new Client({
    endpoints: cluster.endpoints[2]!,
    syncInterval: 100,
  });
  await until(
    () => syncing.endpoints.length === 3,
    5000,
    "syncInterval to learn the members",
  );
  assert.deepEqual(
    [...syncing.endpoints].sort(),
    [...cluster.endpoints].sort(),
  );

  // A client pinned to this cluster that is pointed at another one.
  await using other = await startEtcd();
  await using mixed = new Client({
    endpoints: [cluster.endpoints[0]!, other.endpoint],
    timeout: TIMEOUT,
  });
  await mixed.set("pin", "cluster");
  await cluster.members[0]!.kill();
  const error = await mixed.get("pin").catch((error) => error);
  assert.ok(error instanceof ConnectionFailed, String(error));
  const refused = error.failures.find((failure) =>
    failure.error instanceof ClusterMismatch
  );
  assert.ok(refused, error.message);
  assert.equal(errorKind(refused.error), "invalid");
  assert.match(error.message, /belongs to cluster [0-9a-f]+, not [0-9a-f]+/);
});

test("a watcher and a tree leave a member that hangs", async () => {
  await using cluster = await startCluster(3);
  // A follower hangs, so that the writes made meanwhile need no election.
  const leader = await cluster.leader();
  const hung = cluster.members.findIndex((member) => member !== leader);
  const others = [0, 1, 2].filter((index) => index !== hung);
  const proxies = cluster.members.map((member) =>
    startProxy(member.clientPort)
  );
  try {
    // The client starts at the follower: the watcher's connections go there.
    await using client = new Client({
      endpoints: [hung, ...others].map((index) => proxies[index]!.endpoint),
      timeout: 1500,
    });
    await using direct = new Client({ endpoints: leader.endpoint });
    const { etcdIndex } = await direct.mkdir("h");
    const watcher = client.watch("h", {
      recursive: true,
      waitIndex: etcdIndex + 1,
    });
    const events = watcher[Symbol.asyncIterator]();
    await using tree = await EtcdTree.open(client, "h");
    const first = await direct.set("h/a", "1");
    const [seen] = await take(events, 1, 10_000, "the first change");
    assert.equal(seen!.node.modifiedIndex, first.index);
    assert.ok(
      proxies[hung]!.open > 0,
      "the watcher's connections are on the member that will hang",
    );
    const elsewhere = () =>
      others.reduce((sum, index) => sum + proxies[index]!.accepted, 0);
    const before = elsewhere();
    cluster.members[hung]!.pause();
    try {
      const during = await direct.set("h/b", "2");
      const [event] = await take(
        events,
        1,
        8000,
        "the change made while a member hangs",
      );
      assert.equal(event!.node.modifiedIndex, during.index);
      assert.ok(elsewhere() > before, "the watcher moved to another member");
      await within(
        tree.synced(during.index),
        8000,
        "the tree to show the change made while a member hangs",
      );
      assert.equal(tree.get("b"), "2");
    } finally {
      cluster.members[hung]!.resume();
    }
    await watcher.close();
  } finally {
    for (const proxy of proxies) await proxy[Symbol.asyncDispose]();
  }
});
