// yaml2etcd's YAML reader: the fast reader of simple YAML against npm:yaml.
import assert from "node:assert/strict";
import type { Data } from "../../cli/_yaml.ts";
import { fromYaml, readSimple } from "../../cli/_yaml_read.ts";
import { readYaml } from "../../cli/_yaml_full.ts";
import { Failure } from "../../cli/_common.ts";
import { random, testSeed } from "../_random.ts";
import { test } from "../_wait.ts";

/** Data with Maps as entry lists, so that key order is compared too. */
function plain(data: Data): unknown {
  if (typeof data === "string" || data instanceof Uint8Array) return data;
  if (Array.isArray(data)) return data.map(plain);
  return [...data].map(([key, value]) => [key, plain(value)]);
}

// Pieces of scalars: ordinary text and everything YAML treats specially.
// deno-fmt-ignore
const PIECES = [
  "a", "key", "Value", "x1", "42", "1.0", "0x1F", "-7", ".inf", "null",
  "true", "yes", "~", "é", "日本", "😀", " ", "  ", ":", ": ", ":x", "#", " #",
  "-", "- ", "?", "? ", ",", "[", "]", "{", "}", "{}", "&", "*", "!", "|",
  ">", "'", '"', "%", "@", "`", "\\", "\\n", "<<", "=", ".", "...", "---",
  "/", "_", "\t", "\r", "\u2028", "\u0085", "\ufeff", "\x7f", "\u00a0",
  "\u3000",
];

function generate(next: () => number): string {
  const pick = <T>(items: readonly T[]): T =>
    items[Math.floor(next() * items.length)]!;
  // How often a piece of a scalar is tricky, and how often a line is odd,
  // for the whole text: most texts are nearly simple, some are wild.
  const tricky = pick([0.01, 0.05, 0.2]);
  const odd = pick([0.05, 0.3, 1]);
  const scalar = (least = 0): string => {
    let text = "";
    const count = least + Math.floor(next() * 4);
    for (let i = 0; i < count; i++) {
      text += next() >= tricky
        ? pick(["a", "b", "k", "v1", "x y"])
        : pick(PIECES);
    }
    const form = next();
    if (form < 0.15) return `"${text}"`;
    if (form < 0.25) return `'${text}'`;
    return text;
  };
  const lines: string[] = [];
  const mapping = (indent: number, depth: number) => {
    const entries = 1 + Math.floor(next() * 4);
    const keys: string[] = [];
    for (let i = 0; i < entries; i++) {
      const pad = " ".repeat(indent);
      const extra = next() / odd;
      if (extra < 0.05) lines.push("");
      else if (extra < 0.1) {
        lines.push(`${" ".repeat(Math.floor(next() * 6))}# ${scalar()}`);
      } else if (extra < 0.12) {
        lines.push(" ".repeat(1 + Math.floor(next() * 3)));
      }
      const key = next() < 0.05 * odd && keys.length > 0
        ? pick(keys)
        : scalar(next() < odd ? 0 : 1);
      keys.push(key);
      const shape = next();
      if (shape < 0.25 && depth < 3) {
        lines.push(`${pad}${key}:`);
        mapping(indent + 1 + Math.floor(next() * 3), depth + 1);
      } else if (shape < 0.32) {
        lines.push(`${pad}${key}:${next() < 0.3 * odd ? " " : ""}`);
      } else if (shape < 0.36) {
        lines.push(`${pad}${key}: {}`);
      } else {
        const gap = next() >= 0.1 * odd ? " " : pick(["", "  ", "\t"]);
        lines.push(`${pad}${key}:${gap}${scalar(next() < odd ? 0 : 1)}`);
        if (next() < 0.04 * odd) {
          lines.push(
            `${pad}${" ".repeat(1 + Math.floor(next() * 3))}${scalar()}`,
          );
        }
      }
    }
  };
  mapping(next() >= 0.03 * odd ? 0 : 1, 0);
  return lines.join(next() >= 0.03 * odd ? "\n" : "\r\n") +
    (next() < 0.5 ? "\n" : "");
}

test("the simple reader reads what npm:yaml reads, or leaves it to npm:yaml", () => {
  const seed = testSeed("simple reader", 20261201);
  const next = random(seed);
  let simple = 0;
  let left = 0;
  for (let round = 0; round < 4000; round++) {
    const text = generate(next);
    const fast = readSimple(text);
    if (fast === undefined) {
      left++;
      continue;
    }
    simple++;
    let full: Map<string, Data>;
    try {
      full = readYaml(text, "generated", false) as Map<string, Data>;
    } catch (error) {
      assert.fail(
        `seed ${seed}: the simple reader took text npm:yaml refuses (${error}):\n${text}`,
      );
    }
    assert.deepEqual(
      plain(fast),
      plain(full),
      `seed ${seed}: the readers differ on:\n${text}`,
    );
  }
  // Both ways are taken often enough for the comparison to mean something.
  assert.ok(simple > 400, `seed ${seed}: only ${simple} texts read simply`);
  assert.ok(left > 400, `seed ${seed}: only ${left} texts left to npm:yaml`);
});

test("the simple reader takes the usual shapes of a config file", () => {
  const text = `# settings
app:
  name: web shop
  url: http://shop.example:8080/a?b=c&d=e
  ratio: 1.0
  enabled: yes
  motto: "don't: panic #1"
  tag: 'a "quoted" word'
  empty: ""
  nothing:
  none: {}

  db:
    # the primary
    host: db.internal
    port: 5432
    ünïcode: 日本語 😀
top: ~
`;
  const fast = readSimple(text);
  assert.ok(fast !== undefined, "not read by the simple reader");
  assert.deepEqual(plain(fast), plain(readYaml(text, "config", false)));
  assert.deepEqual(plain(fast), [
    ["app", [
      ["name", "web shop"],
      ["url", "http://shop.example:8080/a?b=c&d=e"],
      ["ratio", "1.0"],
      ["enabled", "yes"],
      ["motto", "don't: panic #1"],
      ["tag", 'a "quoted" word'],
      ["empty", ""],
      ["nothing", ""],
      ["none", []],
      ["db", [["host", "db.internal"], ["port", "5432"], [
        "ünïcode",
        "日本語 😀",
      ]]],
    ]],
    ["top", "~"],
  ]);
  // The longest key YAML allows.
  const long = `${"k".repeat(1024)}: v\n`;
  assert.deepEqual(plain(readSimple(long)!), plain(readYaml(long, "x", false)));
});

/** A few KiB of YAML whose aliases expand to 64 GiB of text. */
function aliasBomb(): string {
  let text = `l0: &l0 "${"x".repeat(4096)}"\n`;
  for (let i = 1; i < 7; i++) {
    const refs = Array.from({ length: 16 }, (_, j) => `k${j}: *l${i - 1}`);
    text += `l${i}: &l${i} {${refs.join(", ")}}\n`;
  }
  return text;
}

test("what the simple reader leaves is read, or refused with its place, by npm:yaml", async () => {
  const cases: [string, unknown][] = [
    ["a: one\n  two\n", [["a", "one two"]]],
    ["a: |\n  line 1\n  line 2\n", [["a", "line 1\nline 2\n"]]],
    ["a: &x v\nb: *x\n", [["a", "v"], ["b", "v"]]],
    ["a: {b: c}\n", [["a", [["b", "c"]]]]],
    ['a: "tab\\there"\n', [["a", "tab\there"]]],
    ["a: b # note\n", [["a", "b"]]],
    ["a:\tb\n", [["a", "b"]]],
    ["a: b\r\nc: d\r\n", [["a", "b"], ["c", "d"]]],
    ["  a: b\n  c: d\n", [["a", "b"], ["c", "d"]]],
    ["? a\n: b\n", [["a", "b"]]],
    ["a: b\n...\n", [["a", "b"]]],
    // Bytes: YAML's !!binary, and the JSON of etcd2yaml --json.
    ["a: !!binary AP8=\n", [["a", Uint8Array.of(0, 255)]]],
    ["a: !!binary |\n  AP\n  8A\n", [["a", Uint8Array.of(0, 255, 0)]]],
    ['{"a": {"": "AP8="}}\n', [["a", Uint8Array.of(0, 255)]]],
  ];
  for (const [text, expected] of cases) {
    assert.equal(readSimple(text), undefined, JSON.stringify(text));
    assert.deepEqual(plain(await fromYaml(text, "in", false)), expected, text);
  }
  const refused: [string, RegExp][] = [
    ["a: b\na: c\n", /^Cannot parse in:2:1: Map keys must be unique/],
    [
      "a: !!binary not*base64\n",
      /^Cannot load in:1:13: the !!binary value at "a" is not base64/,
    ],
    ["a: b\n c: d\n", /^Cannot parse in:1:4: Nested mappings/],
    ["a:\n  - 1\n", /^Cannot load in:2:3: "a" is a sequence/],
    ["a: b:\n", /^Cannot parse in:1:4: Nested mappings/],
    ["a: b\n... c: d\n", /^Cannot parse in:2:/],
    [`${"k".repeat(1025)}: v\n`, /^Cannot parse in:1:1: The : indicator/],
    [
      "a:\n  <<: 1\n",
      /^Cannot load in:2:7: a merge key \(<<\) under "a" takes a mapping or a sequence of mappings/,
    ],
    [
      '{"a": {"": {"b": "c"}}}\n',
      /^Cannot load in:1:12: the value at "a" has an empty name: expected base64 text \(the JSON of bytes\)/,
    ],
    [
      aliasBomb(),
      /^Cannot load in:1:9: the document expands to more than 256 MiB of text \(aliases repeat what they refer to\)/,
    ],
    [
      "[".repeat(300) + "]".repeat(300) + "\n",
      /^Cannot load in:1:256: it nests deeper than 256 levels/,
    ],
    [
      "a: b\n---\nc: d\n",
      /^Cannot load in:2:1: it holds several YAML documents; give one per load/,
    ],
    [
      "- a\n- b\n",
      /^Cannot load in: expected a mapping \(or one value\) at the top, got a sequence/,
    ],
  ];
  for (const [text, message] of refused) {
    assert.equal(readSimple(text), undefined, JSON.stringify(text));
    await assert.rejects(fromYaml(text, "in", false), (error) => {
      assert.ok(error instanceof Failure);
      assert.match(error.message, message);
      return true;
    });
  }
});
