// Lease keep-alives on one gRPC LeaseKeepAlive stream (counted by etcd),
// and a snapshot over the Maintenance/Snapshot server stream, against real
// etcd 3.4 and 3.5.

import assert from "node:assert/strict";
import { H2Error } from "../../_h2/errors.ts";
import { startCluster, startEtcd } from "../../testing.ts";
import { GrpcChannel } from "../../v3/_grpc.ts";
import { GrpcKeepAlive } from "../../v3/_grpc_keepalive.ts";
import {
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseRevokeRequest,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  METHODS,
  PutRequest,
  SnapshotRequest,
  SnapshotResponse,
} from "../../v3/_proto/mod.ts";
import { metric } from "../_metrics.ts";
import { within } from "../_wait.ts";

async function grant(channel: GrpcChannel, ttl: number): Promise<bigint> {
  const answer = await channel.unary(
    METHODS.lease.grant.path,
    LeaseGrantRequest.encode({ TTL: ttl }),
  );
  return LeaseGrantResponse.decode(answer).ID;
}

async function timeToLive(channel: GrpcChannel, id: bigint): Promise<number> {
  const answer = await channel.unary(
    METHODS.lease.timeToLive.path,
    LeaseTimeToLiveRequest.encode({ ID: id }),
  );
  return LeaseTimeToLiveResponse.decode(answer).TTL;
}

const keepAliveStreams = (etcd: Parameters<typeof metric>[0]) =>
  metric(
    etcd,
    "grpc_server_started_total",
    'grpc_method="LeaseKeepAlive"',
  );

for (const version of ["3.5", "3.4"] as const) {
  Deno.test(`grpc keep-alive etcd ${version}: many leases refreshed at once on one stream; a lease gone answers TTL 0`, async () => {
    await using etcd = await startEtcd({ version });
    const channel = new GrpcChannel(etcd.endpoint);
    const keepAlive = new GrpcKeepAlive((path, options) =>
      channel.bidi(path, options)
    );
    try {
      const leases = await Promise.all(
        [3, 4, 5, 6, 7].map((ttl) => grant(channel, ttl)),
      );
      // 20 rounds of every lease, all at once: each answer is its lease's.
      const refreshes = [];
      for (let round = 0; round < 20; round++) {
        for (const id of leases) refreshes.push(keepAlive.refresh(id));
      }
      const answers = await within(
        Promise.all(refreshes),
        10_000,
        "100 refreshes",
      );
      answers.forEach((answer, i) => {
        assert.equal(answer.ID, leases[i % leases.length]);
        assert.equal(answer.TTL, 3 + (i % leases.length));
      });
      // Kept alive past its TTL by refreshes on the one stream.
      for (let i = 0; i < 4; i++) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        await keepAlive.refresh(leases[0]!);
      }
      assert.ok(await timeToLive(channel, leases[0]!) > 0);
      await channel.unary(
        METHODS.lease.revoke.path,
        LeaseRevokeRequest.encode({ ID: leases[1]! }),
      );
      assert.equal((await keepAlive.refresh(leases[1]!)).TTL, 0);
      assert.equal((await keepAlive.refresh(12345n)).TTL, 0);
      assert.equal(keepAlive.streamsOpened, 1);
      assert.equal(channel.connections, 1);
      assert.equal(await keepAliveStreams(etcd), 1);
      // An aborted refresh rejects with the reason; the stream goes on.
      const abort = new AbortController();
      const reason = new Error("no more");
      const aborted = keepAlive.refresh(leases[2]!, abort.signal);
      abort.abort(reason);
      await assert.rejects(aborted, (error) => error === reason);
      assert.equal((await keepAlive.refresh(leases[2]!)).TTL, 5);
      assert.equal(keepAlive.streamsOpened, 1);
    } finally {
      keepAlive.close();
      channel.close();
    }
  });
}

Deno.test("grpc keep-alive etcd 3.5: the stream fails with the member and is reopened", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  const channel = new GrpcChannel(etcd.endpoint);
  const keepAlive = new GrpcKeepAlive((path, options) =>
    channel.bidi(path, options)
  );
  try {
    const id = await grant(channel, 30);
    assert.equal((await keepAlive.refresh(id)).TTL, 30);
    etcd.pause(); // a refresh waits for a member that does not answer...
    // (once the stop has taken hold: on a busy machine a refresh sent at
    // once could still be answered)
    await new Promise((resolve) => setTimeout(resolve, 200));
    const waiting = keepAlive.refresh(id).catch((error) => error);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await etcd.stop("SIGKILL"); // ...and fails when the member is gone.
    const error = await within(waiting, 10_000, "the refresh to fail");
    assert.ok(error instanceof H2Error, String(error));
    await etcd.start();
    assert.equal((await keepAlive.refresh(id)).TTL, 30);
    assert.equal(keepAlive.streamsOpened, 2);
  } finally {
    keepAlive.close();
    channel.close();
  }
});

Deno.test("grpc keep-alive etcd 3.5: a member stopping (GOAWAY) sends the next refreshes elsewhere at once", async () => {
  await using cluster = await startCluster(3, { version: "3.5" });
  // A follower, so that the cluster keeps its leader when it stops.
  const leader = await cluster.leader();
  const [stopping, other] = cluster.members.filter((m) => m !== leader);
  const channels = [stopping!, other!].map((member) =>
    new GrpcChannel(member.endpoint)
  );
  // As the client's caller does: streams go to the member that still works.
  let current = 0;
  const keepAlive = new GrpcKeepAlive((path, options) =>
    channels[current]!.bidi(path, {
      ...options,
      onDraining: (error) => {
        current = 1;
        options.onDraining?.(error);
      },
    })
  );
  try {
    const id = await grant(channels[1]!, 30);
    const first = await keepAlive.refresh(id);
    const stoppingId = first.header!.member_id;
    const stopped = stopping!.stop("SIGTERM"); // etcd lets streams run 7 s
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = performance.now();
    const next = await within(keepAlive.refresh(id), 5000, "a refresh");
    assert.equal(next.TTL, 30);
    assert.notEqual(next.header!.member_id, stoppingId);
    assert.ok(performance.now() - started < 2000);
    assert.equal(keepAlive.streamsOpened, 2);
    await stopped;
  } finally {
    keepAlive.close();
    for (const channel of channels) channel.close();
  }
});

for (const version of ["3.5", "3.4"] as const) {
  Deno.test(`grpc snapshot etcd ${version}: the chunks make a snapshot whose checksum holds; leaving early cancels`, async () => {
    await using etcd = await startEtcd({ version });
    const channel = new GrpcChannel(etcd.endpoint);
    const snapshots = {
      async *snapshot(signal?: AbortSignal) {
        const stream = channel.serverStream(
          METHODS.maintenance.snapshot.path,
          SnapshotRequest.encode({}),
          { signal },
        );
        for await (const chunk of stream) yield SnapshotResponse.decode(chunk);
      },
    };
    try {
      const value = new Uint8Array(100_000).fill(3);
      for (let i = 0; i < 40; i++) {
        await channel.unary(
          METHODS.kv.put.path,
          PutRequest.encode({ key: new TextEncoder().encode(`k${i}`), value }),
        );
      }
      const chunks: Uint8Array[] = [];
      let last = -1;
      for await (const chunk of snapshots.snapshot()) {
        chunks.push(chunk.blob);
        last = chunk.remaining_bytes;
      }
      assert.ok(chunks.length > 1, `${chunks.length} chunk(s)`);
      assert.equal(last, 0);
      const snapshot = new Uint8Array(
        chunks.reduce((sum, chunk) => sum + chunk.length, 0),
      );
      let at = 0;
      for (const chunk of chunks) {
        snapshot.set(chunk, at);
        at += chunk.length;
      }
      assert.ok(snapshot.length > 4_000_000);
      // etcd ends a snapshot with the SHA-256 of the database before it
      // (what `etcdutl snapshot restore` checks).
      const body = snapshot.subarray(0, snapshot.length - 32);
      const digest = new Uint8Array(
        await crypto.subtle.digest("SHA-256", body),
      );
      assert.deepEqual(digest, snapshot.subarray(snapshot.length - 32));

      // Leaving after one chunk cancels the call; the channel goes on.
      for await (const chunk of snapshots.snapshot()) {
        assert.ok(chunk.blob.length > 0);
        break;
      }
      const abort = new AbortController();
      abort.abort(new Error("not now"));
      await assert.rejects(
        async () => {
          for await (const _ of snapshots.snapshot(abort.signal)) {
            // nothing
          }
        },
        /not now/,
      );
      assert.equal(await grant(channel, 5) > 0n, true);
      assert.equal(channel.connections, 1);
    } finally {
      channel.close();
    }
  });
}
