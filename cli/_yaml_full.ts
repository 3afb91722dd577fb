// YAML text to data with npm:yaml, for what `readSimple` in
// `_yaml_read.ts` leaves. Internal.
//
// The failsafe schema keeps plain scalars as the file spells them. Aliases
// are expanded here, within bounds: a few hundred bytes of nested aliases
// can otherwise stand for gigabytes. Merge keys (`<<: *base`) merge.

import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Node as YamlNode,
  parseDocument,
} from "npm:yaml@^2.9.1";
import { Failure } from "./_common.ts";
import { BINARY_NAME, type Data, isValue, OWN_NAME } from "./_yaml.ts";

const BINARY_TAG = "tag:yaml.org,2002:binary";
import { type Origin, ORIGIN_VALUE, originOfFields } from "./_origin.ts";

/**
 * Most values (scalars and mappings) aliases may stand for, all told: a
 * file may hold millions of values of its own, but a few aliases nested in
 * each other multiply (nine levels of nine are 387 million).
 */
export const MAX_ALIASED = 100_000;
/** Most characters of text a document may expand to. */
export const MAX_TEXT = 256 * 1024 * 1024;
/** Deepest nesting of mappings and sequences. */
export const MAX_DEPTH = 256;

/**
 * Reads `text` with npm:yaml: all of YAML, every problem a
 * {@linkcode Failure} that names where it is. A document that is one scalar
 * gives a string.
 */
export function readYaml(
  text: string,
  source: string,
  arrays: boolean,
  found?: (origin: Origin) => void,
): Data {
  checkDepth(text, source);
  const doc = parseDocument(text, {
    schema: "failsafe",
    uniqueKeys: true,
    prettyErrors: false,
  });
  const [error] = doc.errors;
  if (error !== undefined) {
    if (error.code === "MULTIPLE_DOCS") {
      throw new Failure(
        `Cannot load ${source}${
          lineCol(text, error.pos[0])
        }: it holds several YAML documents; give one per load`,
      );
    }
    if (error.code === "RESOURCE_EXHAUSTION") {
      throw new Failure(
        `Cannot load ${source}${
          lineCol(text, error.pos[0])
        }: it nests too deep to read`,
      );
    }
    throw new Failure(
      `Cannot parse ${source}${lineCol(text, error.pos[0])}: ${
        error.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "")
      }`,
    );
  }
  const contents = doc.contents;
  if (contents === null) return new Map();
  const reader = new Reader(doc, text, source, arrays);
  const top = reader.resolve(contents);
  if (isSeq(top)) {
    throw new Failure(
      `Cannot load ${source}: expected a mapping (or one value) at the top, got a sequence`,
    );
  }
  if (found !== undefined && isMap(top)) takeOrigin(top, text, source, found);
  return reader.read(contents, []);
}

/**
 * Takes a dump's record of its origin (etcd2yaml --json) out of the top
 * mapping: the member whose name is empty and whose value is a mapping.
 */
function takeOrigin(
  top: { items: { key: unknown; value: unknown }[] },
  text: string,
  source: string,
  found: (origin: Origin) => void,
): void {
  const at = top.items.findIndex((pair) =>
    isScalar(pair.key) && pair.key.value === "" && isMap(pair.value) &&
    !isBytes(pair.value)
  );
  if (at < 0) return;
  const pair = top.items[at]!;
  const fields = new Map<string, unknown>();
  let own: unknown;
  for (const item of (pair.value as { items: typeof top.items }).items) {
    const name = isScalar(item.key) ? String(item.key.value) : "";
    if (name === ORIGIN_VALUE) own = item.value;
    else fields.set(name, isScalar(item.value) ? item.value.value : undefined);
  }
  const range = (pair.key as { range?: [number, number, number] }).range;
  found(originOfFields(fields, source + lineCol(text, range?.[0])));
  // The prefix's own value, beside the keys below it, is read as such.
  if (own === undefined) top.items.splice(at, 1);
  else pair.value = own;
}

/** Whether a mapping is the JSON of bytes: one pair, its name empty. */
function isBytes(map: { items: { key: unknown }[] }): boolean {
  const key = map.items.length === 1 ? map.items[0]!.key : undefined;
  return isScalar(key) && key.value === BINARY_NAME;
}

/** Expands a document's nodes into data, within the bounds above. */
class Reader {
  readonly #doc: Document;
  readonly #text: string;
  readonly #source: string;
  readonly #arrays: boolean;
  /** The aliases being expanded, innermost last: a cycle is refused. */
  readonly #expanding = new Set<YamlNode>();
  #aliased = 0;
  #characters = 0;

  constructor(doc: Document, text: string, source: string, arrays: boolean) {
    this.#doc = doc;
    this.#text = text;
    this.#source = source;
    this.#arrays = arrays;
  }

  /** The node an alias refers to (or the node itself). */
  resolve(node: unknown): unknown {
    if (!isAlias(node)) return node;
    const target = (node as Alias).resolve(this.#doc);
    if (target === undefined) {
      this.#fail(node, `alias *${node.source} refers to no anchor`);
    }
    return target;
  }

  read(node: unknown, path: string[]): Data {
    if (isAlias(node)) {
      const target = this.resolve(node) as YamlNode;
      if (this.#expanding.has(target)) {
        this.#fail(
          node,
          `alias *${node.source} refers to a node that contains it`,
        );
      }
      this.#expanding.add(target);
      try {
        return this.read(target, path);
      } finally {
        this.#expanding.delete(target);
      }
    }
    this.#count(node, 0);
    if (isScalar(node)) {
      const value = node.value;
      if (value === null || value === undefined) return "";
      if (value instanceof Uint8Array) {
        // npm:yaml read !!binary itself, leniently: read its text again.
        const text = node.source;
        if (typeof text === "string") return this.#bytes(node, text, path);
        this.#count(node, value.length);
        return new Uint8Array(value);
      }
      if (typeof value !== "string") {
        this.#fail(node, `the value at ${at(path)} is not text`);
      }
      this.#count(node, value.length);
      if (node.tag === BINARY_TAG) return this.#bytes(node, value, path);
      return value;
    }
    if (isSeq(node)) {
      if (!this.#arrays) {
        this.#fail(
          node,
          `${
            at(path)
          } is a sequence; etcd has no arrays (use --arrays to store items as children 0, 1, ...)`,
        );
      }
      const map = new Map<string, Data>();
      node.items.forEach((item, index) => {
        map.set(String(index), this.read(item, [...path, String(index)]));
      });
      return map;
    }
    if (isMap(node)) return this.#mapping(node, path);
    if (node === null || node === undefined) return "";
    throw new Failure(
      `Cannot load ${this.#source}: unexpected YAML at ${at(path)}`,
    );
  }

  /** `!!binary` text (base64, line breaks allowed) as bytes. */
  #bytes(node: unknown, text: string, path: string[]): Uint8Array {
    try {
      return Uint8Array.fromBase64(text.replace(/[\s]+/g, ""));
    } catch {
      this.#fail(node, `the !!binary value at ${at(path)} is not base64`);
    }
  }

  /** A mapping; `<<` keys merge mappings in under the explicit keys. */
  #mapping(node: YamlNode & { items: unknown[] }, path: string[]): Data {
    // The JSON of bytes (etcd2yaml --json): one pair whose name is empty.
    const only = node.items.length === 1
      ? node.items[0] as { key: unknown; value: unknown }
      : undefined;
    const onlyKey = only === undefined ? undefined : this.resolve(only.key);
    if (isScalar(onlyKey) && onlyKey.value === BINARY_NAME) {
      const value = this.resolve(only!.value);
      if (!isScalar(value) || typeof value.value !== "string") {
        this.#fail(
          only!.value,
          `the value at ${
            at(path)
          } has an empty name: expected base64 text (the JSON of bytes)`,
        );
      }
      return this.#bytes(value, value.value, path);
    }
    const map = new Map<string, Data>();
    const merges: unknown[] = [];
    for (const item of node.items) {
      const pair = item as { key: unknown; value: unknown };
      const keyNode = this.resolve(pair.key);
      if (!isScalar(keyNode) || typeof keyNode.value !== "string") {
        this.#fail(pair.key, `a key under ${at(path)} is not a string`);
      }
      const key = keyNode.value;
      if (key === "<<" && keyNode.type === "PLAIN") {
        merges.push(pair.value);
        continue;
      }
      const value = this.read(pair.value, [...path, key]);
      if (key === OWN_NAME && !isValue(value)) {
        this.#fail(
          pair.value,
          `the empty name under ${
            at(path)
          } holds the value of that key itself (beside the keys below it): expected a value, not a mapping`,
        );
      }
      map.set(key, value);
    }
    for (const merge of merges) {
      const target = this.resolve(merge);
      const sources = isSeq(target) ? target.items : [merge];
      for (const source of sources) {
        const merged = this.read(source, path);
        if (!(merged instanceof Map)) {
          this.#fail(
            source,
            `a merge key (<<) under ${
              at(path)
            } takes a mapping or a sequence of mappings`,
          );
        }
        // Explicit keys win; of merged mappings, the first one given.
        for (const [key, value] of merged) {
          if (!map.has(key)) map.set(key, value);
        }
      }
    }
    return map;
  }

  #count(node: unknown, characters: number): void {
    if (characters === 0 && this.#expanding.size > 0) this.#aliased++;
    this.#characters += characters;
    if (this.#aliased > MAX_ALIASED) {
      this.#fail(
        node,
        `its aliases expand to more than ${
          MAX_ALIASED.toLocaleString("en")
        } values (an alias repeats all it refers to)`,
      );
    }
    if (this.#characters > MAX_TEXT) {
      this.#fail(
        node,
        `the document expands to more than ${
          MAX_TEXT / 1024 / 1024
        } MiB of text (aliases repeat what they refer to)`,
      );
    }
  }

  #fail(node: unknown, why: string): never {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    throw new Failure(
      `Cannot load ${this.#source}${lineCol(this.#text, range?.[0])}: ${why}`,
    );
  }
}

function at(path: readonly string[]): string {
  return JSON.stringify(path.join("/"));
}

/**
 * Refuses nesting deeper than {@linkcode MAX_DEPTH} before parsing (the
 * parser would run out of stack), naming where it goes too deep. Counts
 * block indentation levels and flow brackets outside quotes.
 */
function checkDepth(text: string, source: string): void {
  const indents: number[] = [];
  let flow = 0;
  let quote = "";
  let lineStart = true;
  let indent = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === "\n") {
      lineStart = true;
      indent = 0;
      quote = quote === '"' ? quote : "";
      continue;
    }
    if (lineStart) {
      if (char === " " || char === "-") {
        indent++;
        continue;
      }
      lineStart = false;
      if (char !== "#") {
        while (indents.length > 0 && indents.at(-1)! >= indent) indents.pop();
        indents.push(indent);
      }
    }
    if (quote !== "") {
      if (char === "\\" && quote === '"') i++;
      else if (char === quote) quote = "";
      continue;
    }
    if (char === '"' || char === "'") quote = char;
    else if (char === "#" && (i === 0 || /\s/.test(text[i - 1]!))) {
      while (i + 1 < text.length && text[i + 1] !== "\n") i++;
    } else if (char === "[" || char === "{") flow++;
    else if (char === "]" || char === "}") flow = Math.max(0, flow - 1);
    if (flow + indents.length > MAX_DEPTH) {
      throw new Failure(
        `Cannot load ${source}${
          lineCol(text, i)
        }: it nests deeper than ${MAX_DEPTH} levels`,
      );
    }
  }
}

/** `:LINE:COLUMN` of an offset in the text (both from 1). */
function lineCol(text: string, offset: number | undefined): string {
  if (offset === undefined) return "";
  let line = 1;
  let last = -1;
  for (
    let i = text.indexOf("\n");
    i !== -1 && i < offset;
    i = text.indexOf("\n", i + 1)
  ) {
    line++;
    last = i;
  }
  return `:${line}:${offset - last}`;
}
