// The store seam's contract, written once and run for every backend:
// snapshots, ordered changes, conditional writes, history loss and leases.
// Each step works under a prefix of its own.

import assert from "node:assert/strict";
import { errorKind } from "../../v2/mod.ts";
import { type Change, type Store, storeOf } from "../../_core/store.ts";
import { BACKENDS } from "../_backends.ts";
import { take, test, until, within } from "../_wait.ts";

for (const backend of BACKENDS) {
  test(`store contract (${backend.name})`, async (t) => {
    await using running = await backend.start();
    const store: Store = storeOf(running.client);
    const kindOf = async (promise: Promise<unknown>) =>
      errorKind(await promise.then(() => undefined, (error) => error));

    await t.step("a missing subtree is an empty snapshot", async () => {
      const snapshot = await store.snapshot(store.subtree("missing"));
      assert.deepEqual(snapshot.entries, []);
      assert.ok(snapshot.index > 0);
    });

    await t.step("a snapshot lists every value, parents first", async () => {
      const sub = store.subtree("snap");
      const a = await store.put(sub, "a", "1");
      const b = await store.put(sub, "d/b", "2");
      const snapshot = await store.snapshot(sub);
      assert.ok(snapshot.index >= b.index);
      const values = snapshot.entries.filter((entry) => entry.dir !== true);
      assert.deepEqual(
        values.map((entry) => [entry.path, entry.value]).sort(),
        [["a", "1"], ["d/b", "2"]],
      );
      const byPath = new Map(
        snapshot.entries.map((entry, i) => [entry.path, i]),
      );
      for (const [path, at] of byPath) {
        const slash = path.lastIndexOf("/");
        const parent = slash < 0
          ? (path === "" ? undefined : "")
          : path.slice(0, slash);
        if (parent !== undefined && byPath.has(parent)) {
          assert.ok(byPath.get(parent)! < at, `${parent} before ${path}`);
        }
      }
      const entryA = snapshot.entries.find((entry) => entry.path === "a")!;
      assert.equal(entryA.createdIndex, a.index);
      assert.equal(entryA.modifiedIndex, a.index);
    });

    await t.step("writes hold only under their condition", async () => {
      const sub = store.subtree("cond");
      const created = await store.put(sub, "k", "1", {
        condition: { absent: true },
      });
      assert.equal(
        await kindOf(store.put(sub, "k", "2", { condition: { absent: true } })),
        "exists",
      );
      const swapped = await store.put(sub, "k", "2", {
        condition: { modifiedIndex: created.index },
      });
      assert.ok(swapped.index > created.index);
      assert.equal(
        await kindOf(
          store.put(sub, "k", "3", {
            condition: { modifiedIndex: created.index },
          }),
        ),
        "compare failed",
      );
      assert.equal(
        await kindOf(
          store.put(sub, "nope", "1", { condition: { present: true } }),
        ),
        "not found",
      );
      assert.equal(
        await kindOf(
          store.remove(sub, "k", {
            condition: { modifiedIndex: created.index },
          }),
        ),
        "compare failed",
      );
      await store.remove(sub, "k", {
        condition: { modifiedIndex: swapped.index },
      });
      assert.equal(await kindOf(store.remove(sub, "k")), "not found");
      const { entries } = await store.snapshot(sub);
      assert.ok(!entries.some((entry) => entry.path === "k"));
    });

    await t.step("changes come once, in order, from an index on", async () => {
      const sub = store.subtree("follow");
      const start = await store.put(sub, "seed", "0");
      const stream = store.follow(sub, start.index + 1, { prev: true });
      try {
        const iterator = stream[Symbol.asyncIterator]();
        const written = [
          await store.put(sub, "a", "1"),
          await store.put(sub, "a", "2"),
          await store.put(sub, "b/c", "3"),
          await store.remove(sub, "a"),
        ];
        const changes: Change[] = await take(iterator, 4, 10_000, "changes");
        assert.deepEqual(
          changes.map((
            change,
          ) => [change.type, change.entry.path, change.index]),
          [
            ["put", "a", written[0]!.index],
            ["put", "a", written[1]!.index],
            ["put", "b/c", written[2]!.index],
            ["delete", "a", written[3]!.index],
          ],
        );
        assert.equal(changes[1]!.entry.value, "2");
        assert.equal(changes[1]!.prev?.value, "1");
        // Nothing else follows: the next change is the next write.
        const marker = await store.put(sub, "marker", "m");
        const [next] = await take(iterator, 1, 10_000, "the marker");
        assert.equal(next!.index, marker.index);
      } finally {
        await stream.close();
      }
    });

    await t.step("one key can be followed alone", async () => {
      const sub = store.subtree("only");
      const start = await store.put(sub, "other", "0");
      const stream = store.follow(sub, start.index + 1, { only: "mine" });
      try {
        await store.put(sub, "other", "1");
        const mine = await store.put(sub, "mine", "x");
        const [change] = await take(
          stream[Symbol.asyncIterator](),
          1,
          10_000,
          "changes of mine",
        );
        assert.equal(change!.entry.path, "mine");
        assert.equal(change!.index, mine.index);
      } finally {
        await stream.close();
      }
    });

    await t.step(
      'a start older than the history is "history lost"',
      async () => {
        const sub = store.subtree("history");
        const first = await store.put(sub, "k", "0");
        await store.put(sub, "k", "1");
        await running.forgetHistory(store, sub);
        const stream = store.follow(sub, first.index);
        try {
          const error = await within(
            (async () => {
              for await (const _ of stream) {
                // changes from history, if any, before the error
              }
            })().then(() => undefined, (error) => error),
            15_000,
            "the stream to fail with history lost",
          );
          assert.equal(errorKind(error), "history lost", String(error));
        } finally {
          await stream.close();
        }
      },
    );

    await t.step("a lease keeps its keys; revoking deletes them", async () => {
      const sub = store.subtree("lease");
      const lease = await store.grant(2);
      await store.put(sub, "held", "1", { lease });
      await within(
        new Promise((resolve) => setTimeout(resolve, 3000)),
        4000,
        "3 s",
      );
      let { entries } = await store.snapshot(sub);
      assert.ok(
        entries.some((entry) => entry.path === "held"),
        "kept past its TTL",
      );
      assert.ok(lease.active);
      await lease.revoke();
      ({ entries } = await store.snapshot(sub));
      assert.ok(!entries.some((entry) => entry.path === "held"), "deleted");
    });

    await t.step("an abandoned lease's keys expire", async () => {
      const sub = store.subtree("abandon");
      const lease = await store.grant(1);
      await store.put(sub, "k", "1", { lease });
      lease.abandon();
      await until(
        async () =>
          (await store.snapshot(sub)).entries.every((e) => e.path !== "k"),
        6000,
        "the key to expire after its lease was abandoned",
      );
    });

    await t.step("a lease ended elsewhere is lost", async () => {
      const sub = store.subtree("lost");
      const lease = await store.grant(2);
      await store.put(sub, "k", "1", { lease });
      await running.endLease(lease, sub, "k");
      const reason = await within(lease.lost, 5000, "the lease to be lost");
      assert.ok(reason instanceof Error);
      assert.ok(lease.signal.aborted);
      assert.equal(lease.active, false);
    });

    await t.step("unique keys are distinct and in creation order", async () => {
      const sub = store.subtree("unique");
      await using lease = await store.grant(10);
      await using other = await store.grant(10);
      const first = await store.createUnique(sub, "", "a", { lease });
      const second = await store.createUnique(sub, "", "b", {
        lease: other,
      });
      assert.notEqual(first.path, second.path);
      assert.ok(second.index > first.index);
      const { entries } = await store.snapshot(sub);
      const values = entries.filter((entry) => entry.dir !== true)
        .sort((a, b) => a.createdIndex - b.createdIndex)
        .map((entry) => entry.value);
      assert.deepEqual(values, ["a", "b"]);
    });

    await t.step(
      "a value that is not text is kept as bytes, or refused before sending",
      async () => {
        const sub = store.subtree("binary");
        const bytes = new Uint8Array([0xff, 0xfe, 0, 1]);
        if (store.capabilities.binary) {
          await store.put(sub, "k", bytes);
          const { entries } = await store.snapshot(sub);
          assert.deepEqual(entries.map((entry) => entry.value), [bytes]);
          return;
        }
        await assert.rejects(
          store.put(sub, "k", bytes),
          (error: Error) =>
            error instanceof TypeError && /not UTF-8 text/.test(error.message),
        );
        assert.deepEqual((await store.snapshot(sub)).entries, []);
      },
    );

    await t.step("directories are kept, or inferred and refused", async () => {
      const sub = store.subtree("dirs");
      if (store.capabilities.directories) {
        await store.mkdir(sub, "made");
        const { entries } = await store.snapshot(sub);
        assert.ok(entries.some((entry) => entry.path === "made" && entry.dir));
      } else {
        assert.equal(await kindOf(store.mkdir(sub, "made")), "unsupported");
      }
      await store.put(sub, "d/k", "1");
      await store.put(sub, "d/e/k", "2");
      await store.remove(sub, "d", { dir: "recursive" });
      const { entries } = await store.snapshot(sub);
      assert.ok(!entries.some((entry) => entry.path.startsWith("d")));
    });
  });
}
