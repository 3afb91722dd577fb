// Keys and values of etcd's v3 API: bytes, given as text or as bytes,
// sent in base64, with ranges computed on bytes. Internal.

import { utf8Text } from "../_core/text.ts";

/** A key or value: UTF-8 text, or any bytes. */
export type Bytes = string | Uint8Array;

const encoder = new TextEncoder();

/** The bytes of a key or value; text must be well-formed. */
export function bytesOf(value: Bytes, what: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value !== "string") {
    throw new TypeError(
      `Invalid ${what}: expected a string or a Uint8Array, got ${
        value === null ? "null" : typeof value
      }`,
    );
  }
  if (!value.isWellFormed()) {
    throw new TypeError(
      `Invalid ${what} ${
        JSON.stringify(value.length > 200 ? value.slice(0, 120) + "..." : value)
      }: it holds a lone surrogate (an unpaired UTF-16 half), which is not text; give bytes as a Uint8Array`,
    );
  }
  return encoder.encode(value);
}

/** Base64 of bytes, as the gateway reads them (standard, padded). */
export function base64(bytes: Uint8Array): string {
  return bytes.toBase64();
}

const EMPTY = new Uint8Array(0);

/** Bytes from the gateway's base64; absent means empty. */
export function fromBase64(text: string | undefined): Uint8Array {
  return text === undefined || text === ""
    ? EMPTY
    : Uint8Array.fromBase64(text);
}

/** Text of bytes, or `undefined` when they are not UTF-8. */
export function textOf(bytes: Uint8Array): string | undefined {
  return utf8Text(bytes);
}

/** The byte 0: as a range end, "to the end of the key space". */
export const ZERO: Uint8Array = Uint8Array.of(0);

/**
 * The end of the range of keys that start with `prefix`: the prefix with
 * its last byte below 0xFF incremented (and what follows dropped). A prefix
 * of only 0xFF bytes (or none) reaches to the end of the key space.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  for (let at = prefix.length - 1; at >= 0; at--) {
    if (prefix[at]! < 0xff) {
      const end = prefix.slice(0, at + 1);
      end[at]!++;
      return end;
    }
  }
  return ZERO;
}

/** `a` followed by `b`. */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Whether `bytes` starts with `prefix`. */
export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (bytes[i] !== prefix[i]) return false;
  }
  return true;
}

/** Bytes for a message: text when it is, else hex; long ones shortened. */
export function describeBytes(bytes: Uint8Array): string {
  const text = textOf(bytes);
  const shown = text !== undefined
    ? JSON.stringify(text.length > 200 ? text.slice(0, 120) + "..." : text)
    : `0x${bytes.subarray(0, 64).toHex()}${bytes.length > 64 ? "..." : ""}`;
  return shown;
}
