// A leader, a lock holder and a kept-alive key whose key someone else
// deletes learn that they lost it, on both protocols (v2 at the next
// refresh; v3 from a watch on the key, since the lease outlives it).

import assert from "node:assert/strict";
import {
  Election,
  keepAlive,
  LeadershipLost,
  Lock,
  LockLost,
} from "../../v2/mod.ts";
import { storeOf } from "../../_core/store.ts";
import type { EtcdClient } from "../../v2/mod.ts";
import { BACKENDS } from "../_backends.ts";
import { test, until, within } from "../_wait.ts";

/** Deletes `key` through another client, as another process would. */
async function deleteFromOutside(other: EtcdClient, key: string) {
  const store = storeOf(other);
  await store.remove(store.subtree(key, "key"), "");
}

for (const backend of BACKENDS) {
  test(`${backend.name}: a holder whose key is deleted learns it lost`, async (t) => {
    await using running = await backend.start();
    const { client } = running;
    const other = running.connect();

    await t.step("a leader", async () => {
      const election = new Election(client, "loss", { ttl: 2 });
      await election.campaign("me");
      await assert.rejects(
        election.campaign("again"),
        /Cannot campaign in "loss": already a candidate/,
      );
      assert.ok(election.leading);
      assert.equal(typeof election.fencingToken, "number");
      assert.ok(!election.signal.aborted);
      await deleteFromOutside(other, election.key!);
      const lost = await within(
        election.lost,
        10_000,
        "the leader to learn that its key was deleted",
      );
      assert.ok(lost instanceof LeadershipLost, String(lost));
      assert.match(lost.message, /^Lost the leadership of "loss": /);
      assert.equal(election.signal.reason, lost);
      assert.equal(election.leading, false);
      assert.equal(election.fencingToken, undefined);
      // The next candidate is not blocked by the lost one.
      const next = new Election(other, "loss", { ttl: 2 });
      await within(next.campaign("next"), 5000, "the next candidate to lead");
      assert.equal(await next.leader(), "next");
      await next.resign();
    });

    await t.step("a lock holder", async () => {
      const lock = new Lock(client, "loss", { ttl: 2 });
      await lock.acquire();
      await deleteFromOutside(other, lock.key!);
      const lost = await within(
        lock.lost,
        10_000,
        "the holder to learn that its key was deleted",
      );
      assert.ok(lost instanceof LockLost, String(lost));
      assert.equal(lock.held, false);
      assert.ok(lock.signal.aborted);
    });

    await t.step("a waiter for a lock", async () => {
      const holder = new Lock(other, "queue", { ttl: 2 });
      await holder.acquire();
      const waiter = new Lock(client, "queue", { ttl: 2 });
      const acquiring = waiter.acquire().then(
        () => undefined,
        (error) => error,
      );
      // Its key exists once it has joined the queue.
      const store = storeOf(other);
      const queue = store.subtree(holder.prefix, "prefix");
      let key: string | undefined;
      await until(
        async () => {
          const { entries } = await store.snapshot(queue);
          key = entries
            .filter((entry) => entry.value !== undefined)
            .map((entry) => queue.keyOf(entry.path))
            .find((each) => each !== holder.key);
          return key !== undefined;
        },
        10_000,
        "the waiter to join the queue",
      );
      await deleteFromOutside(other, key!);
      const error = await within(
        acquiring,
        10_000,
        "the waiter to stop waiting once its key was deleted",
      );
      assert.ok(error instanceof Error, String(error));
      assert.match(error.message, /^Lost /);
      assert.equal(waiter.held, false);
      assert.ok(holder.held, "the holder keeps the lock");
      await holder.release();
    });

    await t.step("a kept-alive key", async () => {
      const alive = await keepAlive(client, "alive/loss", "up", { ttl: 2 });
      assert.ok(!alive.signal.aborted);
      await deleteFromOutside(other, "alive/loss");
      const lost = await within(
        alive.lost,
        10_000,
        "the keep-alive to learn that its key was deleted",
      );
      assert.match(lost.message, /^Lost \/?alive\/loss: /);
      assert.equal(alive.signal.reason, lost);
      await alive.close();
      // Nothing brings the key back.
      const store = storeOf(other);
      assert.equal(
        await store.exists(store.subtree("alive/loss", "key")),
        false,
      );
    });
  });
}
