// EtcdTree on etcd v3 (3.5, v2 off): directories inferred from keys,
// compare-and-swap on modRevision, transactions for update() and
// recursive deletes, bytes, values hidden by keys below them, TTLs as
// leases, v3 metadata, and a re-read after compaction.

import assert from "node:assert/strict";
import {
  codecs,
  EtcdTree,
  TreeDirectory,
  TreeValue,
  WriteConflict,
} from "../../v2/mod.ts";
import { Client } from "../_v3.ts";
import { startEtcd } from "../../testing.ts";
import { startProxy } from "../_proxy.ts";
import { assertMirrorsV3, collect } from "../_tree.ts";
import { test, until } from "../_wait.ts";

test("EtcdTree on etcd v3", async (t) => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  await using other = new Client({ endpoints: etcd.endpoint });
  await using proxy = startProxy(etcd.clientPort);
  // The proxy holds back HTTP/1.1 answers it recognizes: the gateway's.
  await using distant = new Client({
    endpoints: proxy.endpoint,
    transport: "gateway",
  });

  /**
   * Runs `write` of a tree that cannot have seen `outside` yet: while the
   * tree's answers are held back (its watch included), `outside` happens,
   * then the tree's write reaches etcd, then everything is let through.
   */
  const unseen = async <T>(
    outside: () => Promise<unknown>,
    write: () => Promise<T>,
  ): Promise<T | Error> => {
    const before = proxy.count("POST", "/v3/kv/txn");
    proxy.holdAnswers();
    try {
      await outside();
      const writing = write().catch((error: Error) => error);
      await until(
        () => proxy.count("POST", "/v3/kv/txn") > before,
        5000,
        "the tree's write to reach etcd",
      );
      proxy.passAnswers();
      return await writing;
    } finally {
      proxy.passAnswers();
    }
  };

  await t.step(
    "open mirrors keys written elsewhere, with v3 metadata",
    async () => {
      const host = await client.put("open/db/host", "db.internal");
      await client.put("open/db/host", "db2.internal");
      await client.put("open/db/port", "5432");
      await client.put("open-sibling/x", "not in the tree");
      const lease = await client.lease.grant(60);
      await client.put("open/session", "s", { lease: lease.id });
      await using tree = await EtcdTree.open(client, "open", {
        codecs: { "**/port": codecs.integer },
      });
      assert.equal(tree.prefix, "open");
      assert.deepEqual(tree.toObject(), {
        db: { host: "db2.internal", port: 5432 },
        session: "s",
      });
      const node = tree.node("db/host");
      assert.ok(node instanceof TreeValue);
      assert.equal(node.createRevision, host.revision);
      assert.equal(node.modRevision, host.revision + 1);
      assert.equal(node.version, 2);
      assert.equal(node.lease, undefined);
      assert.equal((tree.node("session") as TreeValue).lease, lease.id);
      const db = tree.node("db");
      assert.ok(db instanceof TreeDirectory);
      assert.equal(db.createRevision, 0, "directories are inferred");
      await assertMirrorsV3(client, tree);
      await client.lease.revoke(lease.id);
    },
  );

  await t.step(
    "writes compare modRevision; creates need the key absent",
    async () => {
      await using tree = await EtcdTree.open(client, "cas");
      const index = await tree.set("k", "1");
      assert.equal(tree.get("k"), "1", "visible when the write resolves");
      assert.equal((tree.node("k") as TreeValue).modRevision, index);
      await using stale = await EtcdTree.open(distant, "cas");
      const error = await unseen(
        () => other.put("cas/k", "theirs"),
        () => stale.set("k", "2"),
      );
      assert.ok(error instanceof WriteConflict, String(error));
      assert.equal(error.path, "k");
      assert.equal((error.current as TreeValue).raw, "theirs");
      assert.equal((await client.get("cas/k"))?.value, "theirs");
      const created = await unseen(
        () => other.put("cas/new", "first"),
        () => stale.set("new", "second"),
      );
      assert.ok(created instanceof WriteConflict, String(created));
      assert.equal(stale.get("new"), "first", "the conflict shows theirs");
      await tree.set("gone", "x");
      await tree.delete("gone");
      assert.equal(tree.node("gone"), undefined);
      assert.equal(await client.get("cas/gone"), undefined);
    },
  );

  await t.step("a transaction from elsewhere arrives whole", async () => {
    await using tree = await EtcdTree.open(client, "txn");
    const changes = tree.changes();
    await client.txn({
      success: ["a", "b/c", "d"].map((path) => ({
        put: `txn/${path}`,
        value: path,
      })),
    });
    const got = await collect(changes, 5); // the root and b come on the way
    assert.deepEqual(
      got.filter((change) => change.node instanceof TreeValue).map((
        change,
      ) => change.path),
      ["a", "b/c", "d"],
    );
    assert.equal(new Set(got.map((change) => change.index)).size, 1);
    await changes.return?.();
    await assertMirrorsV3(client, tree);
  });

  await t.step("update() is one transaction: all or nothing", async () => {
    await using tree = await EtcdTree.open(client, "upd", {
      codecs: { "**/port": codecs.integer },
    });
    const index = await tree.update("", {
      db: { host: "h", port: 5432 },
      name: "svc",
    });
    for (const path of ["upd/db/host", "upd/db/port", "upd/name"]) {
      assert.equal((await client.get(path))?.modRevision, index, path);
    }
    await using stale = await EtcdTree.open(distant, "upd");
    const error = await unseen(
      () => other.put("upd/name", "changed elsewhere"),
      () => stale.update("", { db: { host: "h2" }, name: "mine" }),
    );
    assert.ok(error instanceof WriteConflict, String(error));
    assert.equal(error.path, "name");
    assert.equal(
      (await client.get("upd/db/host"))?.value,
      "h",
      "nothing written",
    );
    await assert.rejects(
      tree.update("", { empty: {} }),
      /empty object, and etcd v3 has no empty directories/,
    );
  });

  await t.step("a recursive delete is one transaction, guarded", async () => {
    await using tree = await EtcdTree.open(client, "rm");
    await tree.update("", { d: { a: "1", b: "2", e: { f: "3" } }, keep: "k" });
    const index = await tree.delete("d", { recursive: true });
    assert.equal(tree.node("d"), undefined);
    assert.equal((await client.range("rm/d/", { prefix: true })).count, 0);
    assert.ok(index > 0);
    await tree.update("", { d: { a: "1", b: "2" } });
    await assert.rejects(tree.delete("d"), /holds keys; pass recursive/);
    await using stale = await EtcdTree.open(distant, "rm");
    const error = await unseen(
      () => other.put("rm/d/a", "changed"),
      () => stale.delete("d", { recursive: true }),
    );
    assert.ok(error instanceof WriteConflict, String(error));
    assert.equal(error.path, "d/a");
    assert.equal((await client.range("rm/d/", { prefix: true })).count, 2);
  });

  await t.step(
    "values are bytes: kept exactly, typed by codecs.bytes",
    async () => {
      const binary = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00]);
      await client.put("bin/logo", binary);
      await client.put("bin/raw", binary);
      await using tree = await EtcdTree.open(client, "bin", {
        codecs: { logo: codecs.bytes },
      });
      assert.deepEqual(tree.get("logo"), binary);
      const raw = tree.node("raw");
      assert.ok(raw instanceof TreeValue);
      assert.deepEqual(raw.raw, binary, "kept as it is");
      assert.equal(raw.value, undefined);
      assert.match(String(raw.error), /not UTF-8 text.*codecs\.bytes/);
      const next = new Uint8Array([1, 2, 3, 0xfe]);
      await tree.set("logo", next);
      assert.deepEqual((await client.get("bin/logo"))?.valueBytes, next);
      assert.deepEqual(tree.get("logo"), next);
    },
  );

  await t.step(
    "a value with keys below it is hidden until they go",
    async () => {
      await client.put("sh/a", "value of a");
      await client.put("sh/a/b", "below");
      await using tree = await EtcdTree.open(client, "sh");
      assert.ok(tree.node("a") instanceof TreeDirectory);
      assert.deepEqual(tree.shadowed, ["a"]);
      await assert.rejects(tree.set("a", "x"), /has a directory there/);
      await assert.rejects(tree.set("a/b/c", "x"), /"a\/b" is a value/);
      const changes = tree.changes();
      await client.delete("sh/a/b");
      const got = await collect(changes, 3);
      assert.deepEqual(got.map((change) => [change.kind, change.path]), [
        ["deleted", "a/b"],
        ["deleted", "a"],
        ["added", "a"],
      ]);
      assert.equal(tree.get("a"), "value of a");
      assert.deepEqual(tree.shadowed, []);
      // And the other way: a key below a value hides it.
      await client.put("sh/a/c", "new");
      await until(
        () => tree.node("a") instanceof TreeDirectory,
        5000,
        "the directory",
      );
      assert.deepEqual(tree.shadowed, ["a"]);
      await changes.return?.();
      await assertMirrorsV3(client, tree);
    },
  );

  await t.step(
    "keys that cannot be paths are named, not mirrored; a//b is a name",
    async () => {
      await client.put(
        new Uint8Array([...new TextEncoder().encode("odd/"), 0xff]),
        "x",
      );
      await client.put("odd/", "x");
      await client.put("odd//double", "x");
      await client.put("odd/fine", "x");
      await using tree = await EtcdTree.open(client, "odd");
      assert.deepEqual(tree.toObject(), { "/double": "x", fine: "x" });
      assert.deepEqual(tree.skipped, ['"odd/"', "0x6f64642fff"]);
    },
  );

  await t.step(
    "a TTL is a lease; keys with the same TTL share one",
    async () => {
      await using tree = await EtcdTree.open(client, "ttl");
      await tree.set("a", "1", { ttl: 2 });
      await tree.set("b", "2", { ttl: 2 });
      const a = tree.node("a") as TreeValue;
      const b = tree.node("b") as TreeValue;
      assert.ok(a.lease !== undefined && a.lease === b.lease);
      const info = await client.lease.timeToLive(a.lease!);
      assert.equal(info.grantedTtl, 2);
      await tree.setTtl("a", null);
      assert.equal((tree.node("a") as TreeValue).lease, undefined);
      await until(() => tree.node("b") === undefined, 6000, "b to expire");
      assert.equal(tree.get("a"), "1", "a no longer has a TTL");
    },
  );

  await t.step("what v3 lacks is refused, saying what to do", async () => {
    await using tree = await EtcdTree.open(client, "no");
    await assert.rejects(
      tree.mkdir("d"),
      /no directories; they appear with the first key/,
    );
    await assert.rejects(
      tree.append("q", "job"),
      /no in-order keys; set\(\) a name of your own/,
    );
  });

  await t.step(
    "compaction while the tree is away: a re-read, differences as changes",
    async () => {
      await using away = startProxy(etcd.clientPort);
      await using far = new Client({
        endpoints: away.endpoint,
        timeout: 1000,
      });
      await using tree = await EtcdTree.open(far, "cmp", {
        retryFor: 60_000,
      });
      await client.put("cmp/stays", "1");
      await client.put("cmp/goes", "1");
      await until(() => tree.get("goes") === "1", 5000, "the first writes");
      let resyncs = 0;
      tree.addEventListener("resync", () => resyncs++);
      const changes = tree.changes();
      away.block();
      await client.delete("cmp/goes");
      await client.put("cmp/new", "2");
      const { revision } = await client.put("cmp/stays", "changed");
      await client.compact(revision);
      away.unblock();
      const got = await collect(changes, 3, 20_000);
      assert.deepEqual(
        got.map((change) => [change.kind, change.path]).sort(),
        [["added", "new"], ["deleted", "goes"], ["updated", "stays"]],
      );
      assert.equal(resyncs, 1);
      await changes.return?.();
      await assertMirrorsV3(client, tree);
    },
  );
});
