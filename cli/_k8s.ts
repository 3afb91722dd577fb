// Kubernetes objects decoded from the values Kubernetes stores in etcd, for
// reading. Pure: no I/O. Internal.
//
// Kubernetes stores an object as protobuf (the magic "k8s\0", then a
// runtime.Unknown message whose `raw` is the object's own message), as JSON
// (custom resources, or every object with --storage-media-type=json), or
// encrypted at rest ("k8s:enc:PROVIDER:VERSION:KEY:..."), which is said,
// not decoded. Field names and types come from cli/_k8s_table.ts (derived
// from Kubernetes' generated.proto files by tools/k8s_table.ts); kinds not
// in it, and fields not in it, are shown as a tree keyed by field number.
// Malformed or hostile input never throws: the result says what went wrong
// and holds what was decoded before.

import { type FieldSpec, KINDS, MESSAGES } from "./_k8s_table.ts";

/** Plain JSON-able data: what a decoded object is made of. */
export type K8sValue =
  | null
  | boolean
  | number
  | string
  | K8sValue[]
  | { [name: string]: K8sValue };

/** A decoded Kubernetes object (or what can be said of one). */
export interface K8sObject {
  /**
   * How Kubernetes stored it: `protobuf` (`k8s\0` then runtime.Unknown),
   * `json`, or `encrypted` at rest (`k8s:enc:`), which is not decoded.
   */
  readonly encoding: "protobuf" | "json" | "encrypted";
  /** The object's apiVersion, such as `v1` or `apps/v1` ("" if unknown). */
  readonly apiVersion: string;
  /** The object's kind, such as `Pod` ("" if unknown). */
  readonly kind: string;
  /**
   * The object as Kubernetes' JSON spells it: `apiVersion`, `kind`,
   * `metadata`, `spec`, ... Fields the table does not know are named by
   * number (`"#5"`). Absent when encrypted.
   */
  readonly object?: { [name: string]: K8sValue };
  /** How it is encrypted: provider, version and key name (`aescbc:v1:key1`). */
  readonly encryption?: string;
  /** How many values were replaced by a {@link hiddenMarker}. */
  readonly hidden?: number;
  /** Why decoding stopped; `object` then holds what was decoded before. */
  readonly error?: string;
}

/** Options of {@link decodeK8s}. */
export interface DecodeOptions {
  /** Show Secrets' data (default: each value is a marker with its size). */
  readonly showSecrets?: boolean;
}

/** What stands for a hidden secret value of `size` bytes. */
export function hiddenMarker(size: number): string {
  return `<hidden: ${size} bytes>`;
}

/** How deep messages may nest (real objects stay far below). */
const MAX_DEPTH = 100;
/** How deep an unknown field is tried as a message. */
const MAX_GUESS_DEPTH = 32;
const MAGIC = [0x6b, 0x38, 0x73, 0x00]; // "k8s\0"
const ENCRYPTED = "k8s:enc:";
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The Kubernetes object a value of etcd holds, or undefined when the value
 * is not one (not `k8s\0` protobuf, not `k8s:enc:`, not a JSON object with
 * apiVersion and kind). Never throws.
 */
export function decodeK8s(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): K8sObject | undefined {
  if (startsWith(bytes, MAGIC)) return decodeProtobuf(bytes, options);
  if (startsWith(bytes, [...ENCRYPTED].map((c) => c.charCodeAt(0)))) {
    return decodeEncrypted(bytes);
  }
  return decodeJson(bytes, options);
}

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return bytes.length >= prefix.length &&
    prefix.every((byte, i) => bytes[i] === byte);
}

// ---- The three encodings ----

function decodeEncrypted(bytes: Uint8Array): K8sObject {
  // k8s:enc:PROVIDER:VERSION:KEYNAME:CIPHERTEXT (KMS v2: k8s:enc:kms:v2:NAME:)
  const head = utf8.decode(bytes.subarray(ENCRYPTED.length, 300)).split(":");
  const parts = head.slice(0, head.length > 3 ? 3 : 2)
    .filter((part) => /^[\w.-]{1,64}$/.test(part));
  return {
    encoding: "encrypted",
    apiVersion: "",
    kind: "",
    encryption: parts.join(":"),
  };
}

function decodeJson(
  bytes: Uint8Array,
  options: DecodeOptions,
): K8sObject | undefined {
  let at = 0;
  while (at < bytes.length && /\s/.test(String.fromCharCode(bytes[at]!))) at++;
  if (bytes[at] !== 0x7b) return undefined; // "{"
  let object: unknown;
  try {
    object = JSON.parse(strictUtf8.decode(bytes));
  } catch {
    return undefined;
  }
  if (!isRecord(object)) return undefined;
  const { apiVersion, kind } = object;
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    return undefined;
  }
  const json = object as { [name: string]: K8sValue };
  const hidden = hideSecret(apiVersion, kind, json, options, sizeOfBase64);
  return { encoding: "json", apiVersion, kind, object: json, ...hidden };
}

function decodeProtobuf(bytes: Uint8Array, options: DecodeOptions): K8sObject {
  let apiVersion = "";
  let kind = "";
  const object: { [name: string]: K8sValue } = {};
  try {
    const unknown = readUnknown(new Reader(bytes, MAGIC.length, bytes.length));
    apiVersion = unknown.apiVersion;
    kind = unknown.kind;
    object.apiVersion = apiVersion;
    object.kind = kind;
    if (unknown.contentEncoding !== "") {
      throw new DecodeError(
        `the object is compressed (${JSON.stringify(unknown.contentEncoding)})`,
      );
    }
    const raw = unknown.raw;
    const name = KINDS[`${apiVersion} ${kind}`];
    if (name !== undefined) {
      readMessage(raw, MESSAGES[name]!, object, 0);
    } else {
      readUnknownKind(raw, object);
    }
    const hidden = hideSecret(apiVersion, kind, object, options, sizeOfBase64);
    if (unknown.cut !== undefined) throw new DecodeError(unknown.cut);
    return { encoding: "protobuf", apiVersion, kind, object, ...hidden };
  } catch (error) {
    // What was decoded of a Secret is hidden too.
    const hidden = hideSecret(apiVersion, kind, object, options, sizeOfBase64);
    return {
      encoding: "protobuf",
      apiVersion,
      kind,
      object,
      ...hidden,
      error: error instanceof DecodeError
        ? error.message
        : `cannot decode: ${error instanceof Error ? error.message : error}`,
    };
  }
}

interface Unknown {
  apiVersion: string;
  kind: string;
  raw: Reader;
  /** Why `raw` is cut short, if it is. */
  cut?: string;
  contentEncoding: string;
}

/** runtime.Unknown: typeMeta {apiVersion=1, kind=2}=1, raw=2, contentEncoding=3. */
function readUnknown(reader: Reader): Unknown {
  const unknown: Unknown = {
    apiVersion: "",
    kind: "",
    raw: new Reader(new Uint8Array(), 0, 0),
    contentEncoding: "",
  };
  while (!reader.done()) {
    const [field, wire] = reader.tag();
    if (wire !== LEN) {
      reader.skip(wire);
      continue;
    }
    // A cut object: what there is of it, then the error.
    const inner = field === 2 ? reader.subOrRest() : reader.sub();
    if (field === 1) {
      while (!inner.done()) {
        const [typeField, typeWire] = inner.tag();
        if (typeWire !== LEN) inner.skip(typeWire);
        else if (typeField === 1) unknown.apiVersion = inner.sub().text();
        else if (typeField === 2) unknown.kind = inner.sub().text();
        else inner.sub();
      }
    } else if (field === 2) {
      unknown.raw = inner;
      if (inner.cut !== undefined) unknown.cut = inner.cut;
    } else if (field === 3) unknown.contentEncoding = inner.text();
  }
  if (unknown.kind === "") {
    throw new DecodeError("the Kubernetes envelope names no kind");
  }
  return unknown;
}

/**
 * A kind the table does not know: every Kubernetes object has its
 * ObjectMeta as field 1; the rest by number. When field 1 is not one after
 * all, it is all by number.
 */
function readUnknownKind(raw: Reader, object: { [name: string]: K8sValue }) {
  const fields = {
    1: ["metadata", "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"],
  } as const;
  const body: { [name: string]: K8sValue } = {};
  try {
    readMessage(raw.copy(), fields, body, 0);
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    for (const name of Object.keys(body)) delete body[name];
    readMessage(raw, {}, body, 0);
  }
  Object.assign(object, body);
}

// ---- Secrets ----

/**
 * Replaces a Secret's data (and the copy kubectl apply keeps in an
 * annotation) by markers, unless asked to show them.
 */
function hideSecret(
  apiVersion: string,
  kind: string,
  object: { [name: string]: K8sValue },
  options: DecodeOptions,
  sizeOf: (value: K8sValue) => number,
): { hidden?: number } {
  if (options.showSecrets || apiVersion !== "v1" || kind !== "Secret") {
    return {};
  }
  let hidden = 0;
  for (const name of ["data", "stringData"]) {
    const data = object[name];
    if (!isRecord(data)) continue;
    for (const key of Object.keys(data)) {
      data[key] = hiddenMarker(
        name === "data" ? sizeOf(data[key]!) : textSize(data[key]!),
      );
      hidden++;
    }
  }
  const metadata = object.metadata;
  const annotations = isRecord(metadata) ? metadata.annotations : undefined;
  if (isRecord(annotations) && LAST_APPLIED in annotations) {
    annotations[LAST_APPLIED] = hiddenMarker(
      textSize(annotations[LAST_APPLIED]!),
    );
    hidden++;
  }
  return hidden === 0 ? {} : { hidden };
}

function sizeOfBase64(value: K8sValue): number {
  return typeof value === "string"
    ? Math.floor(value.replace(/=+$/, "").length * 3 / 4)
    : 0;
}

function textSize(value: K8sValue): number {
  return typeof value === "string" ? new TextEncoder().encode(value).length : 0;
}

function isRecord(value: unknown): value is { [name: string]: K8sValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---- Messages by the table ----

type Fields = Readonly<Record<number, FieldSpec>>;

/**
 * Reads a message into `into` by its fields. Values are attached before
 * they are filled, so that what was decoded stays when a fault stops it.
 */
function readMessage(
  reader: Reader,
  fields: Fields,
  into: { [name: string]: K8sValue },
  depth: number,
): void {
  if (depth > MAX_DEPTH) {
    throw new DecodeError(`messages nest deeper than ${MAX_DEPTH}`);
  }
  while (!reader.done()) {
    const [number, wire] = reader.tag();
    const spec = fields[number];
    if (spec === undefined || !fits(spec, wire)) {
      addUnknown(into, number, wire, reader, MAX_GUESS_DEPTH);
      continue;
    }
    const [name, type, label] = spec;
    if (label === "inline") {
      readMessage(reader.sub(), MESSAGES[type] ?? {}, into, depth + 1);
    } else if (label?.startsWith("map:")) {
      const seen = into[name];
      const map = isRecord(seen) ? seen : (into[name] = {});
      readEntry(reader.sub(), type, map, depth);
    } else if (label === "repeated") {
      const seen = into[name];
      const list = Array.isArray(seen) ? seen : (into[name] = []);
      if (wire === LEN && isPacked(type)) {
        const packed = reader.sub();
        while (!packed.done()) {
          list.push(readScalar(packed, type, wireOf(type)));
        }
      } else {
        list.push(null);
        list[list.length - 1] = readValue(reader, type, wire, depth);
      }
    } else {
      into[name] = null;
      into[name] = readValue(reader, type, wire, depth);
    }
  }
}

/** A map entry (key=1, value=2) into `map`. */
function readEntry(
  entry: Reader,
  type: string,
  map: { [name: string]: K8sValue },
  depth: number,
): void {
  let key = "";
  let value: K8sValue = defaultOf(type);
  while (!entry.done()) {
    const [number, wire] = entry.tag();
    if (number === 1 && wire === LEN) key = entry.sub().text();
    else if (number === 2 && wire === wireOf(type)) {
      value = readValue(entry, type, wire, depth);
    } else entry.skip(wire);
  }
  map[key] = value;
}

/** A proto2 field's value when it is absent from a map entry. */
function defaultOf(type: string): K8sValue {
  if (type === "string" || type === "bytes") return "";
  if (type === "bool") return false;
  return type.includes(".") ? {} : 0;
}

function readValue(
  reader: Reader,
  type: string,
  wire: number,
  depth: number,
): K8sValue {
  const fields = MESSAGES[type];
  if (fields === undefined) return readScalar(reader, type, wire);
  const object: { [name: string]: K8sValue } = {};
  readMessage(reader.sub(), fields, object, depth + 1);
  return SHAPES[type]?.(object) ?? object;
}

function readScalar(reader: Reader, type: string, wire: number): K8sValue {
  switch (type) {
    case "string":
      return reader.sub().text();
    case "bytes":
      return reader.sub().bytes().toBase64();
    case "bool":
      return reader.varint() !== 0;
    case "double":
      return finite(reader.fixed(8).getFloat64(0, true));
    case "float":
      return finite(reader.fixed(4).getFloat32(0, true));
    case "int32":
    case "int64":
      return integer(BigInt.asIntN(64, BigInt(reader.varint())));
    case "uint32":
    case "uint64":
      return integer(BigInt(reader.varint()));
    default:
      return unknownValue(reader, wire, MAX_GUESS_DEPTH);
  }
}

/** JSON has no NaN or infinities: those as their names. */
function finite(value: number): K8sValue {
  return Number.isFinite(value) ? value : String(value);
}

/** An integer as a number when exact, else as decimal text. */
function integer(value: bigint): K8sValue {
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : value.toString();
}

const LEN = 2;

function wireOf(type: string): number {
  if (type === "double" || type.endsWith("fixed64")) return 1;
  if (type === "float" || type.endsWith("fixed32")) return 5;
  if (type === "string" || type === "bytes" || type.includes(".")) return LEN;
  return 0;
}

function isPacked(type: string): boolean {
  return wireOf(type) !== LEN;
}

function fits(spec: FieldSpec, wire: number): boolean {
  const [, type, label] = spec;
  if (label?.startsWith("map:")) return wire === LEN;
  return wire === wireOf(type) || (label === "repeated" && wire === LEN);
}

// ---- Messages Kubernetes' JSON shows as something else ----

const META = "k8s.io.apimachinery.pkg.apis.meta.v1.";
const EXT = "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.";

const SHAPES: Record<
  string,
  (object: { [name: string]: K8sValue }) => K8sValue
> = {
  [`${META}Time`]: (time) => timestamp(time, false),
  [`${META}MicroTime`]: (time) => timestamp(time, true),
  [`${META}FieldsV1`]: (fields) => embeddedJson(fields.Raw),
  ["k8s.io.apimachinery.pkg.api.resource.Quantity"]: (quantity) =>
    quantity.string ?? "",
  ["k8s.io.apimachinery.pkg.util.intstr.IntOrString"]: (value) =>
    value.type === 1 ? value.strVal ?? "" : value.intVal ?? 0,
  [`${EXT}JSON`]: (json) => embeddedJson(json.raw),
  [`${EXT}JSONSchemaPropsOrBool`]: (value) =>
    value.schema ?? value.allows ?? false,
  [`${EXT}JSONSchemaPropsOrArray`]: (value) =>
    value.schema ?? value.jSONSchemas ?? [],
  [`${EXT}JSONSchemaPropsOrStringArray`]: (value) =>
    value.schema ?? value.property ?? [],
};

/** meta.v1.Time {seconds=1, nanos=2} as RFC 3339 (MicroTime: microseconds). */
function timestamp(
  time: { [name: string]: K8sValue },
  micro: boolean,
): K8sValue {
  const seconds = typeof time.seconds === "number" ? time.seconds : 0;
  const nanos = typeof time.nanos === "number" ? time.nanos : 0;
  // Beyond what a Date holds (a hostile value): as the numbers.
  if (Math.abs(seconds) > 8.64e12 || nanos < 0 || nanos >= 1e9) return time;
  const text = new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, "");
  return micro
    ? `${text}.${String(Math.floor(nanos / 1000)).padStart(6, "0")}Z`
    : `${text}Z`;
}

/** Raw JSON (base64 here) as the data it spells, else left as base64. */
function embeddedJson(raw: K8sValue | undefined): K8sValue {
  if (typeof raw !== "string") return null;
  try {
    return JSON.parse(strictUtf8.decode(Uint8Array.fromBase64(raw)));
  } catch {
    return { base64: raw };
  }
}

// ---- Fields the table does not know ----

/**
 * An unknown field as `"#N"`: a varint as an integer, fixed32 and fixed64
 * as unsigned integers, and length-delimited bytes as text when they are
 * printable UTF-8, else as a message when they read as one, else as
 * `{ base64 }`. A field seen again makes a list.
 */
function addUnknown(
  into: { [name: string]: K8sValue },
  number: number,
  wire: number,
  reader: Reader,
  budget: number,
): void {
  const value = unknownValue(reader, wire, budget);
  const name = `#${number}`;
  const seen = into[name];
  if (seen === undefined) into[name] = value;
  else if (Array.isArray(seen)) seen.push(value);
  else into[name] = [seen, value];
}

/** `budget`: how many more levels may be tried as messages. */
function unknownValue(reader: Reader, wire: number, budget: number): K8sValue {
  switch (wire) {
    case 0:
      return integer(BigInt(reader.varint()));
    case 1:
      return integer(reader.fixed(8).getBigUint64(0, true));
    case 5:
      return reader.fixed(4).getUint32(0, true);
    case LEN:
      return guess(reader.sub(), budget);
    default:
      throw new DecodeError(`unsupported wire type ${wire}`);
  }
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

function guess(reader: Reader, budget: number): K8sValue {
  const bytes = reader.bytes();
  try {
    const text = strictUtf8.decode(bytes);
    if (!CONTROL.test(text)) return text;
  } catch {
    // not text
  }
  if (budget > 0) {
    try {
      const object: { [name: string]: K8sValue } = {};
      const inner = new Reader(bytes, 0, bytes.length);
      while (!inner.done()) {
        const [number, wire] = inner.tag();
        addUnknown(object, number, wire, inner, budget - 1);
      }
      return object;
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
    }
  }
  return { base64: bytes.toBase64() };
}

// ---- The wire format ----

/** A fault of the value being decoded (not of the decoder). */
class DecodeError extends Error {}

/** Reads protobuf's wire format from `bytes[at, end)`. */
class Reader {
  /** Why these bytes end before their field did (see subOrRest). */
  cut?: string;
  #bytes: Uint8Array;
  #at: number;
  #end: number;

  constructor(bytes: Uint8Array, at: number, end: number) {
    this.#bytes = bytes;
    this.#at = at;
    this.#end = end;
  }

  done(): boolean {
    return this.#at >= this.#end;
  }

  copy(): Reader {
    return new Reader(this.#bytes, this.#at, this.#end);
  }

  /** A varint: a number below 2^49, else a bigint (up to 64 bits). */
  varint(): number | bigint {
    const start = this.#at;
    for (;;) {
      if (this.#at >= this.#end) throw new DecodeError("truncated varint");
      if (this.#bytes[this.#at++]! < 0x80) break;
      if (this.#at - start >= 10) {
        throw new DecodeError("a varint longer than 10 bytes");
      }
    }
    if (this.#at - start <= 7) {
      let value = 0;
      for (let i = this.#at - 1; i >= start; i--) {
        value = value * 128 + (this.#bytes[i]! & 0x7f);
      }
      return value;
    }
    let value = 0n;
    for (let i = this.#at - 1; i >= start; i--) {
      value = (value << 7n) | BigInt(this.#bytes[i]! & 0x7f);
    }
    return BigInt.asUintN(64, value);
  }

  /** A field's number and wire type. */
  tag(): [number, number] {
    const tag = this.varint();
    if (typeof tag !== "number" || tag >= 2 ** 32 || tag < 8) {
      throw new DecodeError(`an invalid field tag ${tag}`);
    }
    return [Math.floor(tag / 8), tag % 8];
  }

  /** `size` bytes as a view, for fixed32/fixed64. */
  fixed(size: number): DataView {
    const start = this.#take(size);
    return new DataView(
      this.#bytes.buffer,
      this.#bytes.byteOffset + start,
      size,
    );
  }

  /** A length-delimited field's bytes, as a reader of them. */
  sub(): Reader {
    const length = this.varint();
    if (typeof length !== "number") {
      throw new DecodeError(`a length of ${length} bytes`);
    }
    const start = this.#take(length);
    return new Reader(this.#bytes, start, start + length);
  }

  /**
   * A length-delimited field's bytes; when they run past the end, the rest,
   * with `cut` saying so.
   */
  subOrRest(): Reader {
    const length = this.varint();
    const rest = this.#end - this.#at;
    if (typeof length === "number" && length <= rest) {
      return new Reader(this.#bytes, this.#take(length), this.#at);
    }
    const reader = new Reader(
      this.#bytes,
      this.#take(rest),
      this.#end,
    );
    reader.cut =
      `truncated: the object is ${length} bytes where ${rest} remain`;
    return reader;
  }

  /** The rest of the bytes. */
  bytes(): Uint8Array {
    const start = this.#at;
    this.#at = this.#end;
    return this.#bytes.subarray(start, this.#end);
  }

  /** The rest of the bytes as UTF-8 text. */
  text(): string {
    return utf8.decode(this.bytes());
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.#take(8);
    else if (wire === 5) this.#take(4);
    else if (wire === LEN) this.sub();
    else throw new DecodeError(`unsupported wire type ${wire}`);
  }

  #take(size: number): number {
    if (size > this.#end - this.#at) {
      throw new DecodeError(
        `truncated: a field of ${size} bytes where ${
          this.#end - this.#at
        } remain`,
      );
    }
    const start = this.#at;
    this.#at += size;
    return start;
  }
}
