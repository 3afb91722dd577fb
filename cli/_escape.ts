// Text from etcd on a terminal: control characters (C0, DEL, C1), line and
// paragraph separators, bidirectional controls and invisible characters
// (zero-width ones, the byte-order mark, tag characters) are shown as
// escapes, so that a key can neither move the cursor, clear the screen,
// forge a line, reorder what is shown nor pass for another key. Internal.

/** What is never written raw to a terminal. */
const UNSAFE = new RegExp(
  "[" +
    // C0, DEL, C1; the soft hyphen and the combining grapheme joiner
    "\\x00-\\x1f\\x7f-\\x9f\\xad\\u034f" +
    // Arabic letter mark, Hangul fillers, Khmer vowels, Mongolian separator
    "\\u061c\\u115f\\u1160\\u17b4\\u17b5\\u180e" +
    // zero-width space, non-joiner, joiner; left-to-right and right-to-left marks
    "\\u200b-\\u200f" +
    // line and paragraph separators, bidirectional embeddings and overrides
    "\\u2028-\\u202e" +
    // word joiner, invisible operators, bidirectional isolates, deprecated formats
    "\\u2060-\\u206f" +
    // Hangul filler, byte-order mark, interlinear annotations
    "\\u3164\\ufeff\\uffa0\\ufff9-\\ufffb" +
    // tag characters
    "\\u{e0000}-\\u{e007f}" +
    "]",
  "gu",
);
const ANY_UNSAFE = new RegExp(UNSAFE.source, "u");

/** Each UTF-16 unit as `\uXXXX`: the escape JSON and JavaScript read. */
function escape(char: string): string {
  let out = "";
  for (let i = 0; i < char.length; i++) {
    out += "\\u" + char.charCodeAt(i).toString(16).padStart(4, "0");
  }
  return out;
}

/** `text` with every unsafe character as a `\uXXXX` escape. */
export function visible(text: string): string {
  return text.replace(UNSAFE, escape);
}

/**
 * A value as one line of JSON, safe on a terminal and still exact: what
 * JSON.stringify leaves raw and a terminal would obey is a `\uXXXX` escape
 * (only ever inside a string, where the escape means the same).
 */
export function jsonLine(value: unknown): string {
  return visible(JSON.stringify(value)) + "\n";
}

/**
 * A key as a human-readable line shows it: as it is when it is safe, else
 * as a JSON string with the unsafe characters escaped (the quotes say that
 * it is escaped); bytes that are not text as their size and hex.
 */
export function showKey(key: string | Uint8Array): string {
  if (typeof key !== "string") {
    return `<${key.length} bytes: ${key.toHex()}>`;
  }
  return ANY_UNSAFE.test(key) ? visible(JSON.stringify(key)) : key;
}

/**
 * A value as JSON, safe on a terminal (JSON escapes C0; the rest here);
 * bytes that are not text as their size and first bytes in hex.
 */
export function showValue(value: string | Uint8Array): string {
  if (typeof value !== "string") {
    return `<${value.length} bytes: ${value.subarray(0, 16).toHex()}${
      value.length > 16 ? "..." : ""
    }>`;
  }
  return visible(JSON.stringify(value));
}
