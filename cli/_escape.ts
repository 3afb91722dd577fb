// Text from etcd on a terminal: control characters (C0, DEL, C1), line and
// paragraph separators and bidirectional controls are shown as escapes, so
// that a key can neither move the cursor, clear the screen, forge a line
// nor reorder what is shown. Internal.

/** What is never written raw to a terminal. */
// deno-lint-ignore no-control-regex
const UNSAFE = new RegExp(
  "[\\x00-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]",
  "g",
);
const ANY_UNSAFE = new RegExp(UNSAFE.source);

function escape(char: string): string {
  return "\\u" + char.charCodeAt(0).toString(16).padStart(4, "0");
}

/** `text` with every unsafe character as a `\uXXXX` escape. */
export function visible(text: string): string {
  return text.replace(UNSAFE, escape);
}

/**
 * A key as a human-readable line shows it: as it is when it is safe, else
 * as a JSON string with the unsafe characters escaped (the quotes say that
 * it is escaped).
 */
export function showKey(key: string): string {
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
