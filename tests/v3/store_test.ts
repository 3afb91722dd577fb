// The v3 store below the seam, on what only v3 has (a key's history back to
// its creation or the compaction point) and on what v2 has and v3 does not,
// each refused with what to do instead.

import assert from "node:assert/strict";
import { errorKind } from "../../mod.ts";
import { Client } from "../_v3.ts";
import { Client as V2Client } from "../../v2/mod.ts";
import { storeOf } from "../../_core/store.ts";
import { startEtcd } from "../../testing.ts";
import { test } from "../_wait.ts";

test("v3 store: a key's history, and what v3 cannot do", async (t) => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  const store = storeOf(client);
  const app = store.subtree(["app", "cfg"]);
  assert.equal(app.key, "app/cfg");

  await t.step("history: newest first, back to the creation", async () => {
    const revisions: number[] = [];
    for (const value of ["v1", "v2", Uint8Array.of(0xff), "v4"]) {
      revisions.push((await client.put("app/cfg/k", value)).revision);
    }
    const whole = await store.history(app, "k");
    assert.equal(whole.end, "created");
    assert.deepEqual(
      whole.versions.map((v) => [v.value, v.version, v.modifiedIndex]),
      [
        ["v4", 4, revisions[3]],
        [Uint8Array.of(0xff), 3, revisions[2]],
        ["v2", 2, revisions[1]],
        ["v1", 1, revisions[0]],
      ],
    );
    for (const version of whole.versions) {
      assert.equal(version.createdIndex, revisions[0]);
    }
    const some = await store.history(app, "k", { limit: 2 });
    assert.equal(some.end, "limit");
    assert.equal(some.versions.length, 2);
    // After a compaction at the third version, the history ends there.
    await client.compact(revisions[2]!);
    const left = await store.history(app, "k");
    // (etcd's range error does not say where the compaction point is.)
    assert.equal(left.end, "compacted");
    assert.deepEqual(left.versions.map((v) => v.version), [4, 3]);
    assert.deepEqual(await store.history(app, "none"), {
      versions: [],
      end: "created",
    });
  });

  await t.step("what v3 cannot do says what to do instead", async () => {
    await client.put("app/cfg/dir/a", "1");
    const unsupported = async (run: () => Promise<unknown>, fix: RegExp) => {
      const error = await run().then(() => undefined, (error) => error);
      assert.equal(errorKind(error), "unsupported", String(error));
      assert.match(error.message, fix);
    };
    await unsupported(
      () => store.remove(app, "dir", { dir: "empty" }),
      /^Cannot remove the directory "app\/cfg\/dir" alone with etcd's v3 API: directories are inferred from the keys below them/,
    );
    await unsupported(
      () =>
        store.remove(app, "dir", {
          dir: "recursive",
          condition: { modifiedIndex: 1 },
        }),
      /a directory has no revision of its own; remove its keys with a compare each/,
    );
    await unsupported(
      () => store.createUnique(app, "queue", "x"),
      /v3 names such keys after their lease; pass a lease/,
    );
    await unsupported(
      () => store.mkdir(app, "empty"),
      /etcd v3 has no directories; they appear with the first key below them/,
    );
    // Nothing was removed on the way.
    assert.equal((await client.get("app/cfg/dir/a"))?.value, "1");
    const gone = await store.remove(app, "nothing", { dir: "recursive" })
      .then(() => undefined, (error) => error);
    assert.equal(errorKind(gone), "not found", String(gone));
  });

  await t.step("bad input is refused before sending", async () => {
    assert.throws(
      () => store.subtree(7 as unknown as string),
      /^TypeError: Invalid prefix: expected a string or an array of strings, got number/,
    );
    assert.throws(
      () => store.subtree(["a", "b/c"]),
      /^TypeError: Invalid prefix \["a","b\/c"\]: every segment must be a non-empty string without "\/"/,
    );
    await assert.rejects(
      store.snapshot(app, { revision: 0 }),
      /^RangeError: Invalid revision 0: expected a whole number >= 1/,
    );
    await assert.rejects(
      store.grant(0),
      /^RangeError: Invalid ttl 0: expected a whole number of seconds >= 1/,
    );
    await assert.rejects(
      store.put(app, "t", "v", { ttl: 1.5 }),
      /^RangeError: Invalid ttl 1.5: expected a whole number of seconds >= 1/,
    );
    const many = Array.from({ length: 129 }, (_, i) => ({
      path: `k${i}`,
      value: "v",
    }));
    await assert.rejects(
      store.commit(app, many),
      /^RangeError: Cannot write 129 keys in one transaction: etcd takes at most 128 \(its --max-txn-ops\)/,
    );
    // A subtree of another store is not one of this one.
    await using v2 = new V2Client({ endpoints: "http://127.0.0.1:9" });
    const foreign = storeOf(v2).subtree("app");
    await assert.rejects(
      store.put(foreign, "k", "v"),
      /^TypeError: Invalid subtree: not one of this v3 store/,
    );
  });
});

test("v3 store: the prefix `/` reads its own key once, and the keys below", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  await client.put("/", "root");
  await client.put("/a", "1");
  await client.put("x", "elsewhere");
  const store = storeOf(client);
  const snapshot = await store.snapshot(store.subtree("/", "prefix"));
  assert.deepEqual(
    snapshot.entries.map((entry) => [entry.path, entry.value]),
    [["", "root"], ["a", "1"]],
  );
});
