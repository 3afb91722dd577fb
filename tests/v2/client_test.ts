import assert from "node:assert/strict";
import {
  Client,
  ComparedThenDeleted,
  ComparedThenSwapped,
  Created,
  Deleted,
  Directory,
  Expired,
  Got,
  Set,
  Updated,
  Value,
} from "../../v2/mod.ts";
import { startEtcd } from "../../testing.ts";
import { test, until, within } from "../_wait.ts";

// Every call over both transports: our sockets (the default) and fetch.
for (const transport of ["sockets", "fetch"] as const) {
  test(`Client against a real etcd (${transport})`, async (t) => {
    await using etcd = await startEtcd();
    await using client = new Client({ endpoints: etcd.endpoint, transport });

    await t.step("set() creates a value and get() reads it back", async () => {
      const set = await client.set("kv/a", "1");
      assert.ok(set instanceof Set);
      assert.equal(set.action, "set");
      assert.ok(set.node instanceof Value);
      assert.equal(set.node.key, "/kv/a");
      assert.equal(set.node.name, "a");
      assert.equal(set.node.value, "1");
      assert.equal(set.node.createdIndex, set.node.modifiedIndex);
      assert.equal(set.prevNode, undefined);
      assert.equal(set.etcdIndex, set.node.modifiedIndex);
      assert.ok(set.raftIndex > 0 && set.raftTerm > 0);
      assert.match(set.clusterId, /^[0-9a-f]+$/);

      const got = await client.get("/kv/a");
      assert.ok(got instanceof Got);
      assert.ok(got.node instanceof Value);
      assert.equal(got.node.value, "1");
      assert.equal(got.node.modifiedIndex, set.node.modifiedIndex);
      assert.ok(got.etcdIndex >= set.etcdIndex);
    });

    await t.step("set() over a value reports prevNode", async () => {
      const first = await client.set("kv/b", "old");
      const second = await client.set("kv/b", "new");
      assert.ok(second.prevNode instanceof Value);
      assert.equal(second.prevNode.value, "old");
      assert.equal(second.prevNode.modifiedIndex, first.node.modifiedIndex);
      // A plain set replaces the node: it is created anew.
      assert.equal(second.node.createdIndex, second.node.modifiedIndex);
      assert.ok(second.node.modifiedIndex > first.node.modifiedIndex);
    });

    await t.step("set() with prevValue and prevIndex swaps", async () => {
      const first = await client.set("kv/cas", "a");
      const byValue = await client.set("kv/cas", "b", { prevValue: "a" });
      assert.ok(byValue instanceof ComparedThenSwapped);
      assert.equal(byValue.action, "compareAndSwap");
      const byIndex = await client.set("kv/cas", "c", {
        prevIndex: byValue.node.modifiedIndex,
      });
      assert.ok(byIndex instanceof ComparedThenSwapped);
      assert.equal(
        (await client.get("kv/cas")).node.modifiedIndex,
        byIndex.index,
      );
      assert.ok(first.index < byIndex.index);
    });

    await t.step("set() with prevExist creates or updates", async () => {
      const created = await client.set("kv/pe", "1", { prevExist: false });
      assert.ok(created instanceof Created);
      const updated = await client.set("kv/pe", "2", { prevExist: true });
      assert.ok(updated instanceof Updated);
      assert.equal(updated.action, "update");
    });

    await t.step(
      "set() with noValueOnSuccess still gives key, value and index",
      async () => {
        const result = await client.set("kv/quiet", "shh", {
          noValueOnSuccess: true,
        });
        assert.ok(result instanceof Set);
        assert.ok(result.node instanceof Value);
        assert.equal(result.node.key, "/kv/quiet");
        assert.equal(result.node.value, "shh");
        const got = await client.get("kv/quiet");
        assert.equal(got.node.modifiedIndex, result.node.modifiedIndex);
      },
    );

    await t.step("create() and update() keep their promises", async () => {
      const created = await client.create("kv/c", "1");
      assert.ok(created instanceof Created);
      assert.equal(created.action, "create");
      const updated = await client.update("kv/c", "2");
      assert.ok(updated instanceof Updated);
      assert.equal(updated.prevNode?.modifiedIndex, created.index);
      const swapped = await client.update("kv/c", "3", { prevValue: "2" });
      assert.ok(swapped instanceof ComparedThenSwapped);
    });

    await t.step(
      "keys with punctuation, spaces and Unicode round-trip",
      async () => {
        const names = [
          "with space",
          "percent%25%",
          "question?",
          "hash#",
          "plus+",
          "amp&",
          "equals=",
          "_hidden",
          "ünïcödé ключ 鍵 🔑",
          "quote'\"",
          "back\\slash",
          "semi;colon:",
          "tilde~*()!",
          "...",
        ];
        for (const name of names) {
          const key = `odd/${name}`;
          const set = await client.set(key, name);
          assert.equal(set.node.key, `/odd/${name}`, name);
          const got = await client.get(["odd", name]);
          assert.ok(got.node instanceof Value);
          assert.equal(got.node.value, name);
          assert.equal(got.node.name, name);
        }
        const listing = await client.get("odd", { sorted: true });
        assert.ok(listing.node instanceof Directory);
        // Hidden keys are not listed.
        const listed = listing.node.children.map((node) => node.name);
        assert.deepEqual(
          listed,
          names.filter((name) => !name.startsWith("_")).sort(),
        );
        assert.equal(
          (await client.get("odd/_hidden")).node.key,
          "/odd/_hidden",
        );
      },
    );

    await t.step("values: empty, multi-line, Unicode and 1 MiB", async () => {
      const values = [
        "",
        "line one\nline two\r\nline three\n",
        "tab\tand \u0000 nul and é 🎉",
        "x".repeat(1024 * 1024),
        "+&=%?# a=b&c=d",
      ];
      for (const [i, value] of values.entries()) {
        await client.set(`values/${i}`, value);
        const got = await client.get(`values/${i}`);
        assert.ok(got.node instanceof Value);
        assert.equal(got.node.value.length, value.length);
        assert.equal(got.node.value, value);
      }
    });

    await t.step(
      "get() recursive and sorted gives the whole tree",
      async () => {
        await client.set("tree/b/y", "by");
        await client.set("tree/a", "a");
        await client.set("tree/b/x", "bx");
        await client.set("tree/b/z/deep", "deep");
        await client.mkdir("tree/c");

        const flat = await client.get("tree", { sorted: true });
        assert.ok(flat.node instanceof Directory);
        assert.deepEqual(flat.node.children.map((node) => node.name), [
          "a",
          "b",
          "c",
        ]);
        const b = flat.node.get("b");
        assert.ok(b instanceof Directory);
        assert.equal(b.children.length, 0, "not recursive: no grandchildren");

        const deep = await client.get("tree", {
          recursive: true,
          sorted: true,
        });
        assert.ok(deep.node instanceof Directory);
        assert.deepEqual([...deep.node.leaves()].map((node) => node.key), [
          "/tree/a",
          "/tree/b/x",
          "/tree/b/y",
          "/tree/b/z/deep",
        ]);
        assert.deepEqual([...deep.node.walk()].map((node) => node.key), [
          "/tree/a",
          "/tree/b",
          "/tree/b/x",
          "/tree/b/y",
          "/tree/b/z",
          "/tree/b/z/deep",
          "/tree/c",
        ]);
        const c = deep.node.get("c");
        assert.ok(c instanceof Directory);
        assert.deepEqual(c.children, [], "an empty directory has no children");
        assert.deepEqual([...c.walk()], []);
        assert.equal((deep.node.get("b/z/deep") as Value).value, "deep");
        assert.equal(deep.node.get("b/nope"), undefined);
        assert.equal(deep.node.get("a/below-a-value"), undefined);
        assert.deepEqual([...deep.node].map((node) => node.name), [
          "a",
          "b",
          "c",
        ]);
      },
    );

    await t.step("get() of the root has no key, reported as /", async () => {
      const root = await client.get("/");
      assert.ok(root.node instanceof Directory);
      assert.equal(root.node.key, "/");
      assert.equal(root.node.name, "");
      assert.equal(root.node.modifiedIndex, 0);
      assert.ok(root.node.children.some((node) => node.key === "/kv"));
    });

    await t.step("get() with quorum reads through the leader", async () => {
      const set = await client.set("kv/q", "quorum");
      const got = await client.get("kv/q", { quorum: true });
      assert.ok(got.node instanceof Value);
      assert.equal(got.node.value, "quorum");
      assert.equal(got.node.modifiedIndex, set.index);
    });

    await t.step(
      "mkdir() creates directories, with TTL and prevExist",
      async () => {
        const made = await client.mkdir("dirs/one");
        assert.ok(made instanceof Set);
        assert.ok(made.node instanceof Directory);
        assert.equal(made.node.dir, true);
        const created = await client.mkdir("dirs/two", { prevExist: false });
        assert.ok(created instanceof Created);
        const ttl = await client.mkdir("dirs/two", {
          ttl: 100,
          prevExist: true,
        });
        assert.ok(ttl instanceof Updated);
        assert.equal(ttl.node.ttl, 100);
        assert.ok(ttl.node.expiration instanceof Date);
        const cleared = await client.mkdir("dirs/two", {
          ttl: null,
          prevExist: true,
        });
        assert.equal(cleared.node.ttl, undefined);
        assert.equal(cleared.node.expiration, undefined);
      },
    );

    await t.step(
      "append() makes in-order keys that sort by creation",
      async () => {
        const keys: string[] = [];
        for (const value of ["first", "second", "third"]) {
          const result = await client.append("queue", value);
          assert.ok(result instanceof Created);
          assert.match(result.node.name, /^\d{20}$/);
          assert.equal(Number(result.node.name), result.node.createdIndex);
          keys.push(result.node.key);
        }
        const listing = await client.get("queue", { sorted: true });
        assert.ok(listing.node instanceof Directory);
        assert.deepEqual(listing.node.children.map((node) => node.key), keys);
        assert.deepEqual(
          listing.node.children.map((node) => (node as Value).value),
          ["first", "second", "third"],
        );
        const withTtl = await client.append("queue", "fleeting", { ttl: 60 });
        assert.equal(withTtl.node.ttl, 60);
      },
    );

    await t.step(
      "TTL: a key expires, and ttl: null makes it permanent",
      async () => {
        const set = await client.set("ttl/short", "soon gone", { ttl: 1 });
        assert.equal(set.node.ttl, 1);
        assert.ok(set.node.expiration!.getTime() > Date.now() - 1000);
        const kept = await client.set("ttl/kept", "stays", { ttl: 1 });
        const cleared = await client.update("ttl/kept", "stays", { ttl: null });
        assert.equal(cleared.node.ttl, undefined);
        const expired = await client.wait("ttl/short", {
          waitIndex: set.index + 1,
        });
        assert.ok(expired instanceof Expired);
        assert.equal(expired.action, "expire");
        assert.ok(expired.node instanceof Value);
        assert.equal(expired.node.value, "soon gone");
        await assert.rejects(client.get("ttl/short"), { errorCode: 100 });
        assert.equal(
          ((await client.get("ttl/kept")).node as Value).value,
          "stays",
        );
        assert.ok(kept.index < cleared.index);
      },
    );

    await t.step(
      "refresh() extends a TTL without telling watchers",
      async () => {
        const set = await client.set("ttl/lease", "holder", { ttl: 2 });
        const waiting = client.wait("ttl/lease", { waitIndex: set.index + 1 });
        for (let i = 0; i < 3; i++) {
          await new Promise((resolve) => setTimeout(resolve, 800));
          const refreshed = await client.refresh("ttl/lease", 2);
          assert.ok(refreshed instanceof Updated);
          assert.ok(refreshed.node instanceof Value);
          assert.equal(refreshed.node.value, "holder");
          assert.equal(refreshed.node.ttl, 2);
        }
        // 2.4 s after a 2 s TTL was set, the key lives on thanks to the refreshes;
        // the watcher saw none of them, and sees the explicit delete next.
        await client.delete("ttl/lease");
        const event = await within(waiting, 5000, "the wait to see the delete");
        assert.ok(event instanceof Deleted);
        assert.ok(!(event instanceof Expired));
      },
    );

    await t.step(
      "set() with refresh needs an empty value and a ttl",
      async () => {
        const set = await client.set("ttl/r", "v", { ttl: 5 });
        const refreshed = await client.set("ttl/r", "", {
          refresh: true,
          ttl: 9,
          prevExist: true,
        });
        assert.equal((refreshed.node as Value).value, "v");
        assert.equal(refreshed.node.ttl, 9);
        assert.equal(refreshed.node.createdIndex, set.node.createdIndex);
      },
    );

    await t.step("delete() of values and directories", async () => {
      await client.set("del/v", "value");
      const deleted = await client.delete("del/v");
      assert.ok(deleted instanceof Deleted);
      assert.equal(deleted.action, "delete");
      assert.ok(deleted.prevNode instanceof Value);
      assert.equal(deleted.prevNode.value, "value");
      assert.ok(deleted.node instanceof Value);
      assert.equal(deleted.node.value, "value");

      await client.mkdir("del/empty");
      const dir = await client.delete("del/empty", { dir: true });
      assert.ok(dir.node instanceof Directory);

      await client.set("del/full/a", "1");
      await client.set("del/full/b/c", "2");
      const recursive = await client.delete("del/full", { recursive: true });
      assert.ok(recursive.node instanceof Directory);
      await assert.rejects(client.get("del/full/b/c"), { errorCode: 100 });
    });

    await t.step("delete() with prevValue and prevIndex compares", async () => {
      const set = await client.set("del/cad", "x");
      const byValue = await client.delete("del/cad", { prevValue: "x" });
      assert.ok(byValue instanceof ComparedThenDeleted);
      assert.equal(byValue.action, "compareAndDelete");
      const again = await client.set("del/cad", "y");
      const byIndex = await client.delete("del/cad", {
        prevIndex: again.index,
      });
      assert.ok(byIndex instanceof ComparedThenDeleted);
      assert.ok(set.index < again.index);
    });

    await t.step("wait() resolves with the next change", async () => {
      const watchers = async () => (await client.stats.store()).watchers;
      const before = await watchers();
      const waiting = client.wait("watched/key");
      // etcd counts the wait once it has registered it.
      await until(
        async () => await watchers() > before,
        5000,
        "etcd to register the wait",
      );
      const set = await client.set("watched/key", "now");
      const event = await within(waiting, 5000, "the wait to see the set");
      assert.ok(event instanceof Set);
      assert.equal(event.index, set.index);
      assert.equal((event.node as Value).value, "now");
    });

    await t.step("wait() with waitIndex answers from history", async () => {
      const first = await client.set("watched/hist", "1");
      await client.set("watched/hist", "2");
      const event = await client.wait("watched/hist", {
        waitIndex: first.index,
      });
      assert.equal(event.index, first.index);
      assert.equal((event.node as Value).value, "1");
    });

    await t.step(
      "wait() recursive sees changes below, not hidden ones",
      async () => {
        const start = (await client.set("watched/dir/a", "a")).index + 1;
        await client.set("watched/dir/_secret", "hidden");
        const visible = await client.set("watched/dir/sub/b", "b");
        const event = await client.wait("watched/dir", {
          recursive: true,
          waitIndex: start,
        });
        assert.equal(event.node.key, "/watched/dir/sub/b");
        assert.equal(event.index, visible.index);
      },
    );

    await t.step("wait() can be aborted", async () => {
      const controller = new AbortController();
      const waiting = client.wait("watched/never", {
        signal: controller.signal,
      });
      setTimeout(() => controller.abort(new Error("enough")), 50);
      await assert.rejects(within(waiting, 5000, "the abort"), {
        message: "enough",
      });
    });

    await t.step(
      "version(), health(), members(), leader(), machines()",
      async () => {
        const version = await client.version();
        assert.match(version.etcdserver, /^3\.\d+\.\d+/);
        assert.match(version.etcdcluster, /^3\.\d+\.\d+/);
        assert.deepEqual(await client.health(), { health: true });
        const members = await client.members();
        assert.equal(members.length, 1);
        assert.equal(members[0]!.name, etcd.name);
        assert.deepEqual(members[0]!.clientURLs, [etcd.endpoint]);
        assert.match(members[0]!.id, /^[0-9a-f]+$/);
        const leader = await client.leader();
        assert.deepEqual(leader, members[0]);
        assert.deepEqual(await client.machines(), [etcd.endpoint]);
      },
    );

    await t.step("stats.self(), stats.store(), stats.leader()", async () => {
      const self = await client.stats.self();
      assert.equal(self.name, etcd.name);
      assert.equal(self.state, "StateLeader");
      assert.equal(self.leaderInfo.leader, self.id);
      const store = await client.stats.store();
      assert.ok(store.setsSuccess > 10);
      assert.ok(store.getsFail >= 1);
      // A long poll open is one more watcher in etcd's count.
      const stop = new AbortController();
      const waiting = client.wait("stats/never", { signal: stop.signal })
        .catch(() => {});
      await until(
        async () =>
          (await client.stats.store()).watchers === store.watchers + 1,
        5000,
        "etcd to count the open wait as a watcher",
      );
      stop.abort();
      await waiting;
      const leader = await client.stats.leader();
      assert.equal(leader.leader, self.id);
      assert.deepEqual(leader.followers, {});
    });
  });
}

test("Client rejects bad keys and values before sending", async (t) => {
  // Nothing listens on this endpoint: a request would fail differently.
  await using client = new Client({ endpoints: "http://127.0.0.1:9" });
  await t.step("empty, . and .. segments", async () => {
    for (const key of ["a//b", "a/", "./a", "a/../b", "..", "a/."]) {
      await assert.rejects(client.get(key), TypeError, key);
      await assert.rejects(client.set(key, "v"), TypeError, key);
    }
  });
  await t.step("a segment holding /", async () => {
    await assert.rejects(client.get(["a", "b/c"]), /contains "\/"/);
  });
  await t.step("values that are not strings", async () => {
    for (const value of [1, null, undefined, { a: 1 }, true]) {
      await assert.rejects(
        client.set("a", value as unknown as string),
        /Invalid value for "\/a": expected a string/,
      );
    }
  });
  await t.step("prevIndex 0 would mean no condition", async () => {
    await assert.rejects(client.set("a", "v", { prevIndex: 0 }), RangeError);
    await assert.rejects(client.delete("a", { prevIndex: 0 }), RangeError);
  });
  await t.step("bad endpoints and timeouts", () => {
    assert.throws(() => new Client({ endpoints: "not a url" }), TypeError);
    assert.throws(() => new Client({ endpoints: "ftp://x" }), TypeError);
    assert.throws(() => new Client({ endpoints: [] }), TypeError);
    assert.throws(() => new Client({ timeout: -1 }), RangeError);
  });
  await t.step("endpoints are normalized", () => {
    const many = new Client({
      endpoints: "http://127.0.0.1:1/, https://example.test:2379",
    });
    assert.deepEqual(many.endpoints, [
      "http://127.0.0.1:1",
      "https://example.test:2379",
    ]);
    assert.deepEqual(new Client().endpoints, ["http://127.0.0.1:2379"]);
  });
});
