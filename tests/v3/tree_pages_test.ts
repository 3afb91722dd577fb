// On v3 a subtree is read in pages (of up to 100,000 keys) at one pinned
// revision, so a tree of any size opens as one consistent view however
// much is written meanwhile; and a tree can mirror the whole key space.

import assert from "node:assert/strict";
import { EtcdTree } from "../../v2/mod.ts";
import { Client } from "../_v3.ts";
import { storeOf } from "../../_core/store.ts";
import { PAGE_KEYS } from "../../v3/_store.ts";
import { startEtcd } from "../../testing.ts";
import { assertMirrorsV3 } from "../_tree.ts";
import { test } from "../_wait.ts";

const KEYS = PAGE_KEYS + 3_000; // more than one page

test("v3: a subtree larger than a page is read whole, at one revision", async (t) => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  for (let i = 0; i < KEYS; i += 128) {
    await client.txn({
      success: Array.from({ length: Math.min(128, KEYS - i) }, (_, j) => ({
        put: `big/d${Math.floor((i + j) / 1000)}/k${i + j}`,
        value: "0",
      })),
    });
  }
  // A writer changes keys on every page while they are read.
  let writing = true;
  const written: number[] = [];
  const writer = (async () => {
    for (let n = 0; writing; n++) {
      const i = (n * 997) % KEYS;
      const { revision } = await client.put(
        `big/d${Math.floor(i / 1000)}/k${i}`,
        `${n}`,
      );
      written.push(revision);
    }
  })();
  try {
    await t.step("the snapshot equals a range at its revision", async () => {
      const store = storeOf(client);
      const before = written.length;
      const snapshot = await store.snapshot(store.subtree("big"));
      const during = written.slice(before);
      const { kvs } = await client.range("big/", {
        prefix: true,
        revision: snapshot.index,
      });
      const values = snapshot.entries.filter((entry) =>
        !entry.dir &&
        entry.value !== undefined
      );
      assert.equal(values.length, KEYS);
      assert.deepEqual(
        new Map(values.map((entry) => [`big/${entry.path}`, entry.value])),
        new Map(kvs.map((kv) => [kv.key, kv.value])),
      );
      assert.ok(
        during.some((revision) => revision > snapshot.index),
        "the writer wrote while the pages were read, and none of that shows",
      );
    });

    await t.step("a tree opened meanwhile converges", async () => {
      await using tree = await EtcdTree.open(client, "big");
      writing = false;
      await writer;
      await assertMirrorsV3(client, tree);
    });
  } finally {
    writing = false;
    await writer;
  }
});

test("v3: a tree of the whole key space", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  await client.put("top", "1");
  await client.put("a/b", "2");
  await using tree = await EtcdTree.open(client, "");
  assert.equal(tree.get("top"), "1");
  assert.equal(tree.get("a/b"), "2");
  const { revision } = await client.put("later/key", "3");
  await tree.synced(revision);
  assert.equal(tree.get("later/key"), "3");
  const deleted = await client.delete("top");
  await tree.synced(deleted.header.revision);
  assert.equal(tree.get("top"), undefined);
  // Written through the tree, read by etcdctl's view of the keys.
  await tree.set("from/tree", "4");
  assert.equal((await client.get("from/tree"))?.value, "4");
});
