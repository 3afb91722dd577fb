// Dumped data to YAML and JSON text. Internal.
//
// Data is a tree of strings: a directory is a Map (keys in the order to
// write), a value a string (or, for bytes that are not UTF-8 text, a
// Uint8Array: YAML's !!binary, in JSON an object whose one name is empty,
// which no key can have); with --arrays, a directory whose children are
// exactly "0", "1", ... may be an array. A Map's names are a key's names
// (`namesOf`: a name holds "/" only where the key has an empty segment),
// and its empty name (`OWN_NAME`) is the value of its own key.
//
// The writer is our own, with no dependency: the shape is small (strings
// and mappings), it must quote exactly what a YAML reader would take for
// something else, and it must be fast for big dumps.

/** A dumped or loaded tree. */
export type Data = string | Uint8Array | Map<string, Data> | Data[];

/** Whether data is a value (text or bytes) rather than a directory. */
export function isValue(data: Data): data is string | Uint8Array {
  return typeof data === "string" || data instanceof Uint8Array;
}

/** The JSON of bytes: an object whose one name is empty. */
export const BINARY_NAME = "";

/**
 * The name of what a mapping's own key holds (etcd v3 holds `a` beside
 * `a/b`): the empty name, which no key's name can be (`namesOf`), beside
 * at least one other name (alone, in JSON, it is bytes).
 */
export const OWN_NAME = "";

// ---- Writing ----

/** Words that YAML 1.1 or 1.2 reads as null or a boolean. */
const KEYWORDS = new Set(
  [
    "null",
    "Null",
    "NULL",
    "~",
    "true",
    "True",
    "TRUE",
    "false",
    "False",
    "FALSE",
    "yes",
    "Yes",
    "YES",
    "no",
    "No",
    "NO",
    "on",
    "On",
    "ON",
    "off",
    "Off",
    "OFF",
    "y",
    "Y",
    "n",
    "N",
    "<<",
    "=",
  ],
);

// Characters that a plain scalar may not start with.
const INDICATOR = /^[-?:,[\]{}#&*!|>'"%@`\s]/;
// Anything that looks like a number in YAML 1.1 or 1.2, or .inf / .nan.
const NUMBERISH = /^[-+]?(\.?[0-9]|\.(inf|nan)$)/i;
// Characters that must be escaped, or that end a plain scalar's line.
// Characters never written bare: C0 and C1 controls, line and paragraph
// separators, the byte order mark, the noncharacters U+FFFE and U+FFFF and
// lone surrogates (\t and \n excepted, for blocks). YAML readers refuse
// some of them raw.
const UNSAFE =
  "\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u2028\\u2029\\ufeff\\ufffe\\uffff\\ud800-\\udfff";
const SPECIAL = new RegExp(`[${UNSAFE}\\t\\n]|: | #|:$|\\s$`);
const ESCAPE = /[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/g;
/**
 * An implicit key may be at most 1024 characters long; longer keys are
 * written as explicit keys (`? key` then `: value`).
 */
const IMPLICIT_KEY_MAX = 1000;

// Most names and values: letters, digits, `_./-`, not starting with a
// digit, dot or dash; plain unless a keyword (one test instead of three).
const SIMPLE = /^[A-Za-z_/][\w./-]*$/;

/** Whether `text` can be written as a plain scalar and read back the same. */
function isPlain(text: string): boolean {
  if (SIMPLE.test(text)) return !KEYWORDS.has(text);
  return text !== "" && !INDICATOR.test(text) && !NUMBERISH.test(text) &&
    !SPECIAL.test(text) && !KEYWORDS.has(text);
}

function quoted(text: string): string {
  return JSON.stringify(text).replace(
    ESCAPE,
    (char) => "\\u" + char.charCodeAt(0).toString(16).padStart(4, "0"),
  );
}

/** A scalar: plain when safe, else double-quoted (JSON escapes). */
export function scalar(text: string): string {
  return isPlain(text) ? text : quoted(text);
}

// A multi-line value reads best as a literal block, when that is exact:
// printable text, no leading space on the first line, and no line of only
// spaces at the end (a block would take it for trailing blank lines).
const BLOCKABLE = new RegExp(`^[^${UNSAFE}\\t ][^${UNSAFE}]*$`);

function block(text: string, indent: string): string | undefined {
  if (!text.includes("\n") || !BLOCKABLE.test(text)) return undefined;
  const body = text.replace(/\n+$/, "");
  const trailing = text.length - body.length;
  const lastLine = body.slice(body.lastIndexOf("\n") + 1);
  // Block indentation is read from the first line with content: it must not
  // start with a space.
  if (/^[ \t]*$/.test(lastLine) || /^\n*[ \t]/.test(text)) return undefined;
  const chomp = trailing === 0 ? "-" : trailing === 1 ? "" : "+";
  let out = "|" + chomp;
  for (
    const line of text.slice(0, trailing > 1 ? text.length - 1 : body.length)
      .split("\n")
  ) {
    out += "\n" + (line === "" ? "" : indent + line);
  }
  return out;
}

/** Bytes as `!!binary`: quoted when short, else a block of 76-column lines. */
function binary(bytes: Uint8Array, indent: string): string {
  const text = bytes.toBase64();
  if (text.length <= 76) return `!!binary "${text}"`;
  let out = "!!binary |";
  for (let at = 0; at < text.length; at += 76) {
    out += "\n" + indent + text.slice(at, at + 76);
  }
  return out;
}

/** The data as YAML, keys in the order of the maps. */
export function toYaml(data: Data): string {
  if (isValue(data)) return scalarValue(data, "") + "\n";
  const lines: string[] = [];
  emit(data, "", lines);
  return lines.join("\n") + "\n";
}

/** A value: a literal block, a scalar or !!binary, at `indent`. */
export function scalarValue(
  value: string | Uint8Array,
  indent: string,
): string {
  if (typeof value !== "string") return binary(value, indent + "  ");
  // Most values are one line: no block, no indentation to make.
  if (!value.includes("\n")) return scalar(value);
  return block(value, indent + "  ") ?? scalar(value);
}

function isEmpty(data: Map<string, Data> | Data[]): boolean {
  return data instanceof Map ? data.size === 0 : data.length === 0;
}

function emit(
  data: Map<string, Data> | Data[],
  indent: string,
  lines: string[],
) {
  if (isEmpty(data)) {
    lines.push(indent + (data instanceof Map ? "{}" : "[]"));
    return;
  }
  if (data instanceof Map) {
    for (const [key, value] of data) {
      const written = scalar(key);
      let head = indent + written + ":";
      if (written.length > IMPLICIT_KEY_MAX) {
        lines.push(indent + "? " + written);
        head = indent + ":";
      }
      if (isValue(value)) {
        lines.push(head + " " + scalarValue(value, indent));
      } else if (isEmpty(value)) {
        lines.push(head + (value instanceof Map ? " {}" : " []"));
      } else {
        lines.push(head);
        emit(value, indent + "  ", lines);
      }
    }
    return;
  }
  for (const item of data) {
    if (isValue(item)) {
      lines.push(indent + "- " + scalarValue(item, indent));
    } else if (isEmpty(item)) {
      lines.push(indent + "- " + (item instanceof Map ? "{}" : "[]"));
    } else {
      // The item's first line goes after the dash.
      const start = lines.length;
      emit(item, indent + "  ", lines);
      lines[start] = indent + "- " + lines[start]!.slice(indent.length + 2);
    }
  }
}

/** The data as JSON, keys in the order of the maps, two-space indents. */
export function toJson(data: Data): string {
  const parts: string[] = [];
  json(data, "", parts);
  parts.push("\n");
  return parts.join("");
}

function json(data: Data, indent: string, parts: string[]): void {
  if (typeof data === "string") {
    parts.push(JSON.stringify(data));
    return;
  }
  if (data instanceof Uint8Array) {
    parts.push(`{${JSON.stringify(BINARY_NAME)}: "${data.toBase64()}"}`);
    return;
  }
  if (isEmpty(data)) {
    parts.push(data instanceof Map ? "{}" : "[]");
    return;
  }
  const inner = indent + "  ";
  const map = data instanceof Map;
  parts.push(map ? "{" : "[");
  let first = true;
  for (const [key, value] of map ? data : data.entries()) {
    parts.push(first ? "\n" : ",\n", inner);
    first = false;
    if (map) parts.push(JSON.stringify(key), ": ");
    json(value, inner, parts);
  }
  parts.push("\n", indent, map ? "}" : "]");
}
