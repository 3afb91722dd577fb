// The v3 codec (v3/_proto/) against a real etcd 3.5: each request encoded
// by it is sent over gRPC (node:http2) and, where it can be, the same
// request as the gateway's JSON; both answers decoded by it must agree.

import assert from "node:assert/strict";
import * as pb from "../v3/_proto/mod.ts";
import { METHODS } from "../v3/_proto/mod.ts";
import { startEtcd } from "../testing.ts";
import { ProtoPeer, withoutRevision } from "./_proto_peer.ts";

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
});
