// Protocol buffers' binary wire format: a reader and a writer of varints,
// fixed-width numbers and length-delimited fields. Internal; the messages
// in this folder are built on it.
//
// 64-bit varints are read as two 32-bit halves (no BigInt on the hot path)
// and given as a number only when exact. Reading never goes past the input
// and never loops without consuming bytes: malformed input is a WireError
// that says what was wrong and where.

import { utf8Text } from "../../_core/text.ts";

/** The wire types of protocol buffers. */
export const WIRE = {
  varint: 0,
  fixed64: 1,
  bytes: 2,
  startGroup: 3,
  endGroup: 4,
  fixed32: 5,
} as const;

/** Input that is not the protocol buffer it should be. */
export class WireError extends Error {
  override name = "WireError";
}

const TWO_32 = 4294967296;
const MAX_HI = 0x1fffff; // hi half of Number.MAX_SAFE_INTEGER
const EMPTY: Uint8Array = new Uint8Array(0);
const encoder = new TextEncoder();

/**
 * Reads a protocol buffer. Bytes fields are views into the input (no
 * copy): the input must not be reused while the messages are alive.
 */
export class Reader {
  /** The input. */
  readonly buf: Uint8Array;
  /** The offset of the next byte to read. */
  pos: number;
  /** The end of the input. */
  readonly end: number;
  // The halves of the last 64-bit varint read (unsigned 32-bit each).
  #lo = 0;
  #hi = 0;
  #view: DataView | undefined;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.pos = 0;
    this.end = buf.length;
  }

  /** A WireError about the input at the current offset. */
  fail(what: string, at: number = this.pos): WireError {
    return new WireError(`${what} at byte ${at} of ${this.end}`);
  }

  /**
   * A field's tag (field number << 3 | wire type). Field number 0 is
   * invalid in every message.
   */
  tag(): number {
    const start = this.pos;
    const b = this.buf[start];
    let tag: number;
    if (b !== undefined && b < 0x80) {
      this.pos = start + 1;
      tag = b;
    } else {
      this.varint64();
      if (this.#hi !== 0) throw this.fail("Field tag beyond 32 bits", start);
      tag = this.#lo;
    }
    if (tag >>> 3 === 0) throw this.fail("Field number 0", start);
    return tag;
  }

  /** Reads a varint of up to 10 bytes into its two halves. */
  varint64(): void {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let b = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) throw this.fail("Truncated varint", pos);
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        this.#lo = lo >>> 0;
        this.#hi = 0;
        return;
      }
    }
    if (pos >= end) throw this.fail("Truncated varint", pos);
    b = buf[pos++]!;
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x7f) >> 4;
    if (b >= 0x80) {
      for (let shift = 3;; shift += 7) {
        if (shift > 31) throw this.fail("Varint longer than 10 bytes", pos);
        if (pos >= end) throw this.fail("Truncated varint", pos);
        b = buf[pos++]!;
        hi |= (b & 0x7f) << shift;
        if (b < 0x80) break;
      }
    }
    this.pos = pos;
    this.#lo = lo >>> 0;
    this.#hi = hi >>> 0;
  }

  /** A uint32 (or the low 32 bits of a longer varint, as protobuf does). */
  uint32(): number {
    const b = this.buf[this.pos];
    if (b !== undefined && b < 0x80) {
      this.pos++;
      return b;
    }
    this.varint64();
    return this.#lo;
  }

  /** An int32 or enum value (negative ones take 10 bytes). */
  int32(): number {
    this.varint64();
    return this.#lo | 0;
  }

  /** A bool. */
  bool(): boolean {
    this.varint64();
    return this.#lo !== 0 || this.#hi !== 0;
  }

  /** An int64 as a number; refused when it is not exact. */
  int64(): number {
    const start = this.pos;
    const b = this.buf[start];
    if (b !== undefined && b < 0x80) {
      this.pos = start + 1;
      return b;
    }
    this.varint64();
    let lo = this.#lo;
    let hi = this.#hi;
    if ((hi & 0x80000000) === 0) {
      if (hi > MAX_HI) throw this.#inexact(start);
      return hi * TWO_32 + lo;
    }
    // Negative: the magnitude is the two's complement.
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
    if (hi > MAX_HI) throw this.#inexact(start);
    return -(hi * TWO_32 + lo);
  }

  /** A uint64 as a number; refused when it is not exact. */
  uint64(): number {
    const start = this.pos;
    const b = this.buf[start];
    if (b !== undefined && b < 0x80) {
      this.pos = start + 1;
      return b;
    }
    this.varint64();
    if (this.#hi > MAX_HI) throw this.#inexact(start, true);
    return this.#hi * TWO_32 + this.#lo;
  }

  #inexact(start: number, unsigned = false): WireError {
    this.pos = start;
    this.varint64();
    const value = unsigned ? this.#unsignedBig() : this.#signedBig();
    return this.fail(
      `The number ${value} is beyond Number.MAX_SAFE_INTEGER (not exact as a number)`,
      start,
    );
  }

  /** An int64 as an exact bigint. */
  int64n(): bigint {
    const b = this.buf[this.pos];
    if (b === 0) {
      this.pos++;
      return 0n;
    }
    this.varint64();
    return this.#signedBig();
  }

  /** A uint64 as an exact bigint. */
  uint64n(): bigint {
    const b = this.buf[this.pos];
    if (b === 0) {
      this.pos++;
      return 0n;
    }
    this.varint64();
    return this.#unsignedBig();
  }

  #unsignedBig(): bigint {
    if (this.#hi === 0) return BigInt(this.#lo);
    return (BigInt(this.#hi) << 32n) | BigInt(this.#lo);
  }

  #signedBig(): bigint {
    return BigInt.asIntN(64, this.#unsignedBig());
  }

  /** The end offset of a length-delimited field, checked against the input. */
  length(): number {
    const start = this.pos;
    const length = this.uint32();
    const end = this.pos + length;
    if (length > this.end - this.pos) {
      throw this.fail(
        `Truncated field: ${length} bytes announced, ${
          this.end - this.pos
        } left`,
        start,
      );
    }
    return end;
  }

  /** A bytes field: a view into the input. */
  bytes(): Uint8Array {
    const end = this.length();
    const start = this.pos;
    this.pos = end;
    return start === end ? EMPTY : this.buf.subarray(start, end);
  }

  /** A string field (well-formed UTF-8, as proto3 requires). */
  string(): string {
    const start = this.pos;
    const text = utf8Text(this.bytes());
    if (text === undefined) {
      throw this.fail("A string field that is not UTF-8", start);
    }
    return text;
  }

  /** A fixed32 (unsigned). */
  fixed32(): number {
    if (this.end - this.pos < 4) throw this.fail("Truncated fixed32");
    const value = this.#dataView().getUint32(this.pos, true);
    this.pos += 4;
    return value;
  }

  /** A fixed64 as an exact bigint (unsigned). */
  fixed64n(): bigint {
    if (this.end - this.pos < 8) throw this.fail("Truncated fixed64");
    const value = this.#dataView().getBigUint64(this.pos, true);
    this.pos += 8;
    return value;
  }

  #dataView(): DataView {
    return this.#view ??= new DataView(
      this.buf.buffer,
      this.buf.byteOffset,
      this.buf.byteLength,
    );
  }

  /**
   * Skips the value of a field this reader does not know (a newer server's),
   * whatever its wire type, groups included.
   */
  skip(tag: number): void {
    const start = this.pos;
    switch (tag & 7) {
      case WIRE.varint:
        this.varint64();
        return;
      case WIRE.fixed64:
        if (this.end - this.pos < 8) throw this.fail("Truncated fixed64");
        this.pos += 8;
        return;
      case WIRE.bytes:
        this.pos = this.length();
        return;
      case WIRE.startGroup:
        for (;;) {
          if (this.pos >= this.end) {
            throw this.fail(`Group of field ${tag >>> 3} not closed`, start);
          }
          const inner = this.tag();
          if ((inner & 7) === WIRE.endGroup) {
            if (inner >>> 3 !== tag >>> 3) {
              throw this.fail(
                `Group of field ${tag >>> 3} closed as field ${inner >>> 3}`,
              );
            }
            return;
          }
          this.skip(inner);
        }
      case WIRE.fixed32:
        if (this.end - this.pos < 4) throw this.fail("Truncated fixed32");
        this.pos += 4;
        return;
      default:
        throw this.fail(
          `Invalid wire type ${tag & 7} (field ${tag >>> 3})`,
          start - 1,
        );
    }
  }

  /** Checks that a nested message ended exactly where its length said. */
  checkEnd(end: number): void {
    if (this.pos !== end) {
      throw this.fail(`Field runs ${this.pos - end} bytes past its message`);
    }
  }
}

/** Writes a protocol buffer into a buffer that grows as needed. */
export class Writer {
  #buf: Uint8Array;
  /** The offset of the next byte to write. */
  pos = 0;

  constructor(capacity = 256) {
    this.#buf = new Uint8Array(capacity);
  }

  /** Makes room for `n` more bytes. */
  #room(n: number): Uint8Array {
    if (this.pos + n > this.#buf.length) {
      const grown = new Uint8Array(
        Math.max(this.#buf.length * 2, this.pos + n),
      );
      grown.set(this.#buf.subarray(0, this.pos));
      this.#buf = grown;
    }
    return this.#buf;
  }

  /** The bytes written (a view of the buffer; the writer is done). */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.pos);
  }

  /** A field's tag. */
  tag(field: number, wireType: number): void {
    this.uint32(((field << 3) | wireType) >>> 0);
  }

  /** A varint of a uint32. */
  uint32(value: number): void {
    const buf = this.#room(5);
    let pos = this.pos;
    while (value > 0x7f) {
      buf[pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buf[pos++] = value;
    this.pos = pos;
  }

  /** A varint of two 32-bit halves. */
  #varint64(lo: number, hi: number): void {
    const buf = this.#room(10);
    let pos = this.pos;
    while (hi !== 0 || lo > 0x7f) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[pos++] = lo;
    this.pos = pos;
  }

  /** An int32 or enum value (negative ones as 10 bytes, as protobuf does). */
  int32(value: number): void {
    if (value >= 0) this.uint32(value);
    else this.#varint64(value >>> 0, 0xffffffff);
  }

  /** A bool. */
  bool(value: boolean): void {
    const buf = this.#room(1);
    buf[this.pos++] = value ? 1 : 0;
  }

  /** An int64 or uint64 from an exact number (checked by the caller). */
  int64(value: number): void {
    if (value >= 0 && value < TWO_32) {
      this.uint32(value);
      return;
    }
    const magnitude = Math.abs(value);
    let lo = magnitude >>> 0;
    let hi = Math.floor(magnitude / TWO_32) >>> 0;
    if (value < 0) {
      lo = (~lo + 1) >>> 0;
      hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
    }
    this.#varint64(lo, hi);
  }

  /** An int64 or uint64 from a bigint in range (checked by the caller). */
  int64n(value: bigint): void {
    const bits = BigInt.asUintN(64, value);
    this.#varint64(Number(bits & 0xffffffffn), Number(bits >> 32n));
  }

  /** A fixed32. */
  fixed32(value: number): void {
    const buf = this.#room(4);
    new DataView(buf.buffer).setUint32(this.pos, value, true);
    this.pos += 4;
  }

  /** A fixed64 from a bigint. */
  fixed64n(value: bigint): void {
    const buf = this.#room(8);
    new DataView(buf.buffer).setBigUint64(
      this.pos,
      BigInt.asUintN(64, value),
      true,
    );
    this.pos += 8;
  }

  /** A bytes field's length and bytes. */
  bytes(value: Uint8Array): void {
    this.uint32(value.length);
    const buf = this.#room(value.length);
    buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** A string field, as UTF-8. */
  string(value: string): void {
    if (!value.isWellFormed()) {
      throw new TypeError(
        "A string with a lone surrogate (an unpaired UTF-16 half) is not text",
      );
    }
    const mark = this.fork();
    const buf = this.#room(value.length * 3);
    this.pos += encoder.encodeInto(value, buf.subarray(this.pos)).written;
    this.join(mark);
  }

  /**
   * Starts a length-delimited field whose length is not known yet; give
   * the mark to `join` when its content is written.
   */
  fork(): number {
    this.#room(1);
    return this.pos++;
  }

  /** Writes the length of the field started at `mark`. */
  join(mark: number): void {
    const length = this.pos - mark - 1;
    let size = 1;
    for (let rest = length >>> 7; rest !== 0; rest >>>= 7) size++;
    if (size > 1) {
      const buf = this.#room(size - 1);
      buf.copyWithin(mark + size, mark + 1, this.pos);
      this.pos += size - 1;
    }
    const end = this.pos;
    this.pos = mark;
    this.uint32(length);
    this.pos = end;
  }
}
