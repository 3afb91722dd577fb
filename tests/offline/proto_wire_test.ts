// The protobuf wire reader and writer (v3/_proto/wire.ts): exact 64-bit
// varints, every wire type skipped, malformed input named.

import assert from "node:assert/strict";
import { Reader, WIRE, WireError, Writer } from "../../v3/_proto/wire.ts";

function written(write: (w: Writer) => void): Uint8Array {
  const w = new Writer(1);
  write(w);
  return w.finish();
}

Deno.test("varints: known encodings of int64 and uint64 edge values", () => {
  const cases: [number, number[]][] = [
    [0, [0]],
    [1, [1]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [300, [0xac, 0x02]],
    [2 ** 32, [0x80, 0x80, 0x80, 0x80, 0x10]],
    [Number.MAX_SAFE_INTEGER, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]],
    [-1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    [-2, [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    [
      -Number.MAX_SAFE_INTEGER,
      [0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0xf0, 0xff, 0x01],
    ],
  ];
  for (const [value, bytes] of cases) {
    assert.deepEqual([...written((w) => w.int64(value))], bytes, `${value}`);
    assert.equal(new Reader(Uint8Array.from(bytes)).int64(), value);
    assert.deepEqual(
      [...written((w) => w.int64n(BigInt(value)))],
      bytes,
      `${value}n`,
    );
    assert.equal(new Reader(Uint8Array.from(bytes)).int64n(), BigInt(value));
  }
});

Deno.test("varints: bigints give IDs beyond 2^53 exactly, both signs", () => {
  const values = [
    2n ** 53n + 1n,
    2n ** 63n - 1n,
    -(2n ** 63n),
    -(2n ** 53n) - 3n,
    0x7a3b9c1d2e4f5061n,
  ];
  for (const value of values) {
    const bytes = written((w) => w.int64n(value));
    assert.equal(new Reader(bytes).int64n(), value);
  }
  const max = written((w) => w.int64n(2n ** 64n - 1n));
  assert.equal(max.length, 10);
  assert.equal(new Reader(max).uint64n(), 2n ** 64n - 1n);
  assert.equal(new Reader(max).int64n(), -1n);
});

Deno.test("varints: a number beyond 2^53 is refused, not rounded", () => {
  for (const value of [2n ** 53n, 2n ** 60n + 1n, -(2n ** 53n)]) {
    const bytes = written((w) => w.int64n(value));
    assert.throws(
      () => new Reader(bytes).int64(),
      (e: unknown) =>
        e instanceof WireError &&
        e.message.includes(`${value} is beyond Number.MAX_SAFE_INTEGER`),
    );
  }
  const big = written((w) => w.int64n(2n ** 64n - 2n));
  assert.throws(() => new Reader(big).uint64(), /18446744073709551614/);
});

Deno.test("varints: truncated and over-long ones are named", () => {
  assert.throws(
    () => new Reader(Uint8Array.of(0x80, 0x80)).int64(),
    /Truncated varint at byte 2 of 2/,
  );
  assert.throws(
    () => new Reader(new Uint8Array(11).fill(0x80)).int64n(),
    /Varint longer than 10 bytes/,
  );
  assert.throws(() => new Reader(new Uint8Array(0)).uint32(), /Truncated/);
});

Deno.test("fixed-width numbers, bytes and strings round trip", () => {
  const bytes = written((w) => {
    w.fixed32(0xdeadbeef);
    w.fixed64n(0x0123456789abcdefn);
    w.bytes(Uint8Array.of(1, 2, 3));
    w.string("héllo ✓");
    w.bool(true);
    w.int32(-5);
  });
  const r = new Reader(bytes);
  assert.equal(r.fixed32(), 0xdeadbeef);
  assert.equal(r.fixed64n(), 0x0123456789abcdefn);
  assert.deepEqual([...r.bytes()], [1, 2, 3]);
  assert.equal(r.string(), "héllo ✓");
  assert.equal(r.bool(), true);
  assert.equal(r.int32(), -5);
  assert.equal(r.pos, bytes.length);
});

Deno.test("a string that is not UTF-8 is refused", () => {
  assert.throws(
    () => new Reader(Uint8Array.of(2, 0xc3, 0x28)).string(),
    /not UTF-8 at byte 0/,
  );
  assert.throws(() => new Writer().string("\ud800"), /lone surrogate/);
});

Deno.test("length-delimited: a length beyond the input is named", () => {
  assert.throws(
    () => new Reader(Uint8Array.of(5, 1, 2)).bytes(),
    /Truncated field: 5 bytes announced, 2 left at byte 0 of 3/,
  );
  assert.throws(() => new Reader(Uint8Array.of(4, 1)).fixed32(), /Truncated/);
});

Deno.test("fork and join: nested lengths of every size", () => {
  for (const size of [0, 1, 127, 128, 16383, 16384, 70000]) {
    const w = new Writer(2);
    w.tag(1, WIRE.bytes);
    const mark = w.fork();
    for (let i = 0; i < size; i++) w.bool((i & 1) === 1);
    w.join(mark);
    w.tag(2, WIRE.varint);
    w.uint32(9);
    const r = new Reader(w.finish());
    assert.equal(r.tag(), (1 << 3) | 2);
    const inner = r.bytes();
    assert.equal(inner.length, size);
    assert.equal(inner[size - 1], size ? (size - 1) & 1 : undefined);
    assert.equal(r.tag(), 2 << 3);
    assert.equal(r.uint32(), 9);
  }
});

Deno.test("skip: every wire type, groups nested", () => {
  const w = new Writer();
  w.tag(1, WIRE.varint);
  w.int64(-1);
  w.tag(2, WIRE.fixed64);
  w.fixed64n(7n);
  w.tag(3, WIRE.bytes);
  w.bytes(Uint8Array.of(9, 9));
  w.tag(4, WIRE.startGroup);
  w.tag(5, WIRE.varint);
  w.uint32(1);
  w.tag(6, WIRE.startGroup);
  w.tag(6, WIRE.endGroup);
  w.tag(4, WIRE.endGroup);
  w.tag(7, WIRE.fixed32);
  w.fixed32(1);
  w.tag(8, WIRE.varint);
  w.uint32(42);
  const r = new Reader(w.finish());
  for (let i = 0; i < 5; i++) r.skip(r.tag());
  assert.equal(r.tag(), 8 << 3);
  assert.equal(r.uint32(), 42);
});

Deno.test("skip: bad wire types and broken groups are named", () => {
  assert.throws(
    () => {
      const r = new Reader(Uint8Array.of((3 << 3) | 6, 0));
      r.skip(r.tag());
    },
    /Invalid wire type 6 \(field 3\) at byte 0/,
  );
  assert.throws(
    () => {
      const r = new Reader(Uint8Array.of((3 << 3) | 7));
      r.skip(r.tag());
    },
    /Invalid wire type 7/,
  );
  assert.throws(
    () => {
      const r = new Reader(Uint8Array.of((4 << 3) | 3, 8, 1));
      r.skip(r.tag());
    },
    /Group of field 4 not closed/,
  );
  assert.throws(
    () => {
      const r = new Reader(Uint8Array.of((4 << 3) | 3, (5 << 3) | 4));
      r.skip(r.tag());
    },
    /Group of field 4 closed as field 5/,
  );
  assert.throws(
    () => {
      const r = new Reader(Uint8Array.of((1 << 3) | 1, 1, 2));
      r.skip(r.tag());
    },
    /Truncated fixed64/,
  );
  assert.throws(() => new Reader(Uint8Array.of(0, 1)).tag(), /Field number 0/);
});
