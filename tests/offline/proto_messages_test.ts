// Every v3 message (v3/_proto/) through both encodings: binary round trips,
// the gateway's JSON, proto3 zero omission, unknown fields skipped and
// malformed input named.

import assert from "node:assert/strict";
import * as pb from "../../v3/_proto/mod.ts";
import type { Field } from "../../v3/_proto/message.ts";
import { MessageType, WIRE, WireError, Writer } from "../../v3/_proto/mod.ts";

const types = Object.values(pb).filter((v) =>
  v instanceof MessageType
) as MessageType<object>[];

/** A value for every field of a message, none of them zero. */
function sample(type: MessageType<object>, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let i = 0;
  for (const [name, field] of Object.entries(type.fields)) {
    const value = sampleOf(field as Field<unknown>, depth, ++i);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function sampleOf(field: Field<unknown>, depth: number, i: number): unknown {
  const one = (n: number): unknown => {
    switch (field.kind) {
      case "bytes":
        return Uint8Array.of(0, 0xff, n, 0x80);
      case "string":
        return `ünïcode ✓ ${n}`;
      case "bool":
        return true;
      case "int64":
        return n % 2 ? Number.MAX_SAFE_INTEGER - n : -n;
      case "uint64":
        return Number.MAX_SAFE_INTEGER - n;
      case "uint32":
        return 0xffffffff - n;
      case "int64n":
        return n % 2 ? -(2n ** 63n) + BigInt(n) : 2n ** 62n + BigInt(n);
      case "uint64n":
        return 2n ** 64n - BigInt(n);
      case "enum":
        return field.names!.length - 1;
      case "message":
        // Recursive types (TxnRequest in RequestOp) stop somewhere.
        return depth > 2 ? undefined : sample(field.type!(), depth + 1);
    }
  };
  if (!field.repeated) return one(i);
  const list = [one(i), one(i + 1)];
  return list.includes(undefined) ? [] : list;
}

Deno.test("every message round trips through binary and JSON", () => {
  assert.ok(types.length >= 90, `only ${types.length} message types`);
  for (const type of types) {
    const message = type.create(sample(type));
    const decoded = type.decode(type.encode(message));
    assert.deepEqual(decoded, message, type.name);
    const json = JSON.parse(JSON.stringify(type.toJson(message)));
    assert.deepEqual(type.fromJson(json), message, `${type.name} (JSON)`);
  }
});

Deno.test("zero values: nothing on the wire or in JSON, zero when read", () => {
  for (const type of types) {
    const zero = type.create();
    assert.equal(type.encode(zero).length, 0, type.name);
    assert.deepEqual(type.toJson(zero), {}, type.name);
    assert.deepEqual(type.decode(new Uint8Array(0)), zero, type.name);
    assert.deepEqual(type.fromJson({}), zero, type.name);
  }
  // Explicit zeros are left out too.
  const put = pb.PutRequest.encode({
    key: Uint8Array.of(1),
    value: new Uint8Array(0),
    lease: 0n,
    prev_kv: false,
  });
  assert.deepEqual([...put], [0x0a, 1, 1]);
  assert.deepEqual(
    pb.RangeResponse.toJson({ kvs: [], count: 0, more: false }),
    {},
  );
  const decoded = pb.RangeResponse.decode(new Uint8Array(0));
  assert.deepEqual(decoded.kvs, []);
  assert.equal(decoded.count, 0);
  assert.equal(decoded.header, undefined);
});

Deno.test("a oneof member and a message are sent even when zero", () => {
  // Compare version == 0 (the key does not exist) must carry its 0.
  const bytes = pb.Compare.encode({
    target: pb.CompareTarget.VERSION,
    key: Uint8Array.of(0x61),
    version: 0,
  });
  assert.deepEqual(
    [...bytes],
    [0x1a, 1, 0x61, 0x20, 0],
  );
  assert.equal(pb.Compare.decode(bytes).version, 0);
  assert.equal(pb.Compare.decode(bytes).mod_revision, undefined);
  assert.deepEqual(
    pb.Compare.toJson({ key: Uint8Array.of(0x61), version: 0 }),
    {
      key: "YQ==",
      version: "0",
    },
  );
  // An empty RangeRequest in a RequestOp is still a range.
  const op = pb.RequestOp.encode({ request_range: {} });
  assert.deepEqual([...op], [0x0a, 0]);
  assert.deepEqual(
    pb.RequestOp.decode(op).request_range,
    pb.RangeRequest.create(),
  );
  assert.deepEqual(pb.WatchRequest.toJson({ progress_request: {} }), {
    progress_request: {},
  });
});

Deno.test("JSON: the gateway's spelling of each kind of field", () => {
  const json = pb.RangeResponse.toJson({
    header: { cluster_id: 2n ** 64n - 1n, revision: 5, raft_term: 2 },
    kvs: [{
      key: Uint8Array.of(0x61),
      value: Uint8Array.of(0xff),
      lease: -1n,
      version: 1,
    }],
    count: 1,
  });
  assert.deepEqual(json, {
    header: {
      cluster_id: "18446744073709551615",
      revision: "5",
      raft_term: "2",
    },
    kvs: [{ key: "YQ==", version: "1", value: "/w==", lease: "-1" }],
    count: "1",
  });
  assert.deepEqual(
    pb.WatchCreateRequest.toJson({
      filters: [pb.FilterType.NODELETE],
      watch_id: 3,
    }),
    { filters: ["NODELETE"], watch_id: "3" },
  );
  assert.deepEqual(pb.Event.toJson({ type: pb.EventType.DELETE }), {
    type: "DELETE",
  });
  assert.deepEqual(pb.HashResponse.toJson({ hash: 4000000000 }), {
    hash: 4000000000,
  });
  // What the gateway may send: numbers as numbers, enums as numbers, nulls.
  const read = pb.WatchResponse.fromJson({
    watch_id: 7,
    events: [{ type: 1, kv: { key: "YQ==", mod_revision: "9" } }, { kv: null }],
    unknown_field: { a: 1 },
  });
  assert.equal(read.watch_id, 7);
  assert.equal(read.events[0]!.type, pb.EventType.DELETE);
  assert.equal(read.events[0]!.kv!.mod_revision, 9);
  assert.equal(read.events[1]!.kv, undefined);
});

Deno.test("JSON: values of the wrong type are named, with the field", () => {
  assert.throws(
    () =>
      pb.RangeResponse.fromJson({
        kvs: [{ mod_revision: "9007199254740993" }],
      }),
    (e: unknown) =>
      e instanceof TypeError &&
      e.message ===
        'Cannot read etcdserverpb.RangeResponse.kvs > mvccpb.KeyValue.mod_revision: expected an integer that is exact as a number, got "9007199254740993"',
  );
  assert.throws(
    () => pb.KeyValue.fromJson({ key: 5 }),
    /KeyValue\.key: expected base64 text, got 5/,
  );
  assert.throws(() => pb.KeyValue.fromJson({ key: "!!" }), /base64/);
  assert.throws(
    () => pb.KeyValue.fromJson([]),
    /expected an object, got an array/,
  );
  assert.throws(
    () => pb.Event.fromJson({ type: "GONE" }),
    /one of PUT, DELETE/,
  );
  assert.throws(() => pb.Member.fromJson({ ID: "-1" }), /Member\.ID/);
  assert.throws(
    () => pb.Member.fromJson({ peerURLs: "x" }),
    /expected an array/,
  );
  assert.equal(
    pb.Member.fromJson({ ID: "18446744073709551615" }).ID,
    2n ** 64n - 1n,
  );
});

Deno.test("encode: values out of range are named, with the field", () => {
  assert.throws(
    () => pb.PutRequest.encode({ lease: 2n ** 63n }),
    (e: unknown) =>
      e instanceof RangeError &&
      /Cannot encode etcdserverpb.PutRequest.lease: 9223372036854775808 is out of the range of int64/
        .test(e.message),
  );
  assert.throws(
    () =>
      pb.TxnRequest.encode({
        success: [{ request_range: { limit: 2 ** 53 } }],
      }),
    /Cannot encode etcdserverpb.TxnRequest.success > etcdserverpb.RequestOp.request_range > etcdserverpb.RangeRequest.limit: expected an exact integer, got 9007199254740992/,
  );
  assert.throws(
    () => pb.MemberRemoveRequest.encode({ ID: -1n }),
    /MemberRemoveRequest.ID/,
  );
  assert.throws(
    () => pb.StatusResponse.encode({ raftIndex: -1 }),
    /integer >= 0/,
  );
  assert.throws(
    () => pb.PutRequest.encode({ key: "a" as unknown as Uint8Array }),
    /PutRequest.key: expected a Uint8Array, got "a"/,
  );
});

/** A message with a field of every wire type this schema does not know. */
function withUnknowns(known: Uint8Array): Uint8Array {
  const w = new Writer();
  w.tag(100, WIRE.varint);
  w.int64(-1);
  w.tag(101, WIRE.fixed64);
  w.fixed64n(1n);
  w.tag(102, WIRE.bytes);
  w.bytes(Uint8Array.of(1, 2, 3));
  w.tag(103, WIRE.startGroup);
  w.tag(1, WIRE.varint);
  w.uint32(1);
  w.tag(103, WIRE.endGroup);
  w.tag(104, WIRE.fixed32);
  w.fixed32(1);
  const head = w.finish();
  const out = new Uint8Array(head.length * 2 + known.length);
  out.set(head);
  out.set(known, head.length);
  out.set(head, head.length + known.length);
  return out;
}

Deno.test("unknown fields of every wire type are skipped, nested too", () => {
  for (const type of types) {
    const message = type.create(sample(type));
    const decoded = type.decode(withUnknowns(type.encode(message)));
    assert.deepEqual(decoded, message, type.name);
  }
  // Inside a hand-decoded KeyValue within a RangeResponse.
  const kv = withUnknowns(
    pb.KeyValue.encode({ key: Uint8Array.of(7), version: 3 }),
  );
  const w = new Writer();
  w.tag(2, WIRE.bytes);
  w.bytes(kv);
  w.tag(99, WIRE.bytes);
  w.bytes(kv);
  const range = pb.RangeResponse.decode(w.finish());
  assert.equal(range.kvs.length, 1);
  assert.deepEqual([...range.kvs[0]!.key], [7]);
  assert.equal(range.kvs[0]!.version, 3);
});

Deno.test("truncated input is refused at every cut, never read wrong", () => {
  const response = pb.RangeResponse.encode({
    header: { revision: 300, member_id: 2n ** 63n },
    kvs: [
      {
        key: Uint8Array.of(1, 2),
        value: new Uint8Array(200),
        mod_revision: 1 << 20,
      },
      { key: Uint8Array.of(3), lease: 5n },
    ],
    count: 2,
  });
  let refused = 0;
  for (let cut = 1; cut < response.length; cut++) {
    try {
      const partial = pb.RangeResponse.decode(response.subarray(0, cut));
      // A cut between top-level fields is a valid shorter message.
      assert.ok(partial.kvs.length < 2 || partial.count === 0, `cut ${cut}`);
    } catch (error) {
      assert.ok(error instanceof WireError, `cut ${cut}: ${error}`);
      assert.match(error.message, /^In etcdserverpb\.RangeResponse/);
      refused++;
    }
  }
  assert.ok(refused > response.length - 5, `${refused} refused`);
  assert.throws(
    () => pb.RangeResponse.decode(response.subarray(0, 20)),
    /In etcdserverpb.RangeResponse.kvs: Truncated field: \d+ bytes announced/,
  );
});

Deno.test("bad wire types are named with the field", () => {
  // kvs (field 2) as a varint.
  assert.throws(
    () => pb.RangeResponse.decode(Uint8Array.of(0x10, 1)),
    /In etcdserverpb.RangeResponse.kvs: Wire type 0 where message field 2 has wire type 2 at byte 1 of 2/,
  );
  // KeyValue.mod_revision (field 3) as bytes, in the hand-written decoder.
  assert.throws(
    () => pb.RangeResponse.decode(Uint8Array.of(0x12, 3, 0x1a, 1, 0)),
    /In etcdserverpb.RangeResponse.kvs > mvccpb.KeyValue: Wire type 2 for field 3/,
  );
  assert.throws(
    () => pb.Event.decode(Uint8Array.of(0x4e)),
    /In mvccpb.Event: Invalid wire type 6 \(field 9\)/,
  );
  assert.throws(
    () => pb.Event.decode(Uint8Array.of(0x0e)),
    /In mvccpb.Event: Wire type 6 for field 1, which has another/,
  );
  assert.throws(
    () => pb.StatusRequest.decode(Uint8Array.of(0x0f)),
    /Invalid wire type 7/,
  );
  // A nested message whose last field runs past its length.
  assert.throws(
    () => pb.RangeResponse.decode(Uint8Array.of(0x12, 2, 0x10, 0x85, 0x01)),
    /runs 1 bytes past its message/,
  );
});

Deno.test("packed and unpacked repeated numbers are both read", () => {
  const w = new Writer();
  w.tag(5, WIRE.varint);
  w.uint32(1);
  w.tag(5, WIRE.bytes);
  w.bytes(Uint8Array.of(0, 1));
  assert.deepEqual(pb.WatchCreateRequest.decode(w.finish()).filters, [1, 0, 1]);
  // Written packed, as proto3 does.
  assert.deepEqual(
    [...pb.WatchCreateRequest.encode({ filters: [0, 1] })],
    [0x2a, 2, 0, 1],
  );
});
