// version() and health() against real etcd 3.5, on this run's transport:
// on a client URL that serves gRPC only (`--listen-client-http-urls` puts
// HTTP on a listener of its own; the gateway run uses that listener), with
// an alarm raised and disarmed, for a user refused the key read, on a
// member of a cluster that lost its quorum, and on a member that does not
// answer in time or at all.

import assert from "node:assert/strict";
import { Client, TRANSPORT } from "../_v3.ts";
import { type EtcdServer, startCluster, startEtcd } from "../../testing.ts";
import { test, until } from "../_wait.ts";

/** A loopback URL on a port free now. */
function freeUrl(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  listener.close();
  return `http://127.0.0.1:${listener.addr.port}`;
}

/**
 * The URL this run's client uses: gRPC's is the client URL (gRPC only),
 * the gateway's the HTTP listener.
 */
function endpointOf(etcd: EtcdServer): string {
  return TRANSPORT === "grpc" ? etcd.endpoint : etcd.httpOnly[0]!;
}

test("v3 version() and health() where the client URL serves gRPC only", async (t) => {
  await using etcd = await startEtcd({
    version: "3.5",
    listenHttpOnly: [freeUrl()],
  });
  const http = etcd.httpOnly[0]!;
  await using client = new Client({ endpoints: endpointOf(etcd) });

  await t.step("version() as /version on the HTTP listener says", async () => {
    const expected = await (await fetch(`${http}/version`)).json();
    assert.equal(expected.etcdserver, etcd.version);
    // Only /version says the cluster's version; gRPC's Status does not.
    assert.deepEqual(
      await client.version(),
      TRANSPORT === "grpc" ? { etcdserver: expected.etcdserver } : expected,
    );
  });

  await t.step("health(): a healthy member", async () => {
    assert.deepEqual(await client.health(), { health: true });
  });

  await t.step(
    "health(): false with an alarm, named; true once disarmed",
    async () => {
      const { header } = await client.maintenance.status();
      // etcd's own API raises it, as a full disk would.
      const raised = await fetch(`${http}/v3/maintenance/alarm`, {
        method: "POST",
        body: JSON.stringify({
          action: "ACTIVATE",
          memberID: header.memberId,
          alarm: "NOSPACE",
        }),
      });
      assert.equal(raised.status, 200, await raised.text());
      assert.deepEqual(await client.health(), {
        health: false,
        reason: "ALARM NOSPACE",
      });
      await client.maintenance.disarm();
      assert.deepEqual(await client.health(), { health: true });
    },
  );

  await t.step(
    "health(): a user refused the key `health` is healthy",
    async () => {
      await client.auth.users.add("root", "root-secret-12");
      await client.auth.roles.add("root");
      await client.auth.users.grant("root", "root");
      await client.auth.users.add("nobody", "nobody-secret-34");
      await client.auth.enable();
      await using nobody = new Client({
        endpoints: endpointOf(etcd),
        auth: { username: "nobody", password: "nobody-secret-34" },
      });
      assert.deepEqual(await nobody.health(), { health: true });
    },
  );
});

test("v3 health(): a member whose two peers are stopped is false with the reason, in time", async () => {
  await using cluster = await startCluster(3, {
    version: "3.5",
    listenHttpOnly: () => [freeUrl()],
  });
  // A follower is left: the leader is among the peers stopped.
  const leader = await cluster.leader();
  const member = cluster.members.find((member) => member !== leader);
  const peers = cluster.members.filter((peer) => peer !== member);
  const timeout = 3000;
  await using client = new Client({
    endpoints: endpointOf(member!),
    timeout,
  });
  assert.deepEqual(await client.health(), { health: true });
  for (const peer of peers) await peer.stop();
  const started = performance.now();
  const health = await client.health();
  const took = performance.now() - started;
  assert.equal(health.health, false);
  assert.ok(health.reason, "a reason");
  assert.ok(took < timeout + 1000, `${took} ms`);
  // Once the member has noticed, it says why in etcd's /health words.
  await until(
    async () => (await client.health()).reason === "RAFT NO LEADER",
    15_000,
    "health() to say RAFT NO LEADER",
    200,
  );
});

test("v3 health(): a member that does not answer in time, or at all, is false with the reason", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  const timeout = 1000;
  await using client = new Client({ endpoints: etcd.endpoint, timeout });
  // Where the client URL serves HTTP/1.1 too, both versions.
  assert.deepEqual(
    await client.version(),
    await (await fetch(`${etcd.endpoint}/version`)).json(),
  );
  assert.deepEqual(await client.health(), { health: true });

  etcd.pause();
  try {
    const started = performance.now();
    const health = await client.health();
    const took = performance.now() - started;
    assert.equal(health.health, false);
    assert.ok(health.reason, "a reason");
    assert.ok(took < timeout + 1000, `${took} ms`);
  } finally {
    etcd.resume();
  }
  await until(
    async () => (await client.health()).health,
    10_000,
    "health() after SIGCONT",
    100,
  );

  await etcd.stop();
  const health = await client.health();
  assert.equal(health.health, false);
  assert.ok(health.reason, "a reason");
});
