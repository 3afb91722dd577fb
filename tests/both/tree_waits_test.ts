// What waits on a tree ends: a wait for an index that is aborted, and every
// wait and change iterator when the tree closes, on both protocols.

import assert from "node:assert/strict";
import { EtcdTree, TreeClosed } from "../../v2/mod.ts";
import { storeOf } from "../../_core/store.ts";
import { BACKENDS } from "../_backends.ts";
import { test, within } from "../_wait.ts";

for (const backend of BACKENDS) {
  test(`${backend.name}: waits on a tree end when aborted or closed`, async (t) => {
    await using running = await backend.start();
    const store = storeOf(running.client);
    const root = store.subtree("waits");
    const written = await store.put(root, "a", "1");
    const tree = await EtcdTree.open(running.client, "waits");
    const future = written.index + 1000;

    await t.step("an index already shown resolves at once", async () => {
      await within(tree.synced(written.index), 1000, "synced() to resolve");
    });

    await t.step("an aborted signal rejects with its reason", async () => {
      const reason = new Error("no longer needed");
      await assert.rejects(
        tree.synced(future, { signal: AbortSignal.abort(reason) }),
        (error) => error === reason,
      );
      const later = new AbortController();
      const waiting = tree.synced(future, { signal: later.signal });
      later.abort(reason);
      await assert.rejects(waiting, (error) => error === reason);
      // The tree goes on: a later write is still waited for.
      const next = await store.put(root, "b", "2");
      await within(tree.synced(next.index), 5000, "the next write to show");
      assert.equal(tree.get("b"), "2");
    });

    await t.step("a change iterator ends with its signal", async () => {
      const stop = new AbortController();
      const changes = tree.changes({ signal: stop.signal });
      const next = await store.put(root, "c", "3");
      await tree.synced(next.index);
      const first = await changes.next();
      assert.equal(first.done, false);
      assert.equal(first.done === false && first.value.path, "c");
      const reason = new Error("enough");
      const pending = changes.next();
      stop.abort(reason);
      await assert.rejects(pending, (error) => error === reason);
    });

    await t.step("closing ends every wait and iterator", async () => {
      const waiting = assert.rejects(tree.synced(future), TreeClosed);
      const changes = tree.changes()[Symbol.asyncIterator]();
      const nextChange = changes.next();
      await tree.close();
      await waiting;
      assert.deepEqual(await nextChange, { done: true, value: undefined });
      await assert.rejects(tree.synced(future), TreeClosed);
      assert.deepEqual(await tree.changes().next(), {
        done: true,
        value: undefined,
      });
      await assert.rejects(tree.set("c", "3"), TreeClosed);
    });
  });
}
