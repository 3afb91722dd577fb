// One description of each v3 message, read by both of its encodings: the
// binary protocol buffer of gRPC and the proto3 JSON of etcd's gateway.
// Internal.
//
// A message object has the .proto's field names (snake_case and all, as
// the gateway's JSON has them), bytes as Uint8Array, revisions and counts
// as exact numbers, 64-bit IDs as bigint, enums as numbers, repeated fields
// as arrays and an absent message (or oneof member) as undefined. Decoded
// messages have every field; what is encoded may leave any out (`Init`).

import { Reader, WIRE, WireError, Writer } from "./wire.ts";

/** How a field's value is carried. */
export type Kind =
  | "bytes"
  | "string"
  | "bool"
  | "int64" // number, exact
  | "uint64" // number, exact
  | "uint32" // number
  | "int64n" // bigint
  | "uint64n" // bigint
  | "enum" // number
  | "message";

/** A field of a message, with the type of its value as a marker. */
export interface Field<V> {
  /** The field number. */
  readonly no: number;
  /** How the value is carried. */
  readonly kind: Kind;
  /** A repeated field (an array). */
  readonly repeated: boolean;
  /** A member of a oneof: sent when set, even to its zero value. */
  readonly oneof: boolean;
  /** The enum's value names by number (kind `enum`). */
  readonly names?: readonly string[];
  /** The message type (kind `message`), late bound for recursion. */
  readonly type?: () => MessageType<object>;
  /** Never set: ties the field to the type of its value. */
  readonly value?: V;
}

/** A JSON value. */
export type Json = string | number | boolean | null | Json[] | JsonObject;
/** A JSON object. */
export type JsonObject = { [key: string]: Json };

/** What a message may be built from: any field may be left out. */
export type Init<T> = { [K in keyof T]?: InitOf<T[K]> };
/** What a field may be built from (see `Init`). */
export type InitOf<V> = V extends
  Uint8Array | string | number | bigint | boolean | undefined ? V
  : V extends readonly (infer E)[] ? readonly InitOf<E>[]
  : Init<V>;

/** The fields of a message type, one per property of its objects. */
export type Fields<T> = { readonly [K in keyof T]-?: Field<T[K]> };

function field<V>(
  no: number,
  kind: Kind,
  extra?: Partial<Field<V>>,
): Field<V> {
  return { no, kind, repeated: false, oneof: false, ...extra };
}

/** A `bytes` field. */
export const bytes = (no: number): Field<Uint8Array> => field(no, "bytes");
/** A `string` field. */
export const string = (no: number): Field<string> => field(no, "string");
/** A `bool` field. */
export const bool = (no: number): Field<boolean> => field(no, "bool");
/** An `int64` read as an exact number (revisions, counts, TTLs). */
export const int64 = (no: number): Field<number> => field(no, "int64");
/** A `uint64` read as an exact number. */
export const uint64 = (no: number): Field<number> => field(no, "uint64");
/** A `uint32`. */
export const uint32 = (no: number): Field<number> => field(no, "uint32");
/** An `int64` identifier as a bigint (lease IDs). */
export const int64n = (no: number): Field<bigint> => field(no, "int64n");
/** A `uint64` identifier as a bigint (member and cluster IDs). */
export const uint64n = (no: number): Field<bigint> => field(no, "uint64n");
/** An enum field; `names` gives the value names by number. */
export const enumOf = (no: number, names: readonly string[]): Field<number> =>
  field(no, "enum", { names });
/** A message field (undefined when absent). */
export const message = <M extends object>(
  no: number,
  type: () => MessageType<M>,
): Field<M | undefined> =>
  field(no, "message", { type: type as () => MessageType<object> });
/** A repeated message field. */
export const messages = <M extends object>(
  no: number,
  type: () => MessageType<M>,
): Field<M[]> =>
  field(no, "message", {
    repeated: true,
    type: type as () => MessageType<object>,
  });
/** A repeated scalar field (numbers packed, as proto3 does). */
export const repeated = <V extends Uint8Array | string | number | boolean>(
  of: Field<V>,
): Field<V[]> => ({ ...of, repeated: true }) as Field<unknown> as Field<V[]>;
/** A member of a oneof (undefined when another member, or none, is set). */
export const oneof = <V>(of: Field<V>): Field<V | undefined> =>
  ({ ...of, oneof: true }) as Field<unknown> as Field<V | undefined>;

/** A field as the codec uses it: with its name and resolved type. */
interface Slot {
  readonly name: string;
  readonly no: number;
  readonly kind: Kind;
  readonly repeated: boolean;
  readonly oneof: boolean;
  readonly names: readonly string[] | undefined;
  readonly type: (() => MessageType<object>) | undefined;
  readonly wireType: number;
  readonly packable: boolean;
}

type Record_ = Record<string, unknown>;

const EMPTY: Uint8Array = new Uint8Array(0);
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * A message type: encodes and decodes its messages as protocol buffers
 * and as the gateway's JSON.
 */
export class MessageType<T extends object> {
  /** The full name, such as `etcdserverpb.RangeRequest`. */
  readonly name: string;
  /** The fields by name, as described. */
  readonly fields: Fields<T>;
  readonly #slots: readonly Slot[];
  readonly #byNo: (Slot | undefined)[];
  readonly #read: ((r: Reader, end: number) => T) | undefined;
  readonly #fromJson: ((json: unknown) => T | undefined) | undefined;

  /**
   * @param name The full name of the message.
   * @param fields Every field of the message's objects.
   * @param read A hand-written decoder for a hot message (the same result
   *   as the generic one).
   * @param fromJson A hand-written reader of the JSON of a hot message: its
   *   result, or undefined to leave anything unusual (and its error) to
   *   the generic one.
   */
  constructor(
    name: string,
    fields: Fields<T>,
    read?: (r: Reader, end: number) => T,
    fromJson?: (json: unknown) => T | undefined,
  ) {
    this.name = name;
    this.fields = fields;
    this.#read = read;
    this.#fromJson = fromJson;
    const slots: Slot[] = [];
    for (
      const [name, spec] of Object.entries(fields) as [string, Field<unknown>][]
    ) {
      const numeric = spec.kind !== "bytes" && spec.kind !== "string" &&
        spec.kind !== "message";
      slots.push({
        name,
        no: spec.no,
        kind: spec.kind,
        repeated: spec.repeated,
        oneof: spec.oneof,
        names: spec.names,
        type: spec.type,
        wireType: numeric ? WIRE.varint : WIRE.bytes,
        packable: numeric && spec.repeated,
      });
    }
    slots.sort((a, b) => a.no - b.no);
    this.#slots = slots;
    this.#byNo = [];
    for (const slot of slots) this.#byNo[slot.no] = slot;
  }

  /** A message with every field: those given, the rest zero. */
  create(init: Init<T> = {}): T {
    const source = init as Record_;
    const out: Record_ = {};
    for (const slot of this.#slots) {
      const value = source[slot.name];
      if (value === undefined) out[slot.name] = zeroOf(slot);
      else if (slot.kind !== "message") {
        out[slot.name] = slot.repeated ? [...(value as unknown[])] : value;
      } else if (slot.repeated) {
        out[slot.name] = (value as object[]).map((v) => slot.type!().create(v));
      } else out[slot.name] = slot.type!().create(value as object);
    }
    return out as T;
  }

  /** The message as a protocol buffer. */
  encode(message: Init<T>): Uint8Array {
    const writer = new Writer();
    this.write(writer, message);
    return writer.finish();
  }

  /**
   * A message from a protocol buffer; unknown fields are skipped. Its bytes
   * fields are views into `bytes`.
   *
   * @throws {WireError} When the input is malformed or truncated, or holds
   *   a number that is not exact as a number.
   */
  decode(bytes: Uint8Array): T {
    const reader = new Reader(bytes);
    return this.read(reader, bytes.length);
  }

  /** Writes the message's fields (not its length or tag). */
  write(w: Writer, message: Init<T>): void {
    const source = message as Record_;
    let slot: Slot | undefined;
    try {
      for (slot of this.#slots) {
        const value = source[slot.name];
        if (value === undefined) continue;
        if (!slot.repeated) writeOne(w, slot, value, !slot.oneof);
        else if (slot.packable) writePacked(w, slot, value as unknown[]);
        else writeEach(w, slot, value as unknown[]);
      }
    } catch (error) {
      throw inField(error, this.name, slot?.name);
    }
  }

  /** Reads the message's fields up to `end`. */
  read(r: Reader, end: number): T {
    if (this.#read !== undefined) {
      try {
        const out = this.#read(r, end);
        r.checkEnd(end);
        return out;
      } catch (error) {
        throw inField(error, this.name);
      }
    }
    const out = this.create() as Record_;
    let slot: Slot | undefined;
    try {
      while (r.pos < end) {
        const tag = r.tag();
        slot = this.#byNo[tag >>> 3];
        if (slot === undefined) {
          r.skip(tag);
          continue;
        }
        const wireType = tag & 7;
        if (slot.repeated) {
          const list = out[slot.name] as unknown[];
          if (slot.packable && wireType === WIRE.bytes) {
            const stop = r.length();
            while (r.pos < stop) list.push(readOne(r, slot));
            r.checkEnd(stop);
            continue;
          }
          checkWireType(r, slot, wireType);
          list.push(readOne(r, slot));
        } else {
          checkWireType(r, slot, wireType);
          out[slot.name] = readOne(r, slot);
        }
      }
      slot = undefined;
      r.checkEnd(end);
    } catch (error) {
      throw inField(error, this.name, slot?.name);
    }
    return out as T;
  }

  /**
   * The message as the gateway's JSON: zero values left out, bytes in
   * base64, 64-bit integers as decimal strings, enums by name.
   */
  toJson(message: Init<T>): JsonObject {
    const source = message as Record_;
    const out: JsonObject = {};
    for (const slot of this.#slots) {
      const value = source[slot.name];
      if (value === undefined) continue;
      if (slot.repeated) {
        const list = value as unknown[];
        if (list.length > 0) out[slot.name] = list.map((v) => jsonOf(slot, v));
      } else if (
        slot.oneof || slot.kind === "message" || !isZero(slot, value)
      ) {
        out[slot.name] = jsonOf(slot, value);
      }
    }
    return out;
  }

  /**
   * A message from the gateway's JSON; absent (or null) fields are zero,
   * unknown ones are skipped.
   *
   * @throws {TypeError} When a field's value is not of its type.
   */
  fromJson(json: unknown): T {
    const fast = this.#fromJson?.(json);
    if (fast !== undefined) return fast;
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new TypeError(
        `Cannot read ${this.name} from JSON: expected an object, got ${
          describe(json)
        }`,
      );
    }
    const source = json as Record_;
    const out = this.create() as Record_;
    for (const slot of this.#slots) {
      const value = source[slot.name];
      if (value === undefined || value === null) continue;
      try {
        if (!slot.repeated) out[slot.name] = fromJsonOne(slot, value);
        else if (!Array.isArray(value)) {
          throw new TypeError(`expected an array, got ${describe(value)}`);
        } else out[slot.name] = value.map((v) => fromJsonOne(slot, v));
      } catch (error) {
        throw inField(error, this.name, slot.name, "read");
      }
    }
    return out as T;
  }
}

function zeroOf(slot: Slot): unknown {
  if (slot.repeated) return [];
  if (slot.oneof || slot.kind === "message") return undefined;
  switch (slot.kind) {
    case "bytes":
      return EMPTY;
    case "string":
      return "";
    case "bool":
      return false;
    case "int64n":
    case "uint64n":
      return 0n;
    default:
      return 0;
  }
}

function isZero(slot: Slot, value: unknown): boolean {
  switch (slot.kind) {
    case "bytes":
      return (value as Uint8Array).length === 0;
    case "string":
      return value === "";
    case "bool":
      return value === false;
    case "int64n":
    case "uint64n":
      return value === 0n;
    default:
      return value === 0;
  }
}

// Errors name the field they were found in, outermost message first.
function inField(
  error: unknown,
  message: string,
  field?: string,
  verb = "decode",
): unknown {
  const where = field === undefined ? message : `${message}.${field}`;
  if (error instanceof WireError) {
    const inner = error.message.replace(/^In [^:]*: /, "");
    const path = /^In ([^:]*): /.exec(error.message)?.[1];
    return new WireError(
      `In ${path ? `${where} > ${path}` : where}: ${inner}`,
    );
  }
  if (error instanceof TypeError || error instanceof RangeError) {
    const Type = error instanceof TypeError ? TypeError : RangeError;
    const prefix = `Cannot ${verb === "read" ? "read" : "encode"} `;
    if (error.message.startsWith(prefix)) {
      // Nested: "Cannot encode X.y: ..." becomes "Cannot encode W.x > X.y: ..."
      return new Type(
        prefix + where + " > " + error.message.slice(prefix.length),
      );
    }
    return new Type(`${prefix}${where}: ${error.message}`);
  }
  return error;
}

function checkWireType(r: Reader, slot: Slot, wireType: number): void {
  if (wireType !== slot.wireType) {
    throw r.fail(
      `Wire type ${wireType} where ${slot.kind} field ${slot.no} has wire type ${slot.wireType}`,
    );
  }
}

function readOne(r: Reader, slot: Slot): unknown {
  switch (slot.kind) {
    case "bytes":
      return r.bytes();
    case "string":
      return r.string();
    case "bool":
      return r.bool();
    case "int64":
      return r.int64();
    case "uint64":
      return r.uint64();
    case "uint32":
      return r.uint32();
    case "int64n":
      return r.int64n();
    case "uint64n":
      return r.uint64n();
    case "enum":
      return r.int32();
    case "message": {
      const end = r.length();
      return slot.type!().read(r, end);
    }
  }
}

function writeOne(w: Writer, slot: Slot, value: unknown, skipZero: boolean) {
  switch (slot.kind) {
    case "bytes": {
      const bytes = value as Uint8Array;
      if (!(bytes instanceof Uint8Array)) throw notA("a Uint8Array", value);
      if (skipZero && bytes.length === 0) return;
      w.tag(slot.no, WIRE.bytes);
      w.bytes(bytes);
      return;
    }
    case "string":
      if (typeof value !== "string") throw notA("a string", value);
      if (skipZero && value === "") return;
      w.tag(slot.no, WIRE.bytes);
      w.string(value);
      return;
    case "bool":
      if (typeof value !== "boolean") throw notA("a boolean", value);
      if (skipZero && !value) return;
      w.tag(slot.no, WIRE.varint);
      w.bool(value);
      return;
    case "message": {
      if (typeof value !== "object" || value === null) {
        throw notA("an object", value);
      }
      w.tag(slot.no, WIRE.bytes);
      const mark = w.fork();
      slot.type!().write(w, value);
      w.join(mark);
      return;
    }
    default:
      if (skipZero && (value === 0 || value === 0n)) return;
      w.tag(slot.no, WIRE.varint);
      writeNumber(w, slot, value);
  }
}

function writeEach(w: Writer, slot: Slot, list: unknown[]): void {
  for (const value of list) writeOne(w, slot, value, false);
}

function writePacked(w: Writer, slot: Slot, list: unknown[]): void {
  if (list.length === 0) return;
  w.tag(slot.no, WIRE.bytes);
  const mark = w.fork();
  for (const value of list) {
    if (slot.kind === "bool") w.bool(value as boolean);
    else writeNumber(w, slot, value);
  }
  w.join(mark);
}

function writeNumber(w: Writer, slot: Slot, value: unknown): void {
  switch (slot.kind) {
    case "int64":
    case "uint64":
      if (!Number.isSafeInteger(value)) throw notA("an exact integer", value);
      if (slot.kind === "uint64" && (value as number) < 0) {
        throw notA("an integer >= 0", value);
      }
      w.int64(value as number);
      return;
    case "uint32":
      if (
        !Number.isInteger(value) || (value as number) < 0 ||
        (value as number) > 0xffffffff
      ) {
        throw notA("an integer from 0 to 2^32-1", value);
      }
      w.uint32(value as number);
      return;
    case "enum":
      if (
        !Number.isInteger(value) || (value as number) < -0x80000000 ||
        (value as number) > 0x7fffffff
      ) {
        throw notA("an enum value (a 32-bit integer)", value);
      }
      w.int32(value as number);
      return;
    case "int64n":
    case "uint64n": {
      if (typeof value !== "bigint") throw notA("a bigint", value);
      const min = slot.kind === "int64n" ? INT64_MIN : 0n;
      const max = slot.kind === "int64n" ? -INT64_MIN - 1n : UINT64_MAX;
      if (value < min || value > max) {
        throw new RangeError(
          `${value} is out of the range of ${
            slot.kind === "int64n" ? "int64" : "uint64"
          }`,
        );
      }
      w.int64n(value);
      return;
    }
  }
}

function notA(what: string, value: unknown): TypeError {
  return new TypeError(`expected ${what}, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return "a Uint8Array";
  switch (typeof value) {
    case "string":
      return JSON.stringify(
        value.length > 40 ? value.slice(0, 40) + "..." : value,
      );
    case "number":
    case "boolean":
      return String(value);
    case "bigint":
      return `${value}n`;
    default:
      return typeof value;
  }
}

function jsonOf(slot: Slot, value: unknown): Json {
  switch (slot.kind) {
    case "bytes":
      return (value as Uint8Array).toBase64();
    case "string":
    case "bool":
    case "uint32":
      return value as Json;
    case "int64":
    case "uint64":
    case "int64n":
    case "uint64n":
      return String(value);
    case "enum":
      return slot.names![value as number] ?? (value as number);
    case "message":
      return slot.type!().toJson(value as object);
  }
}

const INTEGER = /^-?[0-9]+$/;

function fromJsonOne(slot: Slot, value: unknown): unknown {
  switch (slot.kind) {
    case "bytes":
      if (typeof value !== "string") throw notA("base64 text", value);
      try {
        return value === "" ? EMPTY : Uint8Array.fromBase64(value);
      } catch {
        throw notA("base64 text", value);
      }
    case "string":
      if (typeof value !== "string") throw notA("a string", value);
      return value;
    case "bool":
      if (typeof value !== "boolean") throw notA("true or false", value);
      return value;
    case "int64":
    case "uint64":
    case "uint32": {
      const number = typeof value === "string" && INTEGER.test(value)
        ? Number(value)
        : value;
      if (!Number.isSafeInteger(number)) {
        throw notA("an integer that is exact as a number", value);
      }
      if (slot.kind !== "int64" && (number as number) < 0) {
        throw notA("an integer >= 0", value);
      }
      return number;
    }
    case "int64n":
    case "uint64n": {
      if (
        !(typeof value === "string" && INTEGER.test(value)) &&
        !Number.isSafeInteger(value)
      ) throw notA("a 64-bit integer", value);
      const big = BigInt(value as string | number);
      const min = slot.kind === "int64n" ? INT64_MIN : 0n;
      const max = slot.kind === "int64n" ? -INT64_MIN - 1n : UINT64_MAX;
      if (big < min || big > max) {
        throw notA("a 64-bit integer in range", value);
      }
      return big;
    }
    case "enum": {
      if (typeof value === "number" && Number.isInteger(value)) return value;
      const index = typeof value === "string" ? slot.names!.indexOf(value) : -1;
      if (index < 0) {
        throw notA(`one of ${slot.names!.join(", ")}`, value);
      }
      return index;
    }
    case "message":
      return slot.type!().fromJson(value);
  }
}
