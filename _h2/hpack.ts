// HPACK (RFC 7541): the header compression of HTTP/2. The decoder keeps the
// dynamic table the server's encoder drives, decodes Huffman strings and
// refuses what would grow without bound; the encoder indexes the headers a
// gRPC client repeats on every call (:path, :authority, content-type...),
// so that a call's headers shrink to a few bytes. Internal.

import { connectionError, ErrorCode, H2Error } from "./errors.ts";
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from "./huffman_table.ts";

/** A header field: name and value. */
export type Header = readonly [name: string, value: string];

/** The static table (RFC 7541 Appendix A); index 1 is the first entry. */
export const STATIC_TABLE: readonly Header[] = [
  [":authority", ""],
  [":method", "GET"],
  [":method", "POST"],
  [":path", "/"],
  [":path", "/index.html"],
  [":scheme", "http"],
  [":scheme", "https"],
  [":status", "200"],
  [":status", "204"],
  [":status", "206"],
  [":status", "304"],
  [":status", "400"],
  [":status", "404"],
  [":status", "500"],
  ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""],
  ["accept-ranges", ""],
  ["accept", ""],
  ["access-control-allow-origin", ""],
  ["age", ""],
  ["allow", ""],
  ["authorization", ""],
  ["cache-control", ""],
  ["content-disposition", ""],
  ["content-encoding", ""],
  ["content-language", ""],
  ["content-length", ""],
  ["content-location", ""],
  ["content-range", ""],
  ["content-type", ""],
  ["cookie", ""],
  ["date", ""],
  ["etag", ""],
  ["expect", ""],
  ["expires", ""],
  ["from", ""],
  ["host", ""],
  ["if-match", ""],
  ["if-modified-since", ""],
  ["if-none-match", ""],
  ["if-range", ""],
  ["if-unmodified-since", ""],
  ["last-modified", ""],
  ["link", ""],
  ["location", ""],
  ["max-forwards", ""],
  ["proxy-authenticate", ""],
  ["proxy-authorization", ""],
  ["range", ""],
  ["referer", ""],
  ["refresh", ""],
  ["retry-after", ""],
  ["server", ""],
  ["set-cookie", ""],
  ["strict-transport-security", ""],
  ["transfer-encoding", ""],
  ["user-agent", ""],
  ["vary", ""],
  ["via", ""],
  ["www-authenticate", ""],
];

/** Every entry of a table costs its name, value and 32 octets. */
const ENTRY_OVERHEAD = 32;
const STATIC_COUNT = STATIC_TABLE.length;
/** Integers above this are refused (no header needs more). */
const MAX_INTEGER = 0x7fffffff;

const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();

function entrySize(name: string, value: string): number {
  return name.length + value.length + ENTRY_OVERHEAD;
}

function compression(detail: string): H2Error {
  return connectionError(ErrorCode.COMPRESSION_ERROR, detail);
}

// ---------------------------------------------------------------------------
// Huffman

/**
 * The decoding tree: node `n` has children `tree[2n]` (bit 0) and
 * `tree[2n + 1]` (bit 1); a child `>= 0` is a node, `-1 - symbol` a leaf.
 */
const HUFFMAN_TREE = buildTree();

function buildTree(): Int32Array {
  const tree = new Int32Array(2 * 512).fill(0);
  let nodes = 1;
  for (let symbol = 0; symbol <= 256; symbol++) {
    const code = HUFFMAN_CODES[symbol]!;
    const length = HUFFMAN_LENGTHS[symbol]!;
    let node = 0;
    for (let bit = length - 1; bit >= 0; bit--) {
      const slot = 2 * node + ((code >>> bit) & 1);
      if (bit === 0) {
        tree[slot] = -1 - symbol;
      } else {
        if (tree[slot] === 0) tree[slot] = nodes++;
        node = tree[slot]!;
      }
    }
  }
  return tree;
}

/**
 * Decodes a Huffman-coded string (RFC 7541 section 5.2). Padding longer
 * than 7 bits, padding that is not EOS's prefix, or EOS itself are errors.
 */
export function huffmanDecode(bytes: Uint8Array): Uint8Array {
  // Every symbol takes at least 5 bits.
  const out = new Uint8Array(Math.ceil((bytes.length * 8) / 5));
  let length = 0;
  let node = 0;
  // Bits read since the last symbol, and whether they were all ones.
  let pending = 0;
  let allOnes = true;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    for (let bit = 7; bit >= 0; bit--) {
      const one = (byte >>> bit) & 1;
      const next = HUFFMAN_TREE[2 * node + one]!;
      pending++;
      allOnes &&= one === 1;
      if (next < 0) {
        const symbol = -1 - next;
        if (symbol === 256) throw compression("a Huffman string holds EOS");
        out[length++] = symbol;
        node = 0;
        pending = 0;
        allOnes = true;
      } else {
        node = next;
      }
    }
  }
  if (pending > 7 || !allOnes) {
    throw compression("a Huffman string ends in invalid padding");
  }
  return out.subarray(0, length);
}

/** The length in bytes of `bytes` Huffman-coded. */
function huffmanLength(bytes: Uint8Array): number {
  let bits = 0;
  for (let i = 0; i < bytes.length; i++) bits += HUFFMAN_LENGTHS[bytes[i]!]!;
  return (bits + 7) >>> 3;
}

// ---------------------------------------------------------------------------
// Decoder

/** Options of {@linkcode HpackDecoder}. */
export interface HpackDecoderOptions {
  /**
   * The most the dynamic table may hold: what we announce as
   * SETTINGS_HEADER_TABLE_SIZE. Default 4096.
   */
  maxTableSize?: number;
  /**
   * The most a decoded header list may hold (names, values and 32 octets
   * per field): what we announce as SETTINGS_MAX_HEADER_LIST_SIZE. Default
   * 64 KiB.
   */
  maxListSize?: number;
}

/** A header list over the limit: the block was decoded, the list refused. */
export class HeaderListTooLarge extends H2Error {
  constructor(size: number, limit: number) {
    super(
      `HTTP/2: a header list of over ${limit} bytes (${size}) was refused`,
      ErrorCode.PROTOCOL_ERROR,
    );
  }
}

/** Decodes header blocks, keeping the dynamic table between them. */
export class HpackDecoder {
  readonly #maxTableSize: number;
  readonly #maxListSize: number;
  /** The dynamic table, oldest first. */
  readonly #entries: Header[] = [];
  #size = 0;
  #capacity: number;

  constructor(options: HpackDecoderOptions = {}) {
    this.#maxTableSize = options.maxTableSize ?? 4096;
    this.#capacity = this.#maxTableSize;
    this.#maxListSize = options.maxListSize ?? 65536;
  }

  /** The dynamic table's current size in octets (RFC 7541 section 4.1). */
  get tableSize(): number {
    return this.#size;
  }

  /** The dynamic table's entries, newest first (for tests). */
  get dynamicTable(): Header[] {
    return this.#entries.slice().reverse();
  }

  /**
   * Decodes one complete header block.
   *
   * @throws {H2Error} COMPRESSION_ERROR for a malformed block (a
   *   connection error); {@linkcode HeaderListTooLarge} after decoding a
   *   block whose list is over the limit (the table stays in step).
   */
  decode(block: Uint8Array): Header[] {
    const headers: Header[] = [];
    let listSize = 0;
    const reader = { block, at: 0 };
    let fieldSeen = false;
    while (reader.at < block.length) {
      const first = block[reader.at]!;
      let header: Header;
      if (first & 0x80) {
        header = this.#lookup(readInteger(reader, 7));
      } else if (first & 0x40) {
        header = this.#literal(reader, 6);
        this.#insert(header);
      } else if (first & 0x20) {
        // A dynamic table size update: only before the first field.
        if (fieldSeen) {
          throw compression("a table size update after a header field");
        }
        const size = readInteger(reader, 5);
        if (size > this.#maxTableSize) {
          throw compression(
            `a table size update to ${size} is over the ${this.#maxTableSize} allowed`,
          );
        }
        this.#capacity = size;
        this.#evict(0);
        continue;
      } else {
        // Without indexing (0000) or never indexed (0001).
        header = this.#literal(reader, 4);
      }
      fieldSeen = true;
      listSize += header[0].length + header[1].length + ENTRY_OVERHEAD;
      headers.push(header);
    }
    if (listSize > this.#maxListSize) {
      throw new HeaderListTooLarge(listSize, this.#maxListSize);
    }
    return headers;
  }

  #lookup(index: number): Header {
    if (index === 0) throw compression("a header field index of 0");
    if (index <= STATIC_COUNT) return STATIC_TABLE[index - 1]!;
    const entry =
      this.#entries[this.#entries.length - 1 - (index - STATIC_COUNT - 1)];
    if (entry === undefined) {
      throw compression(
        `a header field index ${index} beyond the table's ${
          STATIC_COUNT + this.#entries.length
        } entries`,
      );
    }
    return entry;
  }

  #literal(reader: Reader, prefix: number): Header {
    const nameIndex = readInteger(reader, prefix);
    const name = nameIndex === 0
      ? readString(reader)
      : this.#lookup(nameIndex)[0];
    return [name, readString(reader)];
  }

  #insert(header: Header): void {
    const size = entrySize(header[0], header[1]);
    this.#evict(size);
    // An entry larger than the table empties it and is not added.
    if (size <= this.#capacity) {
      this.#entries.push(header);
      this.#size += size;
    }
  }

  /** Evicts the oldest entries until `room` more octets fit. */
  #evict(room: number): void {
    let drop = 0;
    while (this.#size + room > this.#capacity && drop < this.#entries.length) {
      const [name, value] = this.#entries[drop++]!;
      this.#size -= entrySize(name, value);
    }
    if (drop > 0) this.#entries.splice(0, drop);
  }
}

interface Reader {
  block: Uint8Array;
  at: number;
}

/** Reads an integer with an N-bit prefix (RFC 7541 section 5.1). */
function readInteger(reader: Reader, prefix: number): number {
  const block = reader.block;
  const mask = (1 << prefix) - 1;
  let value = block[reader.at++]! & mask;
  if (value < mask) return value;
  let shift = 0;
  for (;;) {
    if (reader.at >= block.length) throw compression("a truncated integer");
    const byte = block[reader.at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if (value > MAX_INTEGER) throw compression("an integer over 2^31-1");
    if ((byte & 0x80) === 0) return value;
    shift += 7;
  }
}

/** Reads a string literal (RFC 7541 section 5.2). */
function readString(reader: Reader): string {
  const block = reader.block;
  if (reader.at >= block.length) throw compression("a truncated string");
  const huffman = (block[reader.at]! & 0x80) !== 0;
  const length = readInteger(reader, 7);
  if (length > block.length - reader.at) {
    throw compression(
      `a string of ${length} bytes where ${block.length - reader.at} remain`,
    );
  }
  const raw = block.subarray(reader.at, reader.at + length);
  reader.at += length;
  return text(huffman ? huffmanDecode(raw) : raw);
}

/** Bytes as text: ASCII directly, anything else as UTF-8. */
function text(bytes: Uint8Array): string {
  if (bytes.length > 64) return utf8.decode(bytes);
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte >= 0x80) return utf8.decode(bytes);
    out += String.fromCharCode(byte);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Encoder

/**
 * How the encoder sends a header: `"index"` adds it to the dynamic table
 * (for values repeated across requests), `"literal"` sends it without
 * indexing (values that change), `"never"` marks it never-indexed (secrets,
 * which intermediaries must not index either).
 */
export type Indexing = "index" | "literal" | "never";

/** Options of {@linkcode HpackEncoder}. */
export interface HpackEncoderOptions {
  /** Huffman-code strings when that is shorter. Default false. */
  huffman?: boolean;
  /** How each header is sent; default: {@linkcode grpcIndexing}. */
  indexing?: (name: string, value: string) => Indexing;
}

/** Headers whose values stay the same call after call. */
const REPEATED = new Set([
  ":method",
  ":scheme",
  ":path",
  ":authority",
  "content-type",
  "te",
  "user-agent",
  "hasleader",
  "grpc-accept-encoding",
]);

/**
 * The indexing of a gRPC client: repeated headers indexed, the auth token
 * never indexed, anything else literal.
 */
export function grpcIndexing(name: string): Indexing {
  if (REPEATED.has(name)) return "index";
  return name === "token" || name === "authorization" ? "never" : "literal";
}

/** Encodes header blocks, keeping our dynamic table between them. */
export class HpackEncoder {
  readonly #huffman: boolean;
  readonly #indexing: (name: string, value: string) => Indexing;
  /** Static table: `name\0value` and `name` to index. */
  static readonly #staticExact = new Map<string, number>();
  static readonly #staticName = new Map<string, number>();
  static {
    STATIC_TABLE.forEach(([name, value], i) => {
      HpackEncoder.#staticExact.set(`${name}\0${value}`, i + 1);
      if (!HpackEncoder.#staticName.has(name)) {
        HpackEncoder.#staticName.set(name, i + 1);
      }
    });
  }
  /** Dynamic table, oldest first, with each entry's insertion number. */
  readonly #entries: { key: string; size: number; serial: number }[] = [];
  readonly #bySerial = new Map<string, number>();
  #inserted = 0;
  #size = 0;
  #capacity = 4096;
  /** A size update owed at the start of the next block. */
  #pendingUpdate: number | undefined;
  #out = new Uint8Array(1024);
  #length = 0;
  /** Counts changes of the dynamic table (insertions, evictions, size). */
  #generation = 0;
  /**
   * Blocks of header lists encoded without changing the table, by list:
   * the same list encodes the same while the table stays as it was.
   */
  #blocks = new WeakMap<
    readonly Header[],
    { generation: number; block: Uint8Array }
  >();

  constructor(options: HpackEncoderOptions = {}) {
    this.#huffman = options.huffman ?? false;
    this.#indexing = options.indexing ?? grpcIndexing;
  }

  /**
   * Follows the peer's SETTINGS_HEADER_TABLE_SIZE: a smaller table is
   * announced at the start of the next block.
   */
  setMaxTableSize(size: number): void {
    const capacity = Math.min(size, 4096);
    if (capacity === this.#capacity) return;
    this.#generation++;
    this.#capacity = capacity;
    this.#pendingUpdate = capacity;
    this.#evict(0);
  }

  /**
   * Encodes a header list. The result is valid until the next call (a view
   * of the encoder's buffer, or the block kept for the list: a list given
   * again, unchanged, while the table has not changed, costs a lookup).
   */
  encode(headers: readonly Header[]): Uint8Array {
    const kept = this.#blocks.get(headers);
    if (kept?.generation === this.#generation) return kept.block;
    let generation = this.#generation;
    this.#length = 0;
    if (this.#pendingUpdate !== undefined) {
      this.#integer(this.#pendingUpdate, 5, 0x20);
      this.#pendingUpdate = undefined;
      generation = -1; // a block with the update is said once
    }
    for (const [name, value] of headers) this.#field(name, value);
    const block = this.#out.subarray(0, this.#length);
    if (this.#generation === generation) {
      this.#blocks.set(headers, { generation, block: block.slice() });
    }
    return block;
  }

  #field(name: string, value: string): void {
    const key = `${name}\0${value}`;
    const exact = HpackEncoder.#staticExact.get(key) ?? this.#dynamicIndex(key);
    if (exact !== undefined) {
      this.#integer(exact, 7, 0x80);
      return;
    }
    const how = this.#indexing(name, value);
    const nameIndex = HpackEncoder.#staticName.get(name) ?? 0;
    if (how === "index") {
      this.#integer(nameIndex, 6, 0x40);
      this.#insert(key, entrySize(name, value));
    } else {
      this.#integer(nameIndex, 4, how === "never" ? 0x10 : 0);
    }
    if (nameIndex === 0) this.#string(name);
    this.#string(value);
  }

  #dynamicIndex(key: string): number | undefined {
    const serial = this.#bySerial.get(key);
    if (serial === undefined) return undefined;
    // The newest entry is index 62.
    return STATIC_COUNT + 1 + this.#inserted - serial;
  }

  #insert(key: string, size: number): void {
    this.#evict(size);
    if (size > this.#capacity) return;
    this.#generation++;
    const serial = ++this.#inserted;
    this.#entries.push({ key, size, serial });
    this.#bySerial.set(key, serial);
    this.#size += size;
  }

  #evict(room: number): void {
    let drop = 0;
    while (this.#size + room > this.#capacity && drop < this.#entries.length) {
      const entry = this.#entries[drop++]!;
      this.#size -= entry.size;
      if (this.#bySerial.get(entry.key) === entry.serial) {
        this.#bySerial.delete(entry.key);
      }
    }
    if (drop > 0) {
      this.#entries.splice(0, drop);
      this.#generation++;
    }
  }

  #reserve(more: number): void {
    if (this.#length + more <= this.#out.length) return;
    const bigger = new Uint8Array(
      Math.max(this.#out.length * 2, this.#length + more),
    );
    bigger.set(this.#out.subarray(0, this.#length));
    this.#out = bigger;
  }

  #integer(value: number, prefix: number, flags: number): void {
    this.#reserve(6);
    const out = this.#out;
    const mask = (1 << prefix) - 1;
    if (value < mask) {
      out[this.#length++] = flags | value;
      return;
    }
    out[this.#length++] = flags | mask;
    value -= mask;
    while (value >= 0x80) {
      out[this.#length++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    out[this.#length++] = value;
  }

  #string(value: string): void {
    const bytes = asciiBytes(value) ?? encoder.encode(value);
    if (this.#huffman) {
      const coded = huffmanLength(bytes);
      if (coded <= bytes.length) {
        this.#integer(coded, 7, 0x80);
        this.#reserve(coded);
        this.#huffmanInto(bytes);
        return;
      }
    }
    this.#integer(bytes.length, 7, 0);
    this.#reserve(bytes.length);
    this.#out.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  #huffmanInto(bytes: Uint8Array): void {
    const out = this.#out;
    // Up to 30 bits of a code plus 7 left over fit in a double exactly.
    let bits = 0;
    let count = 0;
    for (let i = 0; i < bytes.length; i++) {
      const symbol = bytes[i]!;
      const length = HUFFMAN_LENGTHS[symbol]!;
      bits = bits * 2 ** length + HUFFMAN_CODES[symbol]!;
      count += length;
      while (count >= 8) {
        count -= 8;
        out[this.#length++] = Math.floor(bits / 2 ** count) & 0xff;
        bits %= 2 ** count;
      }
    }
    if (count > 0) {
      // Pad with the most significant bits of EOS (all ones).
      out[this.#length++] = ((bits << (8 - count)) | (0xff >>> count)) & 0xff;
    }
  }
}

/** The bytes of an ASCII string; undefined when it is not ASCII. */
function asciiBytes(value: string): Uint8Array | undefined {
  const bytes = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0x80) return undefined;
    bytes[i] = code;
  }
  return bytes;
}
