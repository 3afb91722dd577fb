// What etcd2yaml writes, read back by independent YAML readers: PyYAML
// (YAML 1.1, as many users' tools read it), npm:yaml with the YAML 1.2 core
// schema and with YAML 1.1, and yaml2etcd's own reader. Every key and value
// must come back as the same string.

import assert from "node:assert/strict";
import { parse as parseYaml } from "npm:yaml@^2.9.1";
import { type Data, toJson, toYaml } from "../../cli/_yaml.ts";
import { fromYaml } from "../../cli/_yaml_read.ts";
import { random, testSeed } from "../_random.ts";
import { test } from "../_wait.ts";

const PYTHON = "/usr/bin/python3";

/** Reads YAML with PyYAML's safe loader; the result as JSON. */
async function pyyaml(text: string): Promise<unknown> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(PYTHON, {
      args: [
        "-c",
        "import sys, json, yaml\n" +
        "def plain(o):\n" +
        "    if isinstance(o, dict): return {'entries': [[plain(k), plain(v)] for k, v in o.items()]}\n" +
        "    if isinstance(o, list): return [plain(v) for v in o]\n" +
        "    if isinstance(o, str): return o\n" +
        "    return {'not a string': repr(o)}\n" +
        "data = yaml.safe_load(sys.stdin.buffer.read().decode('utf-8'))\n" +
        "sys.stdout.write(json.dumps(plain(data), ensure_ascii=True))",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new Error(
      `Cannot run ${PYTHON} for PyYAML: install it with "apt-get install python3-yaml" (${error})`,
    );
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const output = await child.output();
  const stderr = new TextDecoder().decode(output.stderr);
  if (/No module named 'yaml'/.test(stderr)) {
    throw new Error(
      'PyYAML is missing: install it with "apt-get install python3-yaml"',
    );
  }
  if (!output.success) throw new Error(`PyYAML refused the text: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

/** Data as plain JSON-like values, maps as objects of entry lists. */
function plain(data: Data): unknown {
  if (typeof data === "string" || data instanceof Uint8Array) return data;
  if (Array.isArray(data)) return data.map(plain);
  return { entries: [...data].map(([key, value]) => [key, plain(value)]) };
}

/** A reader's result in the same form (objects keep their key order). */
function plainRead(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainRead);
  if (value instanceof Map) {
    return {
      entries: [...value].map(([key, child]) => [key, plainRead(child)]),
    };
  }
  if (
    typeof value === "object" && value !== null &&
    !("entries" in value && Array.isArray(value.entries))
  ) {
    return {
      entries: Object.entries(value).map((
        [key, child],
      ) => [key, plainRead(child)]),
    };
  }
  return value;
}

/** A plain tree with every map's entries sorted by key. */
function sorted(tree: unknown): unknown {
  const entries = (tree as { entries?: [string, unknown][] })?.entries;
  if (!entries) return tree;
  return {
    entries: entries.map((
      [key, value],
    ): [string, unknown] => [key, sorted(value)])
      .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
  };
}

/** Where two plain trees first differ, for a readable failure. */
function firstDifference(
  want: unknown,
  got: unknown,
  path = "",
): string | undefined {
  if (JSON.stringify(want) === JSON.stringify(got)) return undefined;
  const wantEntries = (want as { entries?: [string, unknown][] })?.entries;
  const gotEntries = (got as { entries?: [string, unknown][] })?.entries;
  if (wantEntries && gotEntries) {
    for (let i = 0; i < Math.max(wantEntries.length, gotEntries.length); i++) {
      const [wantKey, wantValue] = wantEntries[i] ?? ["(none)", undefined];
      const [gotKey, gotValue] = gotEntries[i] ?? ["(none)", undefined];
      if (wantKey !== gotKey) {
        return `${path}: key ${JSON.stringify(wantKey)} came back as ${
          JSON.stringify(gotKey)
        }`;
      }
      const below = firstDifference(
        wantValue,
        gotValue,
        `${path}/${wantKey}`,
      );
      if (below) return below;
    }
  }
  return `${path}: ${JSON.stringify(want)} came back as ${JSON.stringify(got)}`;
}

// Strings that YAML 1.1 or 1.2 would read as something else unless quoted,
// and strings that are hard to write exactly.
// deno-fmt-ignore
const TRICKY = [
  "", " ", "plain", "true", "True", "TRUE", "false", "False", "FALSE", "yes",
  "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y",
  "Y", "n", "N", "~", "null", "Null", "NULL", "1", "-1", "+1", ".5", "1.",
  "1_000", "0x1F", "0o17", "017", "0b101", "1e3", "1E+3", ".inf", "-.Inf",
  "+.INF", ".nan", ".NaN", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
  "1:20", "190:20:30", "a: b", "a:", "a #b", "#a", "- a", "-", "--", "---",
  "...", "?", ":", "[", "{}", "'", '"', "\\", "a\tb", "\t", "a\nb", "a\nb\n",
  "a\nb\n\n", "\n", "\n\n", "\na", "  a\nb", "a\n  b", "a\n ", "a\r\nb",
  "\r", "\u0000", "\u0007", "\u001b[2J", "\u007f", "\u0085", "\u009b", "\u00a0",
  "\u2028", "\u2029", "\u202e", "\ufeff", "\ufffe", "\uffff", "\ud800",
  "a\udc00b", "é✓日本🚀", "<<", "=", "*a", "&a", "!a", "!!str", "%a", "@a",
  "`a`", "|", ">", "a ", " a", "a,b", "[a]", "{a: b}", "a: b: c", "k: 'v'",
];

/** Generated strings: pieces of the tricky ones, glued at random. */
function generated(next: () => number, count: number): string[] {
  const pick = <T>(items: readonly T[]): T =>
    items[Math.floor(next() * items.length)]!;
  const pieces = [...TRICKY, "a", "b", "key", "x y", "日本", "😀"];
  return Array.from({ length: count }, () => {
    let text = "";
    const parts = Math.floor(next() * 4);
    for (let i = 0; i < parts; i++) text += pick(pieces);
    return text;
  });
}

function build(next: () => number): Map<string, Data> {
  const data = new Map<string, Data>();
  const strings = [...TRICKY, ...generated(next, 600)];
  strings.forEach((text, i) => {
    // Keys are etcd names: never empty, and no "/".
    const key = text === "" || text.includes("/") ? `k${i}` : text;
    if (!data.has(key)) data.set(key, text);
  });
  const nested = new Map<string, Data>();
  for (const text of generated(next, 60)) {
    if (text !== "" && !text.includes("/")) nested.set(text, text);
  }
  nested.set(
    "deeper",
    new Map<string, Data>([["true", "false"], ["empty", new Map()]]),
  );
  data.set("nested", nested);
  // Keys longer than the 1024 characters YAML allows an implicit key.
  data.set("k".repeat(1100), "long key");
  data.set("é".repeat(1030), new Map([["inside", "a long key's child"]]));
  data.set("x".repeat(1020) + ": #", "near the limit");
  data.set("empty", new Map());
  return data;
}

test("etcd2yaml's YAML reads back the same in PyYAML, npm:yaml (1.1 and 1.2) and yaml2etcd", async (t) => {
  const seed = testSeed("YAML writer", 1201);
  const data = build(random(seed));
  const want = plain(data);
  const text = toYaml(data);
  const readers: [string, (text: string) => Promise<unknown>][] = [
    ["PyYAML (YAML 1.1)", pyyaml],
    [
      "npm:yaml, YAML 1.2 core schema",
      (text) => Promise.resolve(parseYaml(text, { mapAsMap: true })),
    ],
    [
      "npm:yaml, YAML 1.1",
      (text) =>
        Promise.resolve(parseYaml(text, { version: "1.1", mapAsMap: true })),
    ],
    ["yaml2etcd's reader", (text) => fromYaml(text, "dump", false)],
  ];
  for (const [name, read] of readers) {
    await t.step(name, async () => {
      const got = plainRead(await read(text));
      const difference = firstDifference(want, got);
      assert.equal(difference, undefined, `seed ${seed}: ${difference}`);
    });
  }
  await t.step("JSON", () => {
    // JSON objects have no key order a reader keeps: compare sorted.
    const got = plainRead(JSON.parse(toJson(data)));
    assert.equal(firstDifference(sorted(want), sorted(got)), undefined);
  });
});
