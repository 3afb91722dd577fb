// A file's names as keys, for yaml2etcd. Internal.
//
// A file may spell a key in more than one way: `a: {b: 1}`, `"a/b": 1`; a
// name holding "/" is the keys it joins (etcd2yaml writes one only where a
// key has an empty segment: `/registry`, `a//b`, `dir/`). Here every key
// gets the names etcd2yaml would give it (`namesOf`), so that the plan
// compares like with like, and a key spelled twice is refused.

import { namesOf } from "../_core/paths.ts";
import { Failure } from "./_common.ts";
import type { Wanted } from "./_plan.ts";
import { type Data, OWN_NAME } from "./_yaml.ts";

/**
 * The file's data with each key under the names of `namesOf`; a mapping's
 * empty name is its own key's value. Refuses a key the file gives twice,
 * naming it and `source`.
 */
export function wantedOf(data: Data, source: string): Wanted {
  if (typeof data === "string" || data instanceof Uint8Array) return data;
  const top = new Map<string, Wanted>();
  const twice = (key: string): never => {
    throw new Failure(
      `Cannot load ${source}: the key ${
        JSON.stringify(key)
      } is given twice (a name with "/" in it stands for the names it joins: "a/b" is b under a); give it once`,
    );
  };
  /** The mapping at `names`, made where missing (a value there is its own). */
  const mapAt = (names: readonly string[]): Map<string, Wanted> => {
    let map = top;
    for (const name of names) {
      let next = map.get(name);
      if (!(next instanceof Map)) {
        const value = next;
        next = new Map<string, Wanted>();
        if (value !== undefined) next.set(OWN_NAME, value);
        map.set(name, next);
      }
      map = next;
    }
    return map;
  };
  const place = (key: string, value: string | Uint8Array) => {
    const names = namesOf(key);
    const last = names.pop();
    const map = mapAt(names);
    const name = last ?? OWN_NAME;
    const there = last === undefined ? map.get(OWN_NAME) : map.get(name);
    if (there instanceof Map) {
      if (there.has(OWN_NAME)) twice(key);
      there.set(OWN_NAME, value);
    } else if (there !== undefined) {
      twice(key);
    } else {
      map.set(name, value);
    }
  };
  const visit = (node: Map<string, Data> | Data[], above: string) => {
    const entries = node instanceof Map ? node : node.entries();
    for (const [name, child] of entries) {
      const key = name === OWN_NAME
        ? above
        : above === ""
        ? String(name)
        : `${above}/${name}`;
      if (typeof child === "string" || child instanceof Uint8Array) {
        place(key, child);
      } else if (isEmpty(child)) {
        mapAt(namesOf(key)); // an empty directory (v2)
      } else {
        visit(child, key);
      }
    }
  };
  visit(data, "");
  return top;
}

function isEmpty(data: Map<string, Data> | Data[]): boolean {
  return data instanceof Map ? data.size === 0 : data.length === 0;
}
