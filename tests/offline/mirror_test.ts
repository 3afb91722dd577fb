// The tree's mirror on its own: snapshots, changes and resyncs in, nodes and
// reported changes out; no etcd involved.

import assert from "node:assert/strict";
import { CodecRegistry, codecs } from "../../codec.ts";
import type { Change, Entry } from "../../_core/store.ts";
import { Mirror } from "../../_tree/mirror.ts";
import { TreeDirectory, TreeValue } from "../../_tree/nodes.ts";
import { test } from "../_wait.ts";

interface Seen {
  kind: string;
  path: string;
  index: number;
  previous?: string | Uint8Array;
  expired?: true;
}

function mirror(inferDirs: boolean, registry = new CodecRegistry()) {
  const seen: Seen[] = [];
  const m = new Mirror({
    registry,
    inferDirs,
    onChange: (kind, node, previous, index, expired) => {
      const record: Seen = { kind, path: node.path, index };
      if (previous) record.previous = previous.raw;
      if (expired) record.expired = true;
      seen.push(record);
    },
  });
  return { m, seen };
}

const dir = (path: string, created: number, modified = created): Entry => ({
  path,
  dir: true,
  createdIndex: created,
  modifiedIndex: modified,
});
const value = (
  path: string,
  text: string,
  created: number,
  modified = created,
): Entry => ({
  path,
  value: text,
  createdIndex: created,
  modifiedIndex: modified,
});
const put = (index: number, entry: Entry): Change => ({
  index,
  type: "put",
  expired: false,
  entry,
});
const del = (index: number, path: string, expired = false): Change => ({
  index,
  type: "delete",
  expired,
  entry: { path, createdIndex: 0, modifiedIndex: index },
});

/** Every node as `path=value` or `path/`, depth first. */
function shape(m: Mirror): string[] {
  const root = m.root;
  if (root === undefined) return [];
  const out = [root instanceof TreeDirectory ? "/" : `=${root.raw}`];
  if (root instanceof TreeDirectory) {
    for (const node of root.walk()) {
      out.push(
        node instanceof TreeDirectory
          ? `${node.path}/`
          : `${node.path}=${node.raw}`,
      );
    }
  }
  return out;
}

test("mirror with explicit directories (v2)", async (t) => {
  await t.step("a snapshot is built without reporting anything", () => {
    const { m, seen } = mirror(false);
    m.load({
      index: 9,
      entries: [
        dir("", 1),
        dir("db", 2),
        value("db/host", "h", 3),
        value("db/port", "5432", 4, 8),
        dir("empty", 5),
      ],
    });
    assert.equal(m.index, 9);
    assert.deepEqual(shape(m), [
      "/",
      "db/",
      "db/host=h",
      "db/port=5432",
      "empty/",
    ]);
    const port = m.node(["db", "port"]);
    assert.ok(port instanceof TreeValue);
    assert.equal(port.createdIndex, 4);
    assert.equal(port.modifiedIndex, 8);
    assert.deepEqual(seen, []);
  });

  await t.step("changes apply in order; older ones are ignored", () => {
    const { m, seen } = mirror(false);
    m.load({ index: 3, entries: [dir("", 1), value("a", "1", 2)] });
    m.apply(put(4, value("x/y/z", "new", 4)));
    m.apply(put(5, value("a", "2", 5)));
    m.apply(put(5, value("a", "stale", 5))); // not newer than the mirror
    m.apply(put(3, value("a", "old", 3)));
    assert.equal(m.index, 5);
    assert.deepEqual(seen, [
      { kind: "added", path: "x", index: 4 },
      { kind: "added", path: "x/y", index: 4 },
      { kind: "added", path: "x/y/z", index: 4 },
      { kind: "updated", path: "a", index: 5, previous: "1" },
    ]);
    const x = m.node(["x"]);
    assert.ok(x instanceof TreeDirectory && x.createdIndex === 4);
  });

  await t.step("a directory's delete reports its children first", () => {
    const { m, seen } = mirror(false);
    m.load({
      index: 4,
      entries: [
        dir("", 1),
        dir("d", 2),
        value("d/a", "1", 3),
        value("d/b", "2", 4),
      ],
    });
    const root = m.root;
    m.apply(del(5, "d", true));
    assert.deepEqual(seen.map((s) => [s.kind, s.path, s.expired]), [
      ["deleted", "d/a", true],
      ["deleted", "d/b", true],
      ["deleted", "d", true],
    ]);
    assert.equal(m.root, root, "the root stays the same object");
    assert.equal(m.node(["d"]), undefined);
  });

  await t.step("a directory's TTL change updates it in place", () => {
    const { m, seen } = mirror(false);
    m.load({
      index: 3,
      entries: [dir("", 1), dir("s", 2), value("s/k", "v", 3)],
    });
    const s = m.node(["s"]);
    m.apply(put(6, { ...dir("s", 2, 2), expires: 1_000_000 }));
    assert.equal(m.node(["s"]), s, "the same directory");
    assert.equal(s?.expiration?.getTime(), 1_000_000);
    assert.deepEqual(seen, [{ kind: "updated", path: "s", index: 6 }]);
    assert.ok(m.node(["s", "k"]) instanceof TreeValue);
  });

  await t.step("a change of kind replaces the node", () => {
    const { m, seen } = mirror(false);
    m.load({ index: 2, entries: [dir("", 1), value("k", "v", 2)] });
    m.apply(put(3, value("k/inner", "x", 3)));
    assert.deepEqual(shape(m), ["/", "k/", "k/inner=x"]);
    assert.deepEqual(seen.map((s) => `${s.kind} ${s.path}`), [
      "deleted k",
      "added k",
      "added k/inner",
    ]);
  });

  await t.step("a resync reports only the differences", () => {
    const { m, seen } = mirror(false);
    m.load({
      index: 5,
      entries: [
        dir("", 1),
        dir("keep", 2),
        value("keep/same", "1", 3),
        value("keep/changed", "old", 4),
        value("gone", "x", 5),
      ],
    });
    const keep = m.node(["keep"]);
    const same = m.node(["keep", "same"]);
    m.resync({
      index: 20,
      entries: [
        dir("", 1),
        dir("keep", 2),
        value("keep/same", "1", 3),
        value("keep/changed", "new", 4, 12),
        dir("fresh", 15),
        value("fresh/v", "y", 16),
      ],
    });
    assert.equal(m.index, 20);
    assert.equal(m.node(["keep"]), keep, "a directory keeps its identity");
    assert.equal(m.node(["keep", "same"]), same, "an unchanged value too");
    assert.deepEqual(seen.map((s) => `${s.kind} ${s.path}`), [
      "deleted gone",
      "updated keep/changed",
      "added fresh",
      "added fresh/v",
    ]);
    assert.ok(seen.every((s) => s.index === 20));
  });

  await t.step("codecs decode by path; a bad value is kept raw", () => {
    const registry = new CodecRegistry({ "**/port": codecs.integer });
    const { m } = mirror(false, registry);
    m.load({
      index: 3,
      entries: [dir("", 1), value("a/port", "80", 2), value("b/port", "x", 3)],
    });
    const good = m.node(["a", "port"]) as TreeValue;
    const bad = m.node(["b", "port"]) as TreeValue;
    assert.equal(good.value, 80);
    assert.equal(bad.value, undefined);
    assert.equal(bad.raw, "x");
    assert.ok(bad.error instanceof Error);
  });
});

test("mirror with inferred directories (v3)", async (t) => {
  await t.step("directories come from the keys and carry index 0", () => {
    const { m, seen } = mirror(true);
    m.load({
      index: 7,
      entries: [value("a/b/c", "1", 5), value("a/d", "2", 6)],
    });
    assert.deepEqual(shape(m), ["/", "a/", "a/b/", "a/b/c=1", "a/d=2"]);
    const a = m.node(["a"]);
    assert.ok(a instanceof TreeDirectory);
    assert.equal(a.createdIndex, 0);
    assert.equal(a.modifiedIndex, 0);
    assert.deepEqual(seen, []);
  });

  await t.step("the last key's delete removes empty directories", () => {
    const { m, seen } = mirror(true);
    m.load({ index: 7, entries: [value("a/b/c", "1", 5), value("x", "2", 6)] });
    m.apply(del(8, "a/b/c"));
    assert.deepEqual(shape(m), ["/", "x=2"]);
    assert.deepEqual(seen.map((s) => `${s.kind} ${s.path}`), [
      "deleted a/b/c",
      "deleted a/b",
      "deleted a",
    ]);
    m.apply(del(9, "x"));
    assert.equal(m.root, undefined, "nothing left: no root");
  });

  await t.step("a put makes the directories on its way, at index 0", () => {
    const { m, seen } = mirror(true);
    m.load({ index: 1, entries: [] });
    m.apply(put(2, value("p/q", "v", 2)));
    assert.deepEqual(shape(m), ["/", "p/", "p/q=v"]);
    assert.equal(m.node(["p"])?.createdIndex, 0);
    assert.deepEqual(seen.map((s) => `${s.kind} ${s.path}`), [
      "added ",
      "added p",
      "added p/q",
    ]);
  });

  await t.step(
    "a resync keeps implied directories and drops empty ones",
    () => {
      const { m, seen } = mirror(true);
      m.load({
        index: 3,
        entries: [value("a/x", "1", 2), value("b/y", "2", 3)],
      });
      const a = m.node(["a"]);
      m.resync({
        index: 9,
        entries: [value("a/x", "1", 2), value("c/z", "3", 8)],
      });
      assert.equal(m.node(["a"]), a);
      assert.deepEqual(shape(m), ["/", "a/", "a/x=1", "c/", "c/z=3"]);
      assert.deepEqual(seen.map((s) => `${s.kind} ${s.path}`), [
        "deleted b/y",
        "deleted b",
        "added c",
        "added c/z",
      ]);
    },
  );
});

test("mirror with inferred directories: transactions and hidden values (v3)", async (t) => {
  await t.step("changes of one index (a transaction) all apply", () => {
    const { m } = mirror(true);
    m.load({ index: 5, entries: [value("a", "1", 2)] });
    m.apply({ ...put(6, value("b", "2", 6)), more: true });
    m.apply(put(6, value("c/d", "3", 6)));
    m.apply(put(6, value("b", "again", 6))); // the same change twice
    assert.deepEqual(shape(m).sort(), ["/", "a=1", "b=2", "c/", "c/d=3"]);
    assert.equal(m.index, 6);
    m.apply(put(5, value("e", "in the snapshot", 5)));
    assert.equal(m.node(["e"]), undefined, "the snapshot had it");
  });

  await t.step("a value with keys below it is hidden, then comes back", () => {
    const { m, seen } = mirror(true);
    m.load({
      index: 9,
      entries: [
        value("a", "hidden", 2),
        value("a/b", "1", 3),
        value("x", "x", 4),
      ],
    });
    assert.deepEqual(shape(m).sort(), ["/", "a/", "a/b=1", "x=x"]);
    assert.deepEqual(m.shadowed, ["a"]);
    m.apply(put(10, value("a", "hidden, changed", 2, 10)));
    assert.deepEqual(m.shadowed, ["a"], "a change of it stays hidden");
    m.apply(del(11, "a/b"));
    assert.deepEqual(shape(m).sort(), ["/", "a=hidden, changed", "x=x"]);
    assert.deepEqual(m.shadowed, []);
    assert.deepEqual(
      seen.map((s) => `${s.kind} ${s.path}`),
      ["deleted a/b", "deleted a", "added a"],
    );
    // A key below a value hides the value.
    m.apply(put(12, value("x/y", "2", 12)));
    assert.deepEqual(shape(m).sort(), [
      "/",
      "a=hidden, changed",
      "x/",
      "x/y=2",
    ]);
    assert.deepEqual(m.shadowed, ["x"]);
    // Deleting the hidden value leaves the directory alone.
    m.apply(del(13, "x"));
    assert.deepEqual(shape(m).sort(), [
      "/",
      "a=hidden, changed",
      "x/",
      "x/y=2",
    ]);
    assert.deepEqual(m.shadowed, []);
    m.apply(del(14, "x/y"));
    assert.deepEqual(shape(m).sort(), ["/", "a=hidden, changed"]);
  });

  await t.step("a re-read places hidden values as a load does", () => {
    const { m } = mirror(true);
    m.load({ index: 3, entries: [value("a", "v", 2)] });
    m.resync({
      index: 9,
      entries: [value("a", "v", 2), value("a/b", "1", 8)],
    });
    assert.deepEqual(shape(m).sort(), ["/", "a/", "a/b=1"]);
    assert.deepEqual(m.shadowed, ["a"]);
    m.resync({ index: 12, entries: [value("a", "v", 2)] });
    assert.deepEqual(shape(m).sort(), ["/", "a=v"]);
    assert.deepEqual(m.shadowed, []);
  });

  await t.step("bytes are kept exactly", () => {
    const { m } = mirror(true);
    const bytes = new Uint8Array([0xff, 0]);
    m.load({
      index: 3,
      entries: [{ path: "b", value: bytes, createdIndex: 2, modifiedIndex: 2 }],
    });
    const node = m.node(["b"]);
    assert.ok(node instanceof TreeValue);
    assert.deepEqual(node.raw, bytes);
    assert.ok(node.error instanceof TypeError);
  });
});
