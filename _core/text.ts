// UTF-8 to text, fast: the runtime's lenient decoder is about three times
// as fast as its fatal one, and a lenient decode without U+FFFD in it was
// well-formed (the fatal decoder settles the rare string that has one).
// A leading U+FEFF is kept: it is part of a key or value, not a marker.
// Internal.

const lenient = new TextDecoder("utf-8", { ignoreBOM: true });
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Bytes up to this many are read here when ASCII: no call to the runtime. */
const SHORT = 32;

/** The text of `bytes`, or `undefined` when they are not UTF-8. */
export function utf8Text(bytes: Uint8Array): string | undefined {
  return utf8TextAt(bytes, 0, bytes.length);
}

/**
 * The text of `bytes[start, end)`, or `undefined` when they are not UTF-8
 * (no view is made of a short ASCII run).
 */
export function utf8TextAt(
  bytes: Uint8Array,
  start: number,
  end: number,
): string | undefined {
  if (end - start <= SHORT) {
    let text = "";
    let at = start;
    for (; at < end; at++) {
      const byte = bytes[at]!;
      if (byte >= 0x80) break;
      text += String.fromCharCode(byte);
    }
    if (at === end) return text;
  }
  return decode(
    start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end),
  );
}

function decode(bytes: Uint8Array): string | undefined {
  const text = lenient.decode(bytes);
  if (!text.includes("\uFFFD")) return text;
  try {
    return strict.decode(bytes);
  } catch {
    return undefined;
  }
}
