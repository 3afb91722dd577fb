import assert from "node:assert/strict";
import {
  Client,
  type Codec,
  codecs,
  CompareFailed,
  EtcdTree,
  KeyNotFound,
  NodeExists,
  OutOfSync,
  TreeClosed,
  TreeDirectory,
  type TreeSettledEvent,
  TreeValue,
  Value,
  WriteConflict,
} from "../../v2/mod.ts";
import { test, until } from "../_wait.ts";
import { startEtcd } from "../../testing.ts";
import { startProxy } from "../_proxy.ts";
import { assertMirrors, collect } from "../_tree.ts";

/** The value etcd stores at a key. */
async function stored(client: Client, key: string): Promise<string> {
  const { node } = await client.get(key);
  assert.ok(node instanceof Value, `${key} is a value`);
  return node.value;
}

test("EtcdTree against a real etcd", async (t) => {
  await using etcd = await startEtcd();
  await using client = new Client({ endpoints: etcd.endpoint });

  await t.step(
    "open mirrors an existing subtree, indices included",
    async () => {
      await client.set("open/db/host", "db.internal");
      await client.set("open/db/port", "5432");
      await client.mkdir("open/empty");
      await client.set("open/top", "x", { ttl: 600 });
      await client.set("open/_hidden", "secret");
      await using tree = await EtcdTree.open(client, "open");
      assert.equal(tree.prefix, "/open");
      assert.equal(tree.get("db/host"), "db.internal");
      assert.equal(tree.get(["db", "port"]), "5432");
      assert.equal(tree.get("_hidden"), undefined);
      assert.equal(tree.get("db"), undefined, "a directory has no value");
      const db = tree.node("db");
      assert.ok(db instanceof TreeDirectory);
      assert.deepEqual([...db.names()].sort(), ["host", "port"]);
      assert.equal(db.get("port"), "5432");
      const top = tree.node("top");
      assert.ok(top instanceof TreeValue);
      assert.ok(top.ttl !== undefined && top.ttl > 590 && top.ttl <= 600);
      assert.deepEqual(tree.toObject(), {
        db: { host: "db.internal", port: "5432" },
        empty: {},
        top: "x",
      });
      assert.deepEqual(
        [...tree].map((node) => node.name).sort(),
        ["db", "empty", "top"],
      );
      assert.equal(tree.node("db/port")?.path, "db/port");
      await assertMirrors(client, tree);
    },
  );

  await t.step(
    "a prefix that does not exist yet is an empty tree",
    async () => {
      await using tree = await EtcdTree.open(client, "later");
      assert.equal(tree.root, undefined);
      assert.deepEqual(tree.toObject(), {});
      await tree.set("a/b", "1");
      assert.equal(tree.get("a/b"), "1");
      assert.ok(tree.node("") instanceof TreeDirectory);
      await assertMirrors(client, tree);
    },
  );

  await t.step(
    "read-your-writes: each write is visible when it resolves",
    async () => {
      await using tree = await EtcdTree.open(client, "ryw", {
        codecs: { "n/*": codecs.integer },
      });
      for (let i = 0; i < 50; i++) {
        const index = await tree.set(`n/${i % 5}`, i);
        assert.equal(tree.get(`n/${i % 5}`), i);
        assert.ok(tree.index >= index);
      }
      await tree.delete("n/0");
      assert.equal(tree.node("n/0"), undefined);
      await tree.mkdir("d");
      assert.ok(tree.node("d") instanceof TreeDirectory);
      const job = await tree.append("q", "first");
      assert.match(job, /^q\/\d{20}$/);
      assert.equal(tree.get(job), "first");
      await assertMirrors(client, tree);
    },
  );

  await t.step(
    "codecs type values; a bad remote value does not break the tree",
    async () => {
      const point: Codec<{ x: number; y: number }> = {
        name: "point",
        decode(text) {
          const [x, y] = text.split(",").map(Number);
          if (!Number.isFinite(x) || !Number.isFinite(y)) {
            throw new TypeError(`Cannot decode "${text}" as point`);
          }
          return { x: x!, y: y! };
        },
        encode: (value) => `${value.x},${value.y}`,
      };
      await client.set("typed/db/port", "5432");
      await client.set("typed/flags/beta/on", "true");
      await client.set("typed/ratio", "0.25");
      await client.set("typed/meta", '{"tags":["a"]}');
      await client.set("typed/where", "3,4");
      await client.set("typed/broken/port", "not a number");
      await using tree = await EtcdTree.open(client, "typed", {
        codecs: {
          "**/port": codecs.integer,
          "flags/**": codecs.boolean,
          ratio: codecs.number,
          meta: codecs.json,
          where: point as Codec<unknown>,
        },
      });
      assert.equal(tree.get("db/port"), 5432);
      assert.equal(tree.get("flags/beta/on"), true);
      assert.equal(tree.get("ratio"), 0.25);
      assert.deepEqual(tree.get("meta"), { tags: ["a"] });
      assert.deepEqual(tree.get("where"), { x: 3, y: 4 });
      const broken = tree.node("broken/port");
      assert.ok(broken instanceof TreeValue);
      assert.equal(broken.value, undefined);
      assert.equal(broken.raw, "not a number");
      assert.ok(broken.error instanceof TypeError);
      assert.match(broken.error.message, /as integer/);

      // A bad value arriving later is kept raw too, and the tree goes on.
      const changes = tree.changes();
      await client.set("typed/db/port", "oops");
      await client.set("typed/db/port", "6543");
      const [bad, good] = await collect(changes, 2);
      assert.equal(bad?.newValue, undefined);
      assert.ok((bad?.node as TreeValue).error instanceof TypeError);
      assert.equal(good?.newValue, 6543);
      assert.equal(tree.get("db/port"), 6543);
      await changes.return?.();

      // Writes encode through the codec; a refused value writes nothing.
      await tree.set("db/port", 7000);
      assert.equal(await stored(client, "typed/db/port"), "7000");
      await tree.set("where", { x: 1, y: 2 });
      assert.equal(await stored(client, "typed/where"), "1,2");
      await assert.rejects(tree.set("db/port", "7001"), (error: Error) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, /"db\/port".*integer/);
        return true;
      });
      await assert.rejects(
        tree.set("db/host", 42),
        /Invalid value for "db\/host".*register|codec/,
      );
      await assert.rejects(client.get("typed/db/host"), KeyNotFound);
      await assert.rejects(
        tree.update("new", { a: "1", port: "x" }),
        TypeError,
      );
      await assert.rejects(client.get("typed/new"), KeyNotFound);
    },
  );

  await t.step(
    "update writes a nested object, creating directories",
    async () => {
      await using tree = await EtcdTree.open(client, "upd", {
        codecs: { "**/port": codecs.integer, "**/labels": codecs.json },
      });
      await tree.update("", {
        db: { host: "h", port: 5432, labels: { tier: "gold" } },
        replicas: {},
        name: "svc",
      });
      assert.deepEqual(tree.toObject(), {
        db: { host: "h", port: 5432, labels: { tier: "gold" } },
        replicas: {},
        name: "svc",
      });
      assert.equal(
        await stored(client, "upd/db/labels"),
        '{"tier":"gold"}',
      );
      await tree.update("db", { host: "h2" });
      assert.equal(tree.get("db/host"), "h2");
      assert.equal(tree.get("db/port"), 5432);
      await assert.rejects(
        tree.update("x", { _private: "no" }),
        /starts with "_"/,
      );
      await assertMirrors(client, tree);
    },
  );

  await t.step("outside changes arrive as changes, in order", async () => {
    await using tree = await EtcdTree.open(client, "outside");
    const changes = tree.changes();
    const a = await client.set("outside/a", "1");
    await client.set("outside/a", "2");
    await client.set("outside/d/x", "3");
    await client.delete("outside/a");
    const got = await collect(changes, 6);
    assert.deepEqual(
      got.map((c) => [c.kind, c.path, c.oldValue, c.newValue]),
      [
        ["added", "", undefined, undefined], // etcd made the root on the way
        ["added", "a", undefined, "1"],
        ["updated", "a", "1", "2"],
        ["added", "d", undefined, undefined],
        ["added", "d/x", undefined, "3"],
        ["deleted", "a", "2", undefined],
      ],
    );
    assert.equal(got[1]!.index, a.node.modifiedIndex);
    assert.ok((got[2]!.previous as TreeValue).raw === "1");
    await changes.return?.();
    await assertMirrors(client, tree);
  });

  await t.step(
    "TTL: set, clear and expiry of values and directories",
    async () => {
      await using tree = await EtcdTree.open(client, "ttl");
      await tree.set("v", "1", { ttl: 100 });
      assert.ok((tree.node("v")?.ttl ?? 0) > 90);
      await tree.setTtl("v", null);
      assert.equal(tree.node("v")?.ttl, undefined);
      assert.equal(tree.get("v"), "1");
      await tree.mkdir("session", { ttl: 100 });
      await tree.set("session/user", "alice");
      await tree.setTtl("session", 1);
      assert.ok((tree.node("session")?.ttl ?? 0) <= 1);
      await tree.set("short", "x", { ttl: 1 });
      const changes = tree.changes();
      const gone = await collect(changes, 3, 5000);
      assert.deepEqual(
        gone.map((c) => [c.kind, c.path, c.expired]).sort(),
        [
          ["deleted", "session", true],
          ["deleted", "session/user", true],
          ["deleted", "short", true],
        ],
      );
      assert.equal(tree.node("session"), undefined);
      assert.equal(tree.node("short"), undefined);
      await changes.return?.();
      await assertMirrors(client, tree);
    },
  );

  await t.step(
    "a deleted directory takes its subtree; a re-created one starts empty",
    async () => {
      await client.set("dirs/a/x", "1");
      await client.set("dirs/a/y/z", "2");
      await using tree = await EtcdTree.open(client, "dirs");
      const before = tree.node("a");
      assert.ok(before instanceof TreeDirectory);
      const changes = tree.changes();
      await client.delete("dirs/a", { recursive: true });
      const created = await client.set("dirs/a/w", "3");
      const got = await collect(changes, 6);
      // Children go before their directory (siblings in etcd's order).
      const paths = got.map((c) => `${c.kind} ${c.path}`);
      assert.deepEqual(paths.slice(0, 4).sort(), [
        "deleted a",
        "deleted a/x",
        "deleted a/y",
        "deleted a/y/z",
      ]);
      assert.ok(paths.indexOf("deleted a/y/z") < paths.indexOf("deleted a/y"));
      assert.deepEqual(paths.slice(3), ["deleted a", "added a", "added a/w"]);
      const after = tree.node("a");
      assert.ok(after instanceof TreeDirectory && after !== before);
      assert.equal(after.createdIndex, created.node.modifiedIndex);
      assert.deepEqual(tree.toObject(), { a: { w: "3" } });
      await changes.return?.();
      await assertMirrors(client, tree);
    },
  );

  await t.step("deleting the watched root is reported", async () => {
    await client.set("gone/a", "1");
    await using tree = await EtcdTree.open(client, "gone");
    const changes = tree.changes();
    await client.delete("gone", { recursive: true });
    const got = await collect(changes, 2);
    assert.deepEqual(got.map((c) => [c.kind, c.path]), [
      ["deleted", "a"],
      ["deleted", ""],
    ]);
    assert.equal(tree.root, undefined);
    await client.set("gone/b", "2");
    const back = await collect(changes, 2);
    assert.deepEqual(back.map((c) => [c.kind, c.path]), [
      ["added", ""],
      ["added", "b"],
    ]);
    await changes.return?.();
    await assertMirrors(client, tree);
  });

  await t.step(
    "conflict: of two trees racing on one key, exactly one wins",
    async () => {
      await client.set("race/counter", "0");
      await using one = await EtcdTree.open(client, "race");
      await using two = await EtcdTree.open(client, "race");
      for (let round = 0; round < 5; round++) {
        const results = await Promise.allSettled([
          one.set("counter", `one-${round}`),
          two.set("counter", `two-${round}`),
        ]);
        const won = results.filter((r) => r.status === "fulfilled");
        const lost = results.filter((r) => r.status === "rejected");
        assert.equal(won.length, 1, "exactly one write wins");
        assert.equal(lost.length, 1);
        const error = (lost[0] as PromiseRejectedResult).reason;
        assert.ok(error instanceof WriteConflict, String(error));
        assert.ok(error.cause instanceof CompareFailed);
        const winner = results[0]!.status === "fulfilled"
          ? `one-${round}`
          : `two-${round}`;
        assert.equal(error.currentValue, winner);
        assert.equal(error.path, "counter");
        // Both mirrors show the winner once the loser hears of it.
        assert.equal(one.get("counter"), winner);
        assert.equal(two.get("counter"), winner);
      }
      // Creating the same new key: one creates, the other conflicts.
      const results = await Promise.allSettled([
        one.set("fresh", "one"),
        two.set("fresh", "two"),
      ]);
      const error = results.find((r) => r.status === "rejected") as
        | PromiseRejectedResult
        | undefined;
      assert.ok(error?.reason instanceof WriteConflict);
      assert.ok(error.reason.cause instanceof NodeExists);
      assert.equal(error.reason.currentValue, one.get("fresh"));
      // force writes regardless of the version held.
      await client.set("race/counter", "outside");
      await one.set("counter", "forced", { force: true });
      assert.equal(one.get("counter"), "forced");
    },
  );

  await t.step("settled: one event for a burst, by net change", async () => {
    await client.set("burst/keep", "1");
    await client.set("burst/drop", "1");
    // A quiet second ends the burst: wide enough that a slow write on a
    // busy machine does not split it.
    await using tree = await EtcdTree.open(client, "burst", {
      settleDelay: 1000,
      settleMaxDelay: 10_000,
    });
    const events: TreeSettledEvent[] = [];
    const settled = new Promise<void>((resolve) =>
      tree.addEventListener("settled", (event) => {
        events.push(event);
        resolve();
      })
    );
    await client.set("burst/keep", "2");
    await client.delete("burst/drop");
    await client.set("burst/temp", "1");
    await client.delete("burst/temp");
    for (let i = 0; i < 10; i++) await client.set(`burst/new/${i}`, "x");
    await settled;
    assert.equal(events.length, 1);
    const [event] = events;
    assert.deepEqual(event!.updated, ["keep"]);
    assert.deepEqual(event!.deleted, ["drop"]);
    assert.deepEqual(
      [...event!.added].sort(),
      ["new", ...Array.from({ length: 10 }, (_, i) => `new/${i}`)].sort(),
    );
  });

  await t.step(
    "history loss: the tree re-reads and reports the difference",
    async () => {
      await using proxy = startProxy(etcd.clientPort);
      await using viaProxy = new Client({ endpoints: proxy.endpoint });
      for (let i = 0; i < 20; i++) await client.set(`lost/k${i}`, "old");
      await client.set("lost/d/x", "1");
      await using tree = await EtcdTree.open(viaProxy, "lost", {
        retryFor: 30_000,
      });
      let resyncs = 0;
      tree.addEventListener("resync", () => resyncs++);
      const changes = tree.changes();
      proxy.block();
      // More than etcd's 1000 events of history, while the tree cannot hear.
      for (let i = 0; i < 1100; i++) {
        await client.set(`lost/k${i % 10}`, `new${i}`);
      }
      await client.delete("lost/d", { recursive: true });
      await client.set("lost/k15", "changed");
      await client.delete("lost/k16");
      await client.set("lost/fresh", "1");
      proxy.unblock();
      const got = await collect(changes, 15, 20_000);
      assert.equal(resyncs, 1);
      assert.equal(tree.resyncs, 1);
      const byPath = new Map(got.map((c) => [c.path, c]));
      assert.equal(byPath.get("k15")?.kind, "updated");
      assert.equal(byPath.get("k15")?.newValue, "changed");
      assert.equal(byPath.get("k16")?.kind, "deleted");
      assert.equal(byPath.get("d/x")?.kind, "deleted");
      assert.equal(byPath.get("fresh")?.kind, "added");
      assert.equal(byPath.get("k3")?.newValue, "new1093");
      assert.equal(byPath.has("k12"), false, "unchanged keys are not reported");
      await changes.return?.();
      await assertMirrors(client, tree);
    },
  );

  await t.step(
    "state: reconnecting while etcd restarts, then live",
    async () => {
      await using tree = await EtcdTree.open(client, "state", {
        retryFor: 30_000,
      });
      const states: string[] = [];
      tree.addEventListener("state", (event) => states.push(event.state));
      assert.equal(tree.state, "live");
      await etcd.stop();
      await until(
        () => tree.state === "reconnecting",
        5000,
        "the tree to say it is reconnecting",
      );
      await etcd.start();
      await until(
        () => tree.state === "live",
        10_000,
        "the tree to be live again",
      );
      await tree.set("after", "1");
      assert.deepEqual(states, ["reconnecting", "live"]);
    },
  );

  await t.step("close ends change iterators and refuses writes", async () => {
    const tree = await EtcdTree.open(client, "closing");
    const changes = tree.changes();
    const next = changes.next();
    await tree.close();
    assert.deepEqual(await next, { done: true, value: undefined });
    await assert.rejects(tree.set("a", "1"), TreeClosed);
    assert.equal(tree.get("a"), undefined);
  });

  await t.step(
    "out of sync: past the retry budget, writes reject with the cause",
    async () => {
      await client.set("budget/a", "1");
      await using tree = await EtcdTree.open(client, "budget", {
        retryFor: 300,
      });
      const errors: unknown[] = [];
      tree.addEventListener("error", (event) => errors.push(event.error));
      const changes = tree.changes();
      const next = changes.next();
      await etcd.stop();
      await assert.rejects(next, OutOfSync);
      assert.equal(tree.state, "out of sync");
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof OutOfSync);
      assert.match(
        (errors[0] as Error).message,
        /Cannot keep the tree "\/budget" in sync/,
      );
      await assert.rejects(tree.set("a", "2"), OutOfSync);
      assert.equal(tree.get("a"), "1", "the last known state stays readable");
      await etcd.start();
    },
  );
});
