// UTF-8 to text, fast: the runtime's lenient decoder is about three times
// as fast as its fatal one, and a lenient decode without U+FFFD in it was
// well-formed (the fatal decoder settles the rare string that has one).
// A leading U+FEFF is kept: it is part of a key or value, not a marker.
// Internal.

const lenient = new TextDecoder("utf-8", { ignoreBOM: true });
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The text of `bytes`, or `undefined` when they are not UTF-8. */
export function utf8Text(bytes: Uint8Array): string | undefined {
  const text = lenient.decode(bytes);
  if (!text.includes("\uFFFD")) return text;
  try {
    return strict.decode(bytes);
  } catch {
    return undefined;
  }
}
