// YAML text to data, for yaml2etcd. Internal.
//
// Most files that yaml2etcd loads are in a small, simple part of YAML
// (nested mappings of one-line scalars): those are read by `readSimple`
// here, much faster than npm:yaml (BENCHMARKS.md). Anything outside that
// part, or wrong, goes to npm:yaml (`_yaml_full.ts`, imported only then,
// since importing it is a cost of its own), which reads all of YAML and
// names the line and column of a problem.

import type { Data } from "./_yaml.ts";
import { type Origin, originOfComment, refuseView } from "./_origin.ts";

/**
 * Parses YAML into data: mappings become Maps, scalars strings as spelled
 * (quoted and block scalars by their value; an empty value is ""); a
 * document of one scalar is a string. Arrays become Maps with keys "0",
 * "1", ... when `arrays` is set, and are an error otherwise. Every problem is
 * a `Failure` naming where it is.
 */
export async function fromYaml(
  text: string,
  source: string,
  arrays: boolean,
): Promise<Data> {
  return readSimple(text) ??
    (await import("./_yaml_full.ts")).readYaml(text, source, arrays);
}

/**
 * Reads a file for yaml2etcd as {@linkcode fromYaml} does, and the origin
 * it records if it is a dump of etcd2yaml (`_origin.ts`).
 */
export async function readDump(
  text: string,
  source: string,
  arrays: boolean,
): Promise<{ data: Data; origin: Origin | undefined }> {
  refuseView(text, source);
  let origin = originOfComment(text);
  const data = readSimple(text) ??
    (await import("./_yaml_full.ts")).readYaml(
      text,
      source,
      arrays,
      (found) => origin ??= found,
    );
  return { data, origin };
}

/**
 * Whether the simple reader takes a name: not the empty name (a mapping's
 * own value, or bytes in JSON) and without "/" (names joined in one), which
 * npm:yaml's part reads. (What an API cannot hold, such as v2's hidden "_"
 * keys, is checked once connected.)
 */
function isSimpleName(key: string): boolean {
  return key !== "" && !key.includes("/");
}

// ---- The simple part of YAML ----
//
// Accepted: block mappings indented with spaces, whose entries are
// `key: value`, `key: {}` or `key:` (followed by a deeper mapping, or
// nothing: the empty string); keys and values plain, or quoted on one line
// without escapes; comment lines and empty lines. Plain scalars are kept
// to a conservative subset: no leading indicator, no "#" at all, no ": ",
// no ":" at the end, no trailing space. Everything else, including
// duplicate keys, keys over YAML's 1024 characters, a line starting with
// "..." and keys etcd cannot hold, is left to npm:yaml.
// tests/yaml_read_test.ts checks the two readers agree on generated text.

/** Characters outside printable, non-breaking YAML text (and tab, CR). */
const UNUSUAL =
  /[^\n\x20-\x7e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\u{10000}-\u{10ffff}]/u;
/** A plain scalar in the accepted subset. */
const PLAIN = /^[^\s\-?:,[\]{}#&*!|>'"%@`][^#]*$/;

interface Open {
  indent: number;
  map: Map<string, Data>;
}

/** Deeper than this is npm:yaml's part (which refuses it, with its place). */
const MAX_SIMPLE_DEPTH = 64;

/**
 * Reads text in the simple part of YAML described above; `undefined` for
 * anything else.
 */
export function readSimple(text: string): Map<string, Data> | undefined {
  if (UNUSUAL.test(text)) return undefined;
  const root = new Map<string, Data>();
  const open: Open[] = [{ indent: 0, map: root }];
  // The entry of the line before, if it was `key:` with nothing after.
  let pending:
    | { indent: number; map: Map<string, Data>; key: string }
    | undefined;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line === "") continue;
    let indent = 0;
    while (line.charCodeAt(indent) === 32) indent++;
    if (indent === line.length || line.endsWith(" ")) return undefined;
    if (line[indent] === "#") continue;
    // "..." ends a document, even with more on the line.
    if (indent === 0 && line.startsWith("...")) return undefined;
    let top = open[open.length - 1]!;
    if (pending !== undefined) {
      if (indent > pending.indent) {
        const map = new Map<string, Data>();
        pending.map.set(pending.key, map);
        top = { indent, map };
        open.push(top);
        if (open.length > MAX_SIMPLE_DEPTH) return undefined;
      }
      pending = undefined;
    }
    while (indent < top.indent) {
      open.pop();
      top = open[open.length - 1]!;
    }
    // Deeper than its mapping: the continuation of a value, or an error.
    if (indent !== top.indent) return undefined;
    const entry = readEntry(line, indent);
    if (entry === undefined || top.map.has(entry.key)) return undefined;
    if (!isSimpleName(entry.key)) return undefined;
    if (entry.value === undefined) {
      top.map.set(entry.key, "");
      pending = { indent, map: top.map, key: entry.key };
    } else {
      top.map.set(entry.key, entry.value);
    }
  }
  return root;
}

/** `key: value` at `indent`; value undefined for `key:` alone. */
function readEntry(
  line: string,
  indent: number,
): { key: string; value: Data | undefined } | undefined {
  let key: string | undefined;
  let colon: number;
  const quote = line[indent];
  if (quote === '"' || quote === "'") {
    const close = line.indexOf(quote, indent + 1);
    if (close === -1) return undefined;
    key = quoted(line.slice(indent, close + 1));
    colon = close + 1;
    if (line[colon] !== ":") return undefined;
  } else {
    colon = line.indexOf(":", indent);
    if (colon === -1) return undefined;
    key = line.slice(indent, colon);
    if (!PLAIN.test(key) || key.endsWith(" ")) return undefined;
    // A plain "<<" is a merge key: npm:yaml's part.
    if (key === "<<") return undefined;
  }
  // YAML allows at most 1024 characters before the ":" of a key.
  if (key === undefined || colon - indent > 1024) return undefined;
  if (colon + 1 === line.length) return { key, value: undefined };
  if (line[colon + 1] !== " ") return undefined;
  let at = colon + 2;
  while (line.charCodeAt(at) === 32) at++;
  const text = line.slice(at);
  if (text === "{}") return { key, value: new Map() };
  const value = text[0] === '"' || text[0] === "'"
    ? quoted(text)
    : PLAIN.test(text) && !text.includes(": ") && !text.endsWith(":")
    ? text
    : undefined;
  return value === undefined ? undefined : { key, value };
}

/** The value of `"text"` or `'text'` with no escapes; else undefined. */
function quoted(text: string): string | undefined {
  const quote = text[0]!;
  if (text.length < 2 || text[text.length - 1] !== quote) return undefined;
  const inner = text.slice(1, -1);
  if (inner.includes(quote) || (quote === '"' && inner.includes("\\"))) {
    return undefined;
  }
  return inner;
}
