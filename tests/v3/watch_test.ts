// The v3 watch against real etcd: every event once and in order, with
// prevKv and filters; resumed after a cut connection and a restart; ended
// with Compacted when its history is gone; moved off a member that hangs
// or loses quorum; large replays in fragments.

import assert from "node:assert/strict";
import { Compacted, errorKind, type WatchEvent } from "../../mod.ts";
import { Client, TRANSPORT } from "../_v3.ts";
import { startCluster, startEtcd } from "../../testing.ts";
import { startProxy } from "../_proxy.ts";
import { take, test, until, within } from "../_wait.ts";

const describe = (event: WatchEvent) =>
  `${event.type} ${event.kv.key}${
    event.type === "put" ? `=${event.kv.value}` : ""
  }`;

test("v3 watch on one member", async (t) => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });

  await t.step("events come once, in order, with prevKv", async () => {
    const start = await client.put("w/seed", "0");
    await using watcher = client.watch("w/", {
      prefix: true,
      prevKv: true,
      startRevision: start.revision + 1,
    });
    const events = watcher[Symbol.asyncIterator]();
    await client.put("w/a", "1");
    await client.put("w/a", "2");
    await client.put("elsewhere", "x");
    await client.delete("w/a");
    const got = await take(events, 3, 5000, "three events");
    assert.deepEqual(got.map(describe), [
      "put w/a=1",
      "put w/a=2",
      "delete w/a",
    ]);
    assert.equal(got[1]!.prevKv?.value, "1");
    assert.equal(got[2]!.prevKv?.value, "2");
    assert.equal(got[0]!.prevKv, undefined, "a create has no prevKv");
    assert.equal(got[2]!.revision, got[1]!.revision + 2);
    const marker = await client.put("w/marker", "m");
    const [next] = await take(events, 1, 5000, "the marker");
    assert.equal(next!.revision, marker.revision, "nothing in between");
    assert.equal(watcher.revision, marker.revision + 1);
  });

  await t.step(
    "one transaction is one revision of several events",
    async () => {
      const start = await client.put("tx/seed", "0");
      await using watcher = client.watch("tx/", {
        prefix: true,
        startRevision: start.revision + 1,
      });
      const result = await client.txn({
        success: Array.from({ length: 5 }, (_, i) => ({
          put: `tx/${i}`,
          value: `${i}`,
        })),
      });
      const got = await take(
        watcher[Symbol.asyncIterator](),
        5,
        5000,
        "the txn's five events",
      );
      assert.deepEqual(
        got.map((event) => event.revision),
        Array(5).fill(result.revision),
      );
    },
  );

  await t.step("filters leave out puts or deletes", async () => {
    const start = await client.put("f/seed", "0");
    await using noPut = client.watch("f/", {
      prefix: true,
      filters: ["noPut"],
      startRevision: start.revision + 1,
    });
    await using noDelete = client.watch("f/", {
      prefix: true,
      filters: ["noDelete"],
      startRevision: start.revision + 1,
    });
    await client.put("f/a", "1");
    await client.delete("f/a");
    await client.put("f/b", "2");
    const deletes = await take(
      noPut[Symbol.asyncIterator](),
      1,
      5000,
      "a delete",
    );
    const puts = await take(
      noDelete[Symbol.asyncIterator](),
      2,
      5000,
      "two puts",
    );
    assert.deepEqual(deletes.map(describe), ["delete f/a"]);
    assert.deepEqual(puts.map(describe), ["put f/a=1", "put f/b=2"]);
  });

  await t.step("a watch from now sees only later changes", async () => {
    await client.put("now/k", "before");
    await using watcher = client.watch("now/k");
    await until(() => watcher.revision > 0, 5000, "the watch to reach etcd");
    await client.put("now/k", "after");
    const [event] = await take(
      watcher[Symbol.asyncIterator](),
      1,
      5000,
      "a put",
    );
    assert.equal(event!.kv.value, "after");
  });

  await t.step(
    "a compacted start ends with Compacted, saying where",
    async () => {
      const old = await client.put("c/k", "1");
      const now = await client.put("c/k", "2");
      await client.compact(now.revision);
      const watcher = client.watch("c/k", { startRevision: old.revision });
      const error = await within(
        (async () => {
          for await (const _ of watcher) {
            // nothing can come before the cancel
          }
        })().then(() => undefined, (error) => error),
        5000,
        "the watch to end",
      );
      assert.ok(error instanceof Compacted, String(error));
      assert.equal(error.compactRevision, now.revision);
      assert.equal(errorKind(error), "history lost");
      await watcher.close();
    },
  );

  await t.step("breaking out of the loop closes the watch", async () => {
    const start = await client.put("b/k", "0");
    const watcher = client.watch("b/k", { startRevision: start.revision });
    for await (const _ of watcher) break;
    await client.put("b/k", "1");
    const next = await within(
      watcher[Symbol.asyncIterator]().next(),
      2000,
      "the closed watch to end",
    );
    assert.equal(next.done, true);
  });

  await t.step("a signal stops the watch with its reason", async () => {
    const controller = new AbortController();
    const watcher = client.watch("s/k", { signal: controller.signal });
    const ending = watcher[Symbol.asyncIterator]().next().then(
      () => undefined,
      (error) => error,
    );
    controller.abort(new Error("enough"));
    assert.equal(
      (await within(ending, 2000, "the watch to stop"))?.message,
      "enough",
    );
    await watcher.close();
  });
});

test("v3 watch: a replay larger than etcd sends at once, in fragments", async () => {
  // etcd splits a watch message over --max-request-bytes + 512 KiB.
  await using etcd = await startEtcd({
    version: "3.5",
    args: ["--max-request-bytes", "2048"],
  });
  await using client = new Client({ endpoints: etcd.endpoint });
  const start = await client.put("big/seed", "0");
  const value = "v".repeat(1000);
  for (let i = 0; i < 800; i += 100) {
    await Promise.all(
      Array.from({ length: 100 }, (_, j) => client.put(`big/${i + j}`, value)),
    );
  }
  await using watcher = client.watch("big/", {
    prefix: true,
    startRevision: start.revision + 1,
  });
  const got = await take(
    watcher[Symbol.asyncIterator](),
    800,
    20_000,
    "800 events",
  );
  const revisions = got.map((event) => event.revision);
  assert.deepEqual(revisions, [...revisions].sort((a, b) => a - b));
  assert.equal(new Set(got.map((event) => event.kv.key)).size, 800);
  assert.ok(got.every((event) => event.kv.value === value));
});

test("v3 watch through a cut connection and an etcd restart", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using proxy = await startProxy(etcd.clientPort);
  await using writer = new Client({ endpoints: etcd.endpoint });
  await using client = new Client({ endpoints: proxy.endpoint, timeout: 1000 });
  const start = await writer.put("r/seed", "0");
  const states: string[] = [];
  await using watcher = client.watch("r/", {
    prefix: true,
    startRevision: start.revision + 1,
    onState: (state) => states.push(state),
  });
  const events = watcher[Symbol.asyncIterator]();
  const written: number[] = [];
  const write = async (n: number) => {
    for (let i = 0; i < n; i++) {
      written.push((await writer.put(`r/${written.length}`, "x")).revision);
    }
  };
  await write(5);
  const before = await take(events, 5, 5000, "the first five");
  proxy.cut();
  await write(5); // while the watch reconnects
  const after = await take(events, 5, 10_000, "five more after the cut");
  await etcd.kill();
  await etcd.start();
  await write(5);
  const restarted = await take(events, 5, 20_000, "five more after a restart");
  assert.deepEqual(
    [...before, ...after, ...restarted].map((event) => event.revision),
    written,
    "every write once, in order",
  );
  // On the gateway each stream is a POST the proxy sees (gRPC's are streams
  // inside one HTTP/2 connection).
  if (TRANSPORT === "gateway") {
    assert.ok(proxy.count("POST", "/v3/watch") >= 3, "the stream was replaced");
  }
  // It reported trouble only while it had it, and recovered.
  assert.ok(states.length === 0 || states.at(-1) === "live", states.join());
});

test("v3 watch leaves a member that hangs, or loses quorum", async (t) => {
  await using cluster = await startCluster(3, { version: "3.5" });
  const [first, second, third] = cluster.members;
  await using writer = new Client({ endpoints: cluster.endpoints });

  await t.step("a hung member is left within seconds", async () => {
    // A follower hangs, so that the write made meanwhile needs no election.
    const leader = await cluster.leader();
    const hung = cluster.members.find((member) => member !== leader)!;
    await using client = new Client({
      endpoints: [hung, ...cluster.members.filter((m) => m !== hung)].map(
        (member) => member.endpoint,
      ),
      timeout: 1000,
    });
    const start = await writer.put("h/seed", "0");
    await using watcher = client.watch("h/", {
      prefix: true,
      startRevision: start.revision + 1,
    });
    const events = watcher[Symbol.asyncIterator]();
    await writer.put("h/1", "x");
    await take(events, 1, 5000, "an event from the member that will hang");
    hung.pause();
    try {
      const other = new Client({ endpoints: [leader.endpoint] });
      const put = await other.put("h/2", "y");
      await other.close();
      // The gateway's heartbeat asks another member after a second of
      // silence; gRPC's connection PINGs after 5 s (etcd refuses more) and
      // gives up 5 s later.
      const [event] = await take(
        events,
        1,
        TRANSPORT === "gateway" ? 10_000 : 20_000,
        "the write on another member",
      );
      assert.equal(event!.revision, put.revision);
    } finally {
      hung.resume();
    }
  });

  await t.step(
    "a member without quorum ends the stream; it resumes after",
    async () => {
      await using client = new Client({
        endpoints: [first!.endpoint],
        timeout: 1000,
      });
      const start = await writer.put("q/seed", "0");
      const states: [string, unknown][] = [];
      await using watcher = client.watch("q/", {
        prefix: true,
        startRevision: start.revision + 1,
        onState: (state, error) => states.push([state, error]),
      });
      const events = watcher[Symbol.asyncIterator]();
      const put = await writer.put("q/1", "x");
      await take(events, 1, 5000, "an event");
      await second!.stop();
      await third!.stop();
      await until(
        () => states.some(([state]) => state === "retrying"),
        15_000,
        "the watch to notice that its member lost quorum",
      );
      assert.equal(
        errorKind(states[0]![1]),
        "unavailable",
        String(states[0]![1]),
      );
      await second!.start(false);
      await third!.start(false);
      await Promise.all(cluster.members.map((member) => member.waitHealthy()));
      const next = await writer.put("q/2", "y");
      const [event] = await take(
        events,
        1,
        20_000,
        "the write after quorum is back",
      );
      assert.equal(event!.revision, next.revision);
      assert.ok(next.revision > put.revision);
      await until(
        () => states.at(-1)?.[0] === "live",
        5000,
        "the watch to say it is live again",
      );
    },
  );
});
