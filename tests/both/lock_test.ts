// A Lock in one process, on both protocols: tryAcquire takes a free lock and
// leaves nothing behind when it is busy; acquire twice is refused; release
// frees it for the next.

import assert from "node:assert/strict";
import { Lock } from "../../v2/mod.ts";
import { storeOf } from "../../_core/store.ts";
import { BACKENDS } from "../_backends.ts";
import { test, within } from "../_wait.ts";

for (const backend of BACKENDS) {
  test(`${backend.name}: tryAcquire, acquire twice, release`, async () => {
    await using running = await backend.start();
    const first = new Lock(running.client, "try", { ttl: 5 });
    const second = new Lock(running.connect(), "try", { ttl: 5 });
    const store = storeOf(running.client);
    const queue = store.subtree(first.prefix, "prefix");
    const contenders = async () =>
      (await store.snapshot(queue)).entries.filter((entry) =>
        entry.value !== undefined
      ).length;

    assert.equal(await first.tryAcquire(), true, "a free lock is taken");
    assert.ok(first.held);
    assert.equal(typeof first.fencingToken, "number");
    assert.equal(await first.tryAcquire(), true, "held already: still held");
    await assert.rejects(
      first.acquire(),
      /^Error: Cannot acquire the lock "try": it is held already/,
    );
    assert.equal(await second.tryAcquire(), false, "busy");
    assert.equal(second.held, false);
    assert.equal(await contenders(), 1, "the busy try left no key behind");

    const token = first.fencingToken!;
    await first.release();
    assert.equal(first.held, false);
    assert.equal(first.fencingToken, undefined, "no token once released");
    await within(second.acquire(), 5000, "the next to take the freed lock");
    assert.ok(second.fencingToken! > token, "a later token");
    await second.release();
    assert.equal(await contenders(), 0);
  });
}
