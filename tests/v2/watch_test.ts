import assert from "node:assert/strict";
import {
  Client,
  ComparedThenDeleted,
  ComparedThenSwapped,
  Created,
  Deleted,
  Directory,
  type EtcdResult,
  EventIndexCleared,
  Expired,
  Set,
  Updated,
  type Value,
  type Watcher,
} from "../../v2/mod.ts";
import { startEtcd } from "../../testing.ts";
import { startProxy } from "../_proxy.ts";
import { delay } from "../_tree.ts";
import { take as takeFrom, test, until } from "../_wait.ts";

/** Takes exactly `count` events from the watcher, failing after `ms`. */
function take(
  watcher: Watcher,
  count: number,
  ms = 10_000,
): Promise<EtcdResult[]> {
  return takeFrom(watcher[Symbol.asyncIterator](), count, ms, "events");
}

/**
 * Asserts that nothing but the next write follows: writes a marker under
 * the watched key and requires it to be the next event.
 */
async function nothingElse(
  watcher: Watcher,
  client: Client,
  marker: string,
): Promise<void> {
  const written = await client.set(marker, "marker");
  const [next] = await take(watcher, 1);
  assert.equal(next!.node.key, written.node.key, "an event nobody wrote");
  assert.equal(next!.node.modifiedIndex, written.index);
}

/** Waits until a watcher started from now has reached etcd. */
function reached(watcher: Watcher): Promise<void> {
  return until(() => watcher.index > 0, 10_000, "the watcher to reach etcd");
}

function indices(events: readonly EtcdResult[]): number[] {
  return events.map((event) => event.node.modifiedIndex);
}

test("Client.watch() against a real etcd", async (t) => {
  await using etcd = await startEtcd();
  await using client = new Client({ endpoints: etcd.endpoint });

  await t.step("every kind of change, once, in order", async () => {
    const start = (await client.set("kinds/seed", "0")).etcdIndex + 1;
    await using watcher = client.watch("kinds", {
      recursive: true,
      waitIndex: start,
    });
    const writes: EtcdResult[] = [];
    writes.push(await client.set("kinds/a", "1"));
    writes.push(await client.create("kinds/b", "1"));
    writes.push(await client.update("kinds/a", "2"));
    writes.push(await client.set("kinds/a", "3", { prevValue: "2" }));
    writes.push(await client.delete("kinds/b"));
    writes.push(await client.set("kinds/d/x", "x"));
    writes.push(await client.set("kinds/d/y", "y"));
    writes.push(await client.delete("kinds/d", { recursive: true }));
    writes.push(await client.set("kinds/c", "c"));
    writes.push(await client.delete("kinds/c", { prevValue: "c" }));
    writes.push(await client.set("kinds/ttl", "t", { ttl: 1 }));
    const events = await take(watcher, writes.length + 1);
    assert.deepEqual(
      indices(events).slice(0, writes.length),
      writes.map((write) => write.node.modifiedIndex),
    );
    await nothingElse(watcher, client, "kinds/marker");
    const kinds = events.map((event) => event.constructor);
    assert.deepEqual(kinds, [
      Set,
      Created,
      Updated,
      ComparedThenSwapped,
      Deleted,
      Set,
      Set,
      Deleted,
      Set,
      ComparedThenDeleted,
      Set,
      Expired,
    ]);
    assert.ok(events[7]!.node instanceof Directory);
    assert.equal(events[7]!.node.key, "/kinds/d");
    const expired = events[11]!;
    assert.equal(expired.node.key, "/kinds/ttl");
    assert.equal((expired.node as Value).value, "t");
    assert.ok(watcher.index > expired.node.modifiedIndex);
  });

  await t.step("without waitIndex it starts now", async () => {
    await client.set("now/before", "old");
    await using watcher = client.watch("now", { recursive: true });
    // Wait until the watcher has reached etcd.
    await reached(watcher);
    const set = await client.set("now/after", "new");
    const [event] = await take(watcher, 1);
    assert.equal(event!.node.modifiedIndex, set.index);
    assert.equal(event!.node.key, "/now/after");
  });

  await t.step("a non-recursive watch sees only its key", async () => {
    await using watcher = client.watch("single/key");
    await reached(watcher);
    await client.set("single/other", "x");
    await client.set("single/key2", "x");
    const set = await client.set("single/key", "mine");
    const [event] = await take(watcher, 1);
    assert.equal(event!.node.modifiedIndex, set.index);
  });

  await t.step("hidden keys are not reported", async () => {
    const start = (await client.set("hid/seed", "0")).index + 1;
    await client.set("hid/_secret", "1");
    await client.set("hid/dir/_inner", "2");
    const visible = await client.set("hid/dir/shown", "3");
    // From history ...
    await using watcher = client.watch("hid", {
      recursive: true,
      waitIndex: start,
    });
    const [first] = await take(watcher, 1);
    assert.equal(first!.node.modifiedIndex, visible.index);
    // ... and live.
    await client.set("hid/_later", "4");
    const last = await client.set("hid/later", "5");
    const [second] = await take(watcher, 1);
    assert.equal(second!.node.modifiedIndex, last.index);
    // A hidden key watched directly is reported.
    await using direct = client.watch("hid/_secret", { waitIndex: start });
    const [own] = await take(direct, 1);
    assert.equal(own!.node.key, "/hid/_secret");
  });

  await t.step("keeps up with 16 writers and a burst, in order", async () => {
    const start = (await client.set("fast/seed", "0")).index + 1;
    await using watcher = client.watch("fast", {
      recursive: true,
      waitIndex: start,
    });
    const written: number[] = [];
    await Promise.all(
      Array.from({ length: 16 }, async (_, writer) => {
        for (let i = 0; i < 150; i++) {
          written.push((await client.set(`fast/w${writer}`, `${i}`)).index);
        }
      }),
    );
    const burst = await Promise.all(
      Array.from(
        { length: 2000 },
        (_, i) => client.set(`fast/b${i % 97}`, "b"),
      ),
    );
    written.push(...burst.map((result) => result.index));
    written.sort((a, b) => a - b);
    const events = await take(watcher, written.length, 30_000);
    assert.deepEqual(indices(events), written);
    await nothingElse(watcher, client, "fast/marker");
  });

  await t.step("a quiet watcher survives 1000+ writes elsewhere", async () => {
    await using watcher = client.watch("quiet", { recursive: true });
    await reached(watcher);
    const writes = [];
    for (let i = 0; i < 1200; i++) {
      writes.push(client.set(`busy/k${i % 10}`, "x"));
    }
    await Promise.all(writes);
    const set = await client.set("quiet/now", "hello");
    const [event] = await take(watcher, 1);
    assert.equal(event!.node.modifiedIndex, set.index);
  });

  await t.step(
    "a watcher past etcd's history throws EventIndexCleared",
    async () => {
      const old = (await client.set("gone/x", "0")).index;
      const writes = [];
      for (let i = 0; i < 1100; i++) {
        writes.push(
          client.set(`gone/k${i % 10}`, "x"),
        );
      }
      await Promise.all(writes);
      const watcher = client.watch("gone", { recursive: true, waitIndex: old });
      const error = await take(watcher, 1).catch((error) => error);
      assert.ok(error instanceof EventIndexCleared, String(error));
      assert.equal(error.requestedIndex, old);
      assert.ok(error.oldestIndex > old);
      assert.ok(error.resumeIndex > error.oldestIndex);
      // Recover as a user would: read again, watch from the read.
      const read = await client.get("gone", { recursive: true });
      await using again = client.watch("gone", {
        recursive: true,
        waitIndex: read.etcdIndex + 1,
      });
      const set = await client.set("gone/x", "back");
      const [event] = await take(again, 1);
      assert.equal(event!.node.modifiedIndex, set.index);
    },
  );

  await t.step("break releases the watcher", async () => {
    const watcher = client.watch("brk", { recursive: true });
    await reached(watcher);
    await client.set("brk/a", "1");
    for await (const event of watcher) {
      assert.equal(event.node.key, "/brk/a");
      break;
    }
    // Closed: iterating again ends at once.
    const next = await watcher[Symbol.asyncIterator]().next();
    assert.equal(next.done, true);
    // etcd forgets a watcher once it sees its connection closed.
    await until(
      async () => (await client.stats.store()).watchers === 0,
      5000,
      "etcd to drop every watcher of the closed watcher",
    );
  });

  await t.step("an aborted signal ends iteration with its reason", async () => {
    const controller = new AbortController();
    const watcher = client.watch("abt", {
      recursive: true,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error("stop watching")), 100);
    await assert.rejects(
      (async () => {
        for await (const _ of watcher) { /* nothing comes */ }
      })(),
      { message: "stop watching" },
    );
    await watcher.close();
  });
});

test("Client.watch() through a dropped connection and a restart", async (t) => {
  await using etcd = await startEtcd();
  await using proxy = startProxy(etcd.clientPort);
  await using writer = new Client({ endpoints: etcd.endpoint });
  await using client = new Client({ endpoints: proxy.endpoint });

  await t.step("a connection cut while idle is resumed", async () => {
    await using watcher = client.watch("cut", { recursive: true });
    await until(
      () => watcher.index > 0 && proxy.open > 0,
      10_000,
      "the watcher to reach etcd through the proxy",
    );
    proxy.cut();
    const set = await writer.set("cut/after", "1");
    const [event] = await take(watcher, 1);
    assert.equal(event!.node.modifiedIndex, set.index);
  });

  await t.step(
    "a stream gone quiet is replaced, without a gap or a repeat",
    async () => {
      await using quiet = startProxy(etcd.clientPort);
      await using viaQuiet = new Client({ endpoints: quiet.endpoint });
      await using watcher = viaQuiet.watch("quiet", { recursive: true });
      // Watching from now, the stream is the first connection.
      await reached(watcher);
      const first = await writer.set("quiet/a", "0");
      assert.deepEqual(indices(await take(watcher, 1)), [first.index]);
      assert.match(quiet.requestsOf(1)[0] ?? "", /stream=true/, "the stream");
      const streams = () =>
        quiet.requests.filter((line) => line.includes("stream=true")).length;
      assert.equal(streams(), 1);
      quiet.stall(1);
      const during: number[] = [];
      for (let i = 0; i < 200; i++) {
        during.push((await writer.set(`quiet/k${i % 7}`, `${i}`)).index);
      }
      // They arrive while the first stream says nothing: a new one took over.
      assert.deepEqual(indices(await take(watcher, 200)), during);
      assert.ok(streams() >= 2, "a replacement stream was opened");
      // What it held back comes late: none of it twice.
      quiet.release(1);
      const after: number[] = [];
      for (let i = 0; i < 50; i++) {
        after.push((await writer.set(`quiet/k${i % 7}`, `${i}`)).index);
      }
      assert.deepEqual(indices(await take(watcher, 50)), after);
      await nothingElse(watcher, writer, "quiet/marker");
    },
  );

  await t.step(
    "a stream that was only slow: every change once, in order",
    async () => {
      await using slow = startProxy(etcd.clientPort);
      await using viaSlow = new Client({ endpoints: slow.endpoint });
      await using watcher = viaSlow.watch("slow", { recursive: true });
      await reached(watcher);
      assert.match(slow.requestsOf(1)[0] ?? "", /stream=true/, "the stream");
      // The first stream stalls for a moment while 8 writers go on: long
      // enough to look dropped, short enough that it may speak again
      // before its replacement has caught up.
      const written: number[] = [];
      let stop = false;
      const writing = Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          for (let i = 0; !stop; i++) {
            written.push((await writer.set(`slow/w${w}`, `${i}`)).index);
          }
        }),
      );
      await delay(30);
      slow.stall(1);
      await delay(25);
      slow.release(1);
      await delay(200);
      stop = true;
      await writing;
      written.sort((a, b) => a - b);
      assert.deepEqual(indices(await take(watcher, written.length)), written);
      await nothingElse(watcher, writer, "slow/marker");
    },
  );

  await t.step("an etcd killed and restarted mid-watch", async () => {
    const start = (await writer.set("restart/seed", "0")).index + 1;
    await using watcher = client.watch("restart", {
      recursive: true,
      waitIndex: start,
    });
    const before = await writer.set("restart/a", "before");
    await etcd.kill();
    await delay(300);
    await etcd.start();
    const after = [];
    for (let i = 0; i < 5; i++) {
      after.push(await writer.set("restart/b", `${i}`));
    }
    const events = await take(watcher, 6, 20_000);
    assert.deepEqual(indices(events), [
      before.index,
      ...after.map((result) => result.index),
    ]);
    await nothingElse(watcher, writer, "restart/marker");
  });
});
