// v3 failover counted at the wire: two proxies in front of one etcd 3.5
// stand for two members, so a test can break one and count what each got;
// and a real cluster that loses quorum while a write waits.

import assert from "node:assert/strict";
import {
  ClusterMismatch,
  ConnectionFailed,
  errorKind,
  RequestTimeout,
  UnexpectedResponse,
  type WatchEvent,
} from "../../mod.ts";
import { Client, handled, TRANSPORT } from "../_v3.ts";
import { startCluster, startEtcd } from "../../testing.ts";
import { type Proxy, startProxy } from "../_proxy.ts";
import { delay, take, test, until, within } from "../_wait.ts";

test("v3 failover: reads move on, writes are never sent twice", async (t) => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using direct = new Client({ endpoints: etcd.endpoint });
  await direct.put("k", "v");
  const proxies: Proxy[] = [];
  const pair = (timeout = 2000) => {
    const first = startProxy(etcd.clientPort);
    const second = startProxy(etcd.clientPort);
    proxies.push(first, second);
    // The proxies count and break HTTP/1.1 exchanges: the gateway's.
    const client = new Client({
      endpoints: [first.endpoint, second.endpoint],
      timeout,
      transport: "gateway",
    });
    return { first, second, client };
  };
  /** How many times `key` was written since created. */
  const versionOf = async (key: string) =>
    (await direct.get(key))?.version ?? 0;
  try {
    await t.step("a member answering HTTP 502 is left for a read", async () => {
      const { first, second, client } = pair();
      await using _ = client;
      await client.get("k"); // the gateway's prefix is asked once, first
      first.failAnswers(502);
      const got = await within(client.get("k"), 5000, "get() through a 502");
      assert.equal(got?.value, "v");
      assert.equal(first.count("POST", "/v3/kv/range"), 2);
      assert.equal(second.count("POST", "/v3/kv/range"), 1);
    });

    await t.step("a write answered HTTP 502 is not sent again", async () => {
      const { first, second, client } = pair();
      await using _ = client;
      await client.get("k");
      first.failAnswers(502);
      const error = await within(
        client.put("w502", "x").catch((error) => error),
        5000,
        "put() through a 502",
      );
      assert.ok(error instanceof UnexpectedResponse, String(error));
      assert.equal(error.mayHaveBeenApplied, true);
      assert.equal(first.count("POST", "/v3/kv/put"), 1);
      assert.equal(second.count("POST", "/v3/kv/put"), 0);
      assert.equal(await versionOf("w502"), 1, "applied once");
    });

    await t.step("a write that times out is not sent again", async () => {
      const { first, second, client } = pair(500);
      await using _ = client;
      await client.get("k");
      first.holdAnswers();
      const error = await within(
        client.put("wtimeout", "x").catch((error) => error),
        5000,
        "put() to a member that does not answer",
      );
      assert.ok(error instanceof RequestTimeout, String(error));
      assert.equal(second.count("POST", "/v3/kv/put"), 0);
      first.passAnswers();
      assert.equal(await versionOf("wtimeout"), 1);
    });

    await t.step(
      "a write cut after it was sent is not sent again",
      async () => {
        const { first, second, client } = pair();
        await using _ = client;
        await client.get("k");
        first.holdAnswers();
        const writing = client.put("wcut", "x").catch((error) => error);
        await until(
          async () => (await versionOf("wcut")) === 1,
          5000,
          "etcd to apply the write whose answer is held",
        );
        first.cut();
        const error = await within(writing, 5000, "put() on a cut connection");
        assert.ok(error instanceof ConnectionFailed, String(error));
        assert.equal(error.mayHaveBeenApplied, true);
        assert.equal(second.count("POST", "/v3/kv/put"), 0);
        assert.equal(await versionOf("wcut"), 1);
      },
    );

    await t.step(
      "a write refused before sending goes to the next",
      async () => {
        const nobody = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        const closed = `http://127.0.0.1:${nobody.addr.port}`;
        nobody.close();
        const second = startProxy(etcd.clientPort);
        proxies.push(second);
        await using client = new Client({
          endpoints: [closed, second.endpoint],
        });
        await client.put("wrefused", "x");
        if (TRANSPORT === "gateway") {
          assert.equal(second.count("POST", "/v3/kv/put"), 1);
        }
        assert.equal(await versionOf("wrefused"), 1);
      },
    );
  } finally {
    for (const proxy of proxies) await proxy[Symbol.asyncDispose]();
  }
});

test("v3: a write to a member without quorum is known not applied", async () => {
  await using cluster = await startCluster(3, { version: "3.5" });
  const [first, second, third] = cluster.members;
  await using client = new Client({
    endpoints: [first!.endpoint, second!.endpoint],
  });
  await client.put("q/k", "0");
  await second!.stop();
  await third!.stop();
  await until(
    // Until it knows, a health check waits for a read that cannot be
    // served (and says health: false, timed out): wait for the words.
    () =>
      client.health({ timeout: 1000 }).then(
        (h) => /no leader/i.test(h.reason ?? ""),
        () => false,
      ),
    10_000,
    "the first member to lose its leader",
  );
  // The first member says at once that it has no leader (the client asks
  // it to): the write was not applied, so it may go to the next member,
  // which is down too. Nothing is in doubt.
  const error = await within(
    client.put("q/once", "x").catch((error) => error),
    5000,
    "the write to fail",
  );
  assert.ok(error instanceof ConnectionFailed, String(error));
  assert.equal(error.mayHaveBeenApplied, false);
  assert.match(error.message, /no leader/);
  await second!.start(false);
  await third!.start(false);
  await Promise.all(cluster.members.map((member) => member.waitHealthy()));
  assert.equal(await client.get("q/once"), undefined, "not applied");
  await client.put("q/once", "x");
  assert.equal((await client.get("q/once"))?.version, 1);
});

test("v3: two separate clusters as endpoints of one client: the second is never used for data", async () => {
  await using one = await startEtcd({ version: "3.5" });
  await using other = await startEtcd({ version: "3.5" });
  await using direct = new Client({ endpoints: other.endpoint });
  const otherId = (await direct.put("k", "other cluster")).header.clusterId;
  // Disposed in the test (its listener closed): refused connections.
  const proxy = startProxy(one.clientPort);
  await using client = new Client({
    endpoints: [proxy.endpoint, other.endpoint],
    timeout: 3000,
  });
  // The first answer pins the first cluster.
  const oneId = (await client.put("k", "one")).header.clusterId;
  assert.notEqual(oneId, otherId);
  proxy.block(); // the first cluster's only member is gone
  for (let i = 0; i < 3; i++) {
    const error = await client.get("k").catch((error) => error);
    assert.ok(error instanceof ConnectionFailed, String(error));
    const refused = error.failures.find((failure) =>
      failure.endpoint === other.endpoint
    )?.error;
    assert.ok(refused instanceof ClusterMismatch, String(error));
    assert.equal(refused.expected, oneId);
    assert.equal(refused.actual, otherId);
    assert.match(
      error.message,
      new RegExp(`belongs to cluster ${otherId}, not ${oneId}`),
    );
  }
  proxy.unblock();
  assert.equal((await client.get("k"))?.value, "one");
  await client.put("k", "one again");
  // The first cluster's member refuses connections: a write surely not
  // sent goes to the next member, but only once its member list says it is
  // of the pinned cluster. It is never applied on another.
  await proxy[Symbol.asyncDispose]();
  // A read first, so the client has seen its connection go (a write on it
  // meanwhile might have arrived: it would go nowhere else).
  await client.get("k").catch(() => {});
  const refused = await client.put("k", "lost").catch((error) => error);
  assert.ok(refused instanceof ConnectionFailed, String(refused));
  assert.equal(refused.mayHaveBeenApplied, false);
  assert.ok(
    refused.failures.some((failure) =>
      failure.error instanceof ClusterMismatch
    ),
    String(refused),
  );
  assert.equal((await direct.get("k"))?.value, "other cluster");
});

/**
 * Pins `client` to the first cluster with a write, grants a lease there
 * and starts a watch of `w` from the next revision, which has taken the
 * change `writer` makes next; disposing of it closes the watch.
 */
async function watchingPinned(client: Client, writer: Client) {
  const pinned = await client.put("w", "0");
  const lease = await client.lease.grant(30);
  const watcher = client.watch("w", {
    startRevision: pinned.header.revision + 1,
  });
  const changes = watcher[Symbol.asyncIterator]();
  try {
    await writer.put("w", "1");
    const [first] = await take(changes, 1, 10_000, "the first change");
    assert.equal(first!.kv.value, "1");
  } catch (error) {
    await watcher.close();
    throw error;
  }
  return { lease, changes, [Symbol.asyncDispose]: () => watcher.close() };
}

test("v3: streams never take another cluster's answers: a watch waits for its own, a keep-alive does not call its lease gone", async () => {
  await using one = await startEtcd({ version: "3.5" });
  await using other = await startEtcd({ version: "3.5" });
  await using own = new Client({ endpoints: one.endpoint });
  await using direct = new Client({ endpoints: other.endpoint });
  const proxy = startProxy(one.clientPort);
  await using client = new Client({
    endpoints: [proxy.endpoint, other.endpoint],
    timeout: 3000,
  });
  await using pinned = await watchingPinned(client, own);
  const { lease, changes } = pinned;
  proxy.block(); // the first cluster's only member is gone
  // The other cluster's history of the same key, at the revisions the
  // watch goes on from.
  for (let i = 0; i < 5; i++) await direct.put("w", `other ${i}`);
  const pending = changes.next();
  const early = await Promise.race([pending, delay(2500)]);
  assert.equal(
    early,
    undefined,
    `the watch took another cluster's change: ${
      JSON.stringify((early as IteratorResult<WatchEvent> | undefined)?.value)
    }`,
  );
  // The other cluster does not know the lease: that is not "gone".
  const refresh = () =>
    client.lease.keepAliveOnce(lease.id).catch((error: Error) => error);
  const refusals: Error[] = [];
  for (let i = 0; i < 3; i++) {
    const refreshed = await refresh();
    assert.ok(refreshed instanceof Error, `TTL ${refreshed}`);
    assert.equal(errorKind(refreshed), "unavailable", String(refreshed));
    refusals.push(refreshed);
  }
  // Refused for the other cluster's answer (not only the closed proxy).
  assert.ok(
    refusals.some((error) =>
      error instanceof ConnectionFailed &&
      error.failures.some((failure) => failure.error instanceof ClusterMismatch)
    ),
    refusals.map(String).join("\n"),
  );
  proxy.unblock();
  await own.put("w", "2");
  const next = await within(pending, 15_000, "the first cluster's next change");
  assert.equal(next.done, false);
  assert.equal(next.value!.kv.value, "2");
  assert.ok(await client.lease.keepAliveOnce(lease.id) > 0);
  await proxy[Symbol.asyncDispose]();
});

test("v3: another cluster at a client's only address (a restore from a snapshot, say): its watch and keep-alive end with ClusterMismatch, taking nothing from it", async () => {
  await using one = await startEtcd({ version: "3.5" });
  await using other = await startEtcd({ version: "3.5" });
  await using direct = new Client({ endpoints: other.endpoint });
  const proxy = startProxy(one.clientPort);
  await using client = new Client({ endpoints: proxy.endpoint, timeout: 3000 });
  await using pinned = await watchingPinned(client, client);
  const { lease, changes } = pinned;
  for (let i = 0; i < 5; i++) await direct.put("w", `other ${i}`);
  proxy.retarget(other.clientPort);
  const ended = await within(
    changes.next().catch((error: Error) => error),
    15_000,
    "the watch's end",
  );
  assert.ok(
    ended instanceof ClusterMismatch,
    ended instanceof Error ? String(ended) : JSON.stringify(ended),
  );
  const refreshed = await client.lease.keepAliveOnce(lease.id)
    .catch((error: Error) => error);
  assert.ok(refreshed instanceof ClusterMismatch, `TTL ${refreshed}`);
  await proxy[Symbol.asyncDispose]();
});

test("v3: a user without the root role writes after a failover (the next member is asked its cluster)", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  {
    await using admin = new Client({ endpoints: etcd.endpoint });
    await admin.auth.users.add("root", "root-secret");
    await admin.auth.roles.add("root");
    await admin.auth.users.grant("root", "root");
    await admin.auth.roles.add("app");
    await admin.auth.roles.grant("app", {
      type: "readwrite",
      key: "app/",
      prefix: true,
    });
    await admin.auth.users.add("alice", "alice-secret");
    await admin.auth.users.grant("alice", "app");
    await admin.auth.enable();
  }
  // Two endpoints of one member: the proxy first, then the member itself.
  const proxy = startProxy(etcd.clientPort);
  await using client = new Client({
    endpoints: [proxy.endpoint, etcd.endpoint],
    auth: { username: "alice", password: "alice-secret" },
    timeout: 3000,
  });
  await client.put("app/k", "1"); // pins the cluster, through the proxy
  // (etcd's /metrics on a connection of its own: one kept open would hold
  // etcd's shutdown)
  const close = { headers: { connection: "close" } };
  const before = await handled(etcd.endpoint, "MemberList", close);
  await proxy[Symbol.asyncDispose]();
  await delay(300); // the client sees its connections to the proxy go
  // The member itself has not answered yet: it is asked which cluster it
  // is of, with what alice may ask, then the write goes.
  await client.put("app/k", "2");
  assert.equal(await handled(etcd.endpoint, "MemberList", close), before + 1);
  assert.equal((await client.get("app/k"))?.value, "2");
});
