// The v3 codec (v3/_proto/) against a real etcd 3.5: each request encoded
// by it is sent over gRPC (node:http2) and, where it can be, the same
// request as the gateway's JSON; both answers decoded by it must agree.

import assert from "node:assert/strict";
import * as pb from "../../v3/_proto/mod.ts";
import { METHODS } from "../../v3/_proto/mod.ts";
import { startEtcd } from "../../testing.ts";
import { ProtoPeer, withoutRevision } from "../_proto_peer.ts";

const text = new TextEncoder();
const bytes = (s: string) => text.encode(s);
const str = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const keysOf = (r: pb.RangeResponse) => r.kvs.map((kv) => str(kv.key));

Deno.test("the v3 codec against etcd 3.5, over gRPC and the gateway", async (t) => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using peer = new ProtoPeer(etcd.endpoint);

  /** A read through both doors, whose answers must be the same. */
  async function both<Q extends object, A extends object>(
    method: pb.Method<Q, A>,
    request: pb.Init<Q>,
  ): Promise<A> {
    const viaGrpc = await peer.grpcCall(method, request);
    const viaGateway = await peer.gatewayCall(method, request);
    assert.deepEqual(withoutRevision(viaGrpc), withoutRevision(viaGateway));
    return viaGrpc;
  }

  await t.step("Put with prev_kv and a lease; Range sees it", async () => {
    const grant = await peer.grpcCall(METHODS.lease.grant, {
      TTL: 60,
      ID: 0x7a3b9c1d2e4f5061n,
    });
    assert.equal(grant.ID, 0x7a3b9c1d2e4f5061n); // beyond 2^53, exact
    assert.equal(grant.TTL, 60);
    const other = await peer.gatewayCall(METHODS.lease.grant, {
      TTL: 60,
      ID: grant.ID + 1n,
    });
    assert.deepEqual(
      withoutRevision({ ...other, ID: grant.ID }),
      withoutRevision(grant),
    );
    const first = await peer.grpcCall(METHODS.kv.put, {
      key: bytes("p/a"),
      value: Uint8Array.of(0, 0xff, 0x80),
      lease: grant.ID,
    });
    assert.equal(first.prev_kv, undefined);
    assert.ok(first.header!.revision > 1);
    assert.notEqual(first.header!.cluster_id, 0n);
    const second = await peer.gatewayCall(METHODS.kv.put, {
      key: bytes("p/a"),
      value: bytes("2"),
      prev_kv: true,
    });
    // The gateway's answer shows what gRPC wrote: bytes and lease exact.
    assert.deepEqual([...second.prev_kv!.value], [0, 0xff, 0x80]);
    assert.equal(second.prev_kv!.lease, grant.ID);
    assert.equal(second.prev_kv!.mod_revision, first.header!.revision);
    const third = await peer.grpcCall(METHODS.kv.put, {
      key: bytes("p/a"),
      value: bytes("3"),
      prev_kv: true,
    });
    assert.equal(str(third.prev_kv!.value), "2");
    assert.equal(third.prev_kv!.version, 2);
    assert.equal(third.prev_kv!.lease, 0n);
    const got = await both(METHODS.kv.range, { key: bytes("p/a") });
    assert.equal(got.count, 1);
    assert.equal(got.kvs[0]!.version, 3);
    assert.equal(got.kvs[0]!.create_revision, first.header!.revision);
  });

  await t.step(
    "Range: limits, keys_only, count_only, sort, revisions",
    async () => {
      for (const k of ["r/a", "r/b", "r/c", "r/d"]) {
        await peer.grpcCall(METHODS.kv.put, {
          key: bytes(k),
          value: bytes(k.toUpperCase()),
        });
      }
      const prefix = { key: bytes("r/"), range_end: bytes("r0") };
      const all = await both(METHODS.kv.range, prefix);
      assert.deepEqual(keysOf(all), ["r/a", "r/b", "r/c", "r/d"]);
      assert.equal(str(all.kvs[1]!.value), "R/B");
      const limited = await both(METHODS.kv.range, { ...prefix, limit: 2 });
      assert.deepEqual(keysOf(limited), ["r/a", "r/b"]);
      assert.equal(limited.more, true);
      assert.equal(limited.count, 4);
      const keysOnly = await both(METHODS.kv.range, {
        ...prefix,
        keys_only: true,
      });
      assert.equal(keysOnly.kvs[0]!.value.length, 0);
      assert.equal(keysOnly.kvs[0]!.mod_revision, all.kvs[0]!.mod_revision);
      const counted = await both(METHODS.kv.range, {
        ...prefix,
        count_only: true,
      });
      assert.deepEqual(counted.kvs, []);
      assert.equal(counted.count, 4);
      const sorted = await both(METHODS.kv.range, {
        ...prefix,
        sort_order: pb.SortOrder.DESCEND,
        sort_target: pb.SortTarget.VALUE,
      });
      assert.deepEqual(keysOf(sorted), ["r/d", "r/c", "r/b", "r/a"]);
      const past = await both(METHODS.kv.range, {
        ...prefix,
        revision: all.kvs[1]!.mod_revision,
        serializable: true,
      });
      assert.deepEqual(keysOf(past), ["r/a", "r/b"]);
      const filtered = await both(METHODS.kv.range, {
        ...prefix,
        min_mod_revision: all.kvs[2]!.mod_revision,
        max_create_revision: all.kvs[2]!.create_revision,
      });
      assert.deepEqual(keysOf(filtered), ["r/c"]);
    },
  );

  await t.step("DeleteRange with prev_kv", async () => {
    const viaGrpc = await peer.grpcCall(METHODS.kv.deleteRange, {
      key: bytes("r/a"),
      prev_kv: true,
    });
    assert.equal(viaGrpc.deleted, 1);
    assert.equal(str(viaGrpc.prev_kvs[0]!.value), "R/A");
    const viaGateway = await peer.gatewayCall(METHODS.kv.deleteRange, {
      key: bytes("r/b"),
      range_end: bytes("r0"),
      prev_kv: true,
    });
    assert.equal(viaGateway.deleted, 3);
    assert.deepEqual(viaGateway.prev_kvs.map((kv) => str(kv.key)), [
      "r/b",
      "r/c",
      "r/d",
    ]);
    const none = await both(METHODS.kv.deleteRange, {
      key: bytes("r/missing"),
    });
    assert.equal(none.deleted, 0);
  });

  await t.step("Txn: every compare target, nested transactions", async () => {
    const put = await peer.grpcCall(METHODS.kv.put, {
      key: bytes("t/k"),
      value: bytes("v"),
    });
    const rev = put.header!.revision;
    const kv = (await peer.grpcCall(METHODS.kv.range, { key: bytes("t/k") }))
      .kvs[0]!;
    const compare: pb.Init<pb.Compare>[] = [
      { key: bytes("t/k"), target: pb.CompareTarget.VALUE, value: bytes("v") },
      { key: bytes("t/k"), target: pb.CompareTarget.VERSION, version: 1 },
      {
        key: bytes("t/k"),
        target: pb.CompareTarget.CREATE,
        create_revision: kv.create_revision,
      },
      {
        key: bytes("t/k"),
        target: pb.CompareTarget.MOD,
        result: pb.CompareResult.LESS,
        mod_revision: rev + 1,
      },
      { key: bytes("t/k"), target: pb.CompareTarget.LEASE, lease: 0n },
      // A missing key: version 0 must be sent, or etcd compares nothing.
      { key: bytes("t/none"), target: pb.CompareTarget.VERSION, version: 0 },
      {
        key: bytes("t/"),
        range_end: bytes("t0"),
        target: pb.CompareTarget.VALUE,
        result: pb.CompareResult.NOT_EQUAL,
        value: bytes("x"),
      },
    ];
    const txn: pb.Init<pb.TxnRequest> = {
      compare,
      success: [
        { request_range: { key: bytes("t/k") } },
        {
          request_txn: {
            success: [{
              request_range: { key: bytes("t/k"), count_only: true },
            }],
          },
        },
      ],
      failure: [{ request_put: { key: bytes("t/failed"), value: bytes("1") } }],
    };
    const answer = await both(METHODS.kv.txn, txn);
    assert.equal(answer.succeeded, true);
    assert.equal(str(answer.responses[0]!.response_range!.kvs[0]!.value), "v");
    const nested = answer.responses[1]!.response_txn!;
    assert.equal(nested.succeeded, true);
    assert.equal(nested.responses[0]!.response_range!.count, 1);
    // Each compare fails alone: the failure branch (a put) runs.
    for (let i = 0; i < compare.length; i++) {
      const wrong = {
        ...compare[i]!,
        result: (compare[i]!.result ?? 0) === 0 ? 3 : 0,
      };
      const failed = await peer.grpcCall(METHODS.kv.txn, {
        compare: [wrong],
        failure: [{
          request_put: {
            key: bytes("t/failed"),
            value: bytes(`${i}`),
            prev_kv: true,
          },
        }],
      });
      assert.equal(failed.succeeded, false, `compare ${i}`);
      assert.ok(failed.responses[0]!.response_put!.header!.revision > rev);
    }
    const deleteOp = await peer.grpcCall(METHODS.kv.txn, {
      success: [{
        request_delete_range: { key: bytes("t/failed"), prev_kv: true },
      }],
    });
    assert.equal(deleteOp.responses[0]!.response_delete_range!.deleted, 1);
  });

  await t.step("Compact", async () => {
    const put = await peer.grpcCall(METHODS.kv.put, {
      key: bytes("c/k"),
      value: bytes("1"),
    });
    await peer.grpcCall(METHODS.kv.compact, {
      revision: put.header!.revision - 1,
      physical: true,
    });
    const answer = await peer.gatewayCall(METHODS.kv.compact, {
      revision: put.header!.revision,
    });
    assert.ok(answer.header!.revision >= put.header!.revision);
    await assert.rejects(
      peer.grpcCall(METHODS.kv.range, { key: bytes("c/k"), revision: 2 }),
      /code 11: etcdserver: mvcc: required revision has been compacted/,
    );
  });

  await t.step(
    "Watch: create with watch_id, prev_kv, progress, cancel",
    async () => {
      const start = await peer.grpcCall(METHODS.kv.put, {
        key: bytes("w/a"),
        value: bytes("0"),
      });
      const create: pb.Init<pb.WatchRequest> = {
        create_request: {
          key: bytes("w/"),
          range_end: bytes("w0"),
          start_revision: start.header!.revision + 1,
          prev_kv: true,
          watch_id: 7,
          filters: [pb.FilterType.NODELETE],
          progress_notify: true,
        },
      };
      const call = peer.grpc.call(METHODS.watch.watch.path);
      const read = async () => pb.WatchResponse.decode((await call.read())!);
      call.write(pb.WatchRequest.encode(create));
      const created = await read();
      assert.equal(created.created, true);
      assert.equal(created.watch_id, 7);
      // A second watch on the same stream, its ID picked by the client too.
      call.write(pb.WatchRequest.encode({
        create_request: { key: bytes("w/b"), watch_id: 8 },
      }));
      assert.equal((await read()).watch_id, 8);
      await peer.grpcCall(METHODS.kv.put, {
        key: bytes("w/a"),
        value: bytes("1"),
      });
      await peer.grpcCall(METHODS.kv.deleteRange, { key: bytes("w/a") });
      await peer.grpcCall(METHODS.kv.put, {
        key: bytes("w/b"),
        value: bytes("2"),
      });
      const seen: pb.WatchResponse[] = [];
      while (seen.flatMap((r) => r.events).length < 3) seen.push(await read());
      const onSeven = seen.filter((r) => r.watch_id === 7).flatMap((r) =>
        r.events
      );
      // NODELETE leaves the delete out; prev_kv gives the value before.
      assert.deepEqual(
        onSeven.map((e) => [e.type, str(e.kv!.key), str(e.kv!.value)]),
        [
          [pb.EventType.PUT, "w/a", "1"],
          [pb.EventType.PUT, "w/b", "2"],
        ],
      );
      assert.equal(str(onSeven[0]!.prev_kv!.value), "0");
      assert.equal(onSeven[1]!.prev_kv, undefined);
      const onEight = seen.filter((r) => r.watch_id === 8).flatMap((r) =>
        r.events
      );
      assert.equal(str(onEight[0]!.kv!.value), "2");

      // The same watch through the gateway reads the same history.
      const gateway = await fetch(
        `${etcd.endpoint}${METHODS.watch.watch.gateway}`,
        {
          method: "POST",
          body: JSON.stringify(pb.WatchRequest.toJson(create)),
          signal: AbortSignal.timeout(10_000),
        },
      );
      const lines = gateway.body!.pipeThrough(new TextDecoderStream())
        .getReader();
      const viaGateway: pb.WatchResponse[] = [];
      let buffer = "";
      while (viaGateway.flatMap((r) => r.events).length < 2) {
        const { value, done } = await lines.read();
        if (done) break;
        buffer += value;
        let newline;
        while ((newline = buffer.indexOf("\n")) >= 0) {
          const line = JSON.parse(buffer.slice(0, newline));
          buffer = buffer.slice(newline + 1);
          viaGateway.push(pb.WatchResponse.fromJson(line.result));
        }
      }
      await lines.cancel();
      assert.equal(viaGateway[0]!.created, true);
      assert.deepEqual(
        withoutRevision(viaGateway.flatMap((r) => r.events)),
        withoutRevision(onSeven),
      );

      // A progress request answers with the revision, no events.
      call.write(pb.WatchRequest.encode({ progress_request: {} }));
      let progress = await read();
      while (progress.events.length > 0) progress = await read();
      assert.equal(progress.watch_id, -1); // etcd's id for a stream-wide progress notice
      assert.ok(progress.header!.revision > start.header!.revision);
      call.write(pb.WatchRequest.encode({ cancel_request: { watch_id: 7 } }));
      const canceled = await read();
      assert.equal(canceled.canceled, true);
      assert.equal(canceled.watch_id, 7);
      // A compacted start revision cancels with compact_revision.
      call.write(pb.WatchRequest.encode({
        create_request: { key: bytes("w/a"), start_revision: 1, watch_id: 9 },
      }));
      let compacted = await read();
      while (!compacted.canceled) compacted = await read();
      assert.equal(compacted.watch_id, 9);
      assert.ok(compacted.compact_revision > 1);
      call.cancel();
    },
  );

  await t.step(
    "Lease: KeepAlive, TimeToLive with keys, Leases, Revoke",
    async () => {
      const grant = await peer.grpcCall(METHODS.lease.grant, { TTL: 30 });
      assert.ok(grant.ID > 0n);
      await peer.grpcCall(METHODS.kv.put, {
        key: bytes("l/k"),
        value: bytes("v"),
        lease: grant.ID,
      });
      const call = peer.grpc.call(METHODS.lease.keepAlive.path);
      call.write(pb.LeaseKeepAliveRequest.encode({ ID: grant.ID }));
      const kept = pb.LeaseKeepAliveResponse.decode((await call.read())!);
      assert.equal(kept.ID, grant.ID);
      assert.equal(kept.TTL, 30);
      call.cancel();
      const ttl = await both(METHODS.lease.timeToLive, {
        ID: grant.ID,
        keys: true,
      });
      assert.equal(ttl.grantedTTL, 30);
      assert.ok(ttl.TTL > 0 && ttl.TTL <= 30);
      assert.deepEqual(ttl.keys.map(str), ["l/k"]);
      const leases = await both(METHODS.lease.leases, {});
      assert.ok(leases.leases.some((l) => l.ID === grant.ID));
      await peer.grpcCall(METHODS.lease.revoke, { ID: grant.ID });
      const gone = await both(METHODS.lease.timeToLive, { ID: grant.ID });
      assert.equal(gone.TTL, -1);
      assert.equal(
        (await both(METHODS.kv.range, { key: bytes("l/k") })).count,
        0,
      );
      await assert.rejects(
        peer.gatewayCall(METHODS.lease.revoke, { ID: grant.ID }),
        /lease not found/,
      );
    },
  );

  await t.step("Cluster: MemberList", async () => {
    const list = await both(METHODS.cluster.memberList, { linearizable: true });
    assert.equal(list.members.length, 1);
    const [member] = list.members;
    assert.equal(member!.ID, list.header!.member_id);
    assert.deepEqual(member!.clientURLs, [etcd.endpoint]);
    assert.equal(member!.isLearner, false);
  });

  await t.step(
    "Maintenance: Status, Alarm, Hash, HashKV, Defragment, Snapshot",
    async () => {
      const viaGrpc = await peer.grpcCall(METHODS.maintenance.status, {});
      const viaGateway = await peer.gatewayCall(METHODS.maintenance.status, {});
      assert.match(viaGrpc.version, /^3\.5\./);
      assert.equal(viaGrpc.version, viaGateway.version);
      assert.equal(viaGrpc.leader, viaGrpc.header!.member_id);
      assert.equal(viaGateway.leader, viaGrpc.leader);
      assert.ok(viaGrpc.dbSize > 0 && viaGrpc.dbSizeInUse > 0);
      assert.ok(viaGrpc.raftIndex > 0 && viaGrpc.raftTerm > 0);
      const alarms = await both(METHODS.maintenance.alarm, {
        action: pb.AlarmAction.GET,
      });
      assert.deepEqual(alarms.alarms, []);
      const hash = await both(METHODS.maintenance.hashKV, { revision: 0 });
      assert.ok(hash.hash > 0);
      assert.ok(hash.compact_revision > 0);
      const whole = await peer.grpcCall(METHODS.maintenance.hash, {});
      assert.ok(whole.hash > 0);
      await peer.grpcCall(METHODS.maintenance.defragment, {});
      const call = peer.grpc.call(METHODS.maintenance.snapshot.path);
      call.write(pb.SnapshotRequest.encode({}));
      call.end();
      let size = 0;
      let last: pb.SnapshotResponse | undefined;
      for (let chunk; (chunk = await call.read()) !== undefined;) {
        last = pb.SnapshotResponse.decode(chunk);
        size += last.blob.length;
      }
      assert.equal((await call.status).code, 0);
      assert.equal(last!.remaining_bytes, 0);
      assert.ok(size > 4096, `snapshot of ${size} bytes`);
    },
  );

  await t.step(
    "Auth: users, roles, permissions, a token, then off again",
    async () => {
      const root = { name: "root", password: "rootpw" };
      await peer.grpcCall(METHODS.auth.userAdd, root);
      await peer.grpcCall(METHODS.auth.userGrantRole, {
        user: "root",
        role: "root",
      });
      await peer.gatewayCall(METHODS.auth.userAdd, {
        name: "reader",
        password: "pw",
      });
      await peer.grpcCall(METHODS.auth.roleAdd, { name: "readers" });
      await peer.grpcCall(METHODS.auth.roleGrantPermission, {
        name: "readers",
        perm: {
          permType: pb.PermissionType.READ,
          key: bytes("p/"),
          range_end: bytes("p0"),
        },
      });
      await peer.grpcCall(METHODS.auth.userGrantRole, {
        user: "reader",
        role: "readers",
      });
      const role = await both(METHODS.auth.roleGet, { role: "readers" });
      assert.deepEqual(
        role.perm.map((p) => [p.permType, str(p.key), str(p.range_end)]),
        [
          [pb.PermissionType.READ, "p/", "p0"],
        ],
      );
      assert.deepEqual(
        (await both(METHODS.auth.userGet, { name: "reader" })).roles,
        ["readers"],
      );
      assert.deepEqual((await both(METHODS.auth.userList, {})).users, [
        "reader",
        "root",
      ]);
      // etcd keeps the root role implicit until auth is enabled.
      assert.deepEqual((await both(METHODS.auth.roleList, {})).roles, [
        "readers",
      ]);
      await peer.grpcCall(METHODS.auth.enable, {});
      try {
        const login = await peer.grpcCall(METHODS.auth.authenticate, {
          name: "reader",
          password: "pw",
        });
        assert.match(login.token, /^\w+\.\d+$/);
        peer.token = login.token;
        const read = await both(METHODS.kv.range, { key: bytes("p/a") });
        assert.equal(str(read.kvs[0]!.value), "3");
        await assert.rejects(
          peer.grpcCall(METHODS.kv.put, {
            key: bytes("p/a"),
            value: bytes("x"),
          }),
          /code 7: etcdserver: permission denied/,
        );
      } finally {
        peer.token =
          (await peer.gatewayCall(METHODS.auth.authenticate, root)).token;
        const on = await both(METHODS.auth.status, {});
        assert.equal(on.enabled, true);
        await peer.grpcCall(METHODS.auth.disable, {});
        peer.token = undefined;
      }
      const status = await both(METHODS.auth.status, {});
      assert.equal(status.enabled, false);
      assert.ok(status.authRevision > 0);
      await peer.grpcCall(METHODS.auth.userRevokeRole, {
        name: "reader",
        role: "readers",
      });
      await peer.grpcCall(METHODS.auth.roleRevokePermission, {
        role: "readers",
        key: bytes("p/"),
        range_end: bytes("p0"),
      });
      await peer.grpcCall(METHODS.auth.userChangePassword, {
        name: "reader",
        password: "pw2",
      });
      await peer.grpcCall(METHODS.auth.roleDelete, { role: "readers" });
      await peer.grpcCall(METHODS.auth.userDelete, { name: "reader" });
      assert.deepEqual((await both(METHODS.auth.userList, {})).users, ["root"]);
    },
  );
});
