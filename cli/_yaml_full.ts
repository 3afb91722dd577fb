// YAML text to data with npm:yaml, for what `readSimple` in
// `_yaml_read.ts` leaves. Internal.
//
// The failsafe schema keeps plain scalars as the file spells them.

import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Node as YamlNode,
  parseDocument,
} from "yaml";
import { Failure } from "./_common.ts";
import type { Data } from "./_yaml.ts";
import { keyProblem } from "./_yaml_read.ts";

/**
 * Reads `text` with npm:yaml: all of YAML, every problem a
 * {@linkcode Failure} that names where it is.
 */
export function readYaml(
  text: string,
  source: string,
  arrays: boolean,
): Map<string, Data> {
  const doc = parseDocument(text, {
    schema: "failsafe",
    uniqueKeys: true,
    prettyErrors: false,
  });
  const [error] = doc.errors;
  if (error !== undefined) {
    throw new Failure(
      `Cannot parse ${source}${lineCol(text, error.pos[0])}: ${
        error.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "")
      }`,
    );
  }
  const contents = doc.contents;
  if (contents === null) return new Map();
  const top = isAlias(contents) ? contents.resolve(doc) : contents;
  if (!isMap(top)) {
    throw new Failure(
      `Cannot load ${source}: expected a mapping at the top, got a ${
        isSeq(top) ? "sequence" : "scalar"
      }`,
    );
  }
  return read(doc, top, [], source, arrays, text) as Map<string, Data>;
}

function where(node: YamlNode | null | undefined, text: string): string {
  return lineCol(text, node?.range?.[0]);
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

function read(
  doc: Document,
  node: unknown,
  path: string[],
  source: string,
  arrays: boolean,
  text: string,
): Data {
  if (isAlias(node)) {
    return read(doc, node.resolve(doc), path, source, arrays, text);
  }
  const at = () => JSON.stringify(path.join("/"));
  if (isScalar(node)) {
    const value = node.value;
    if (value === null || value === undefined) return "";
    if (typeof value !== "string") {
      throw new Failure(
        `Cannot load ${source}${
          where(node, text)
        }: the value at ${at()} is not text`,
      );
    }
    return value;
  }
  if (isSeq(node)) {
    if (!arrays) {
      throw new Failure(
        `Cannot load ${source}${
          where(node, text)
        }: ${at()} is a sequence; etcd has no arrays (use --arrays to store items as children 0, 1, ...)`,
      );
    }
    const map = new Map<string, Data>();
    node.items.forEach((item, index) => {
      map.set(
        String(index),
        read(doc, item, [...path, String(index)], source, arrays, text),
      );
    });
    return map;
  }
  if (isMap(node)) {
    const map = new Map<string, Data>();
    for (const pair of node.items) {
      const keyNode = isAlias(pair.key) ? pair.key.resolve(doc) : pair.key;
      if (!isScalar(keyNode) || typeof keyNode.value !== "string") {
        throw new Failure(
          `Cannot load ${source}${
            where(pair.key as YamlNode, text)
          }: a key under ${at()} is not a string`,
        );
      }
      const key = keyNode.value;
      const problem = keyProblem(key);
      if (problem !== undefined) {
        throw new Failure(
          `Cannot load ${source}${where(keyNode, text)}: key ${
            JSON.stringify(key)
          } under ${at()} ${problem}`,
        );
      }
      map.set(
        key,
        read(doc, pair.value, [...path, key], source, arrays, text),
      );
    }
    return map;
  }
  if (node === null || node === undefined) return "";
  throw new Failure(`Cannot load ${source}: unexpected YAML at ${at()}`);
}
