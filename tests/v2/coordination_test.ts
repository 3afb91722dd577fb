import assert from "node:assert/strict";
import {
  Client,
  Election,
  keepAlive,
  KeyNotFound,
  Lock,
  LockLost,
  type Value,
} from "../../v2/mod.ts";
import { startEtcd } from "../../testing.ts";
import { startProxy } from "../_proxy.ts";
import { delay } from "../_tree.ts";
import { test, until, within } from "../_wait.ts";

const CONTENDER = new URL("../_contender.ts", import.meta.url).pathname;

/** Starts a helper process; resolves once it printed `line`. */
function spawn(
  args: string[],
  line: string,
  stdin: "piped" | "null" = "null",
) {
  return within(
    started(args, line, stdin),
    30_000,
    `the helper ${args[0]} to print "${line}"`,
  );
}

async function started(
  args: string[],
  line: string,
  stdin: "piped" | "null",
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", CONTENDER, ...args],
    stdin,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes(line + "\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`helper ended before "${line}": ${seen}`);
    seen += value;
  }
  return { child, lines, seen: () => seen };
}

async function exists(client: Client, key: string): Promise<boolean> {
  try {
    await client.get(key);
    return true;
  } catch (error) {
    if (error instanceof KeyNotFound) return false;
    throw error;
  }
}

test("Lock, Election and keepAlive against a real etcd", async (t) => {
  await using etcd = await startEtcd();
  await using client = new Client({ endpoints: etcd.endpoint });

  await t.step(
    "8 processes x 25 increments under the lock: exactly 200, in queue order",
    async () => {
      const outputs = await within(
        Promise.all(
          Array.from({ length: 8 }, () =>
            new Deno.Command(Deno.execPath(), {
              args: [
                "run",
                "--allow-net",
                CONTENDER,
                "count",
                etcd.endpoint,
                "25",
              ],
              stdout: "piped",
              stderr: "inherit",
            }).output()),
        ),
        60_000,
        "8 contenders to finish 25 increments each",
      );
      for (const output of outputs) assert.equal(output.code, 0);
      const { node } = await client.get("counter");
      assert.equal((node as Value).value, "200");
      const order = await client.get("order", { sorted: true });
      const places = [...(order.node as unknown as Iterable<Value>)].map((v) =>
        v.value
      );
      assert.equal(places.length, 200);
      assert.deepEqual(places, [...places].sort(), "served in queue order");
      assert.equal(await exists(client, "_locks/counter/" + places[0]), false);
    },
  );

  await t.step("a killed holder frees the lock within TTL + 1 s", async () => {
    const holder = await spawn(["hold", etcd.endpoint, "2"], "held");
    const lock = new Lock(client, "held", { ttl: 2 });
    assert.equal(await lock.tryAcquire(), false);
    holder.child.kill("SIGKILL");
    await holder.child.status;
    await holder.lines.cancel();
    const started = performance.now();
    await lock.acquire({ timeout: 10_000 }); // bounded by its timeout
    const waited = performance.now() - started;
    assert.ok(waited < 3000, `waited ${waited.toFixed(0)} ms`);
    assert.ok(lock.held);
    await lock.release();
    const { node } = await client.get("_locks/held");
    assert.equal([...(node as unknown as Iterable<Value>)].length, 0);
  });

  await t.step(
    "timeout and abort reject promptly and leave no key",
    async () => {
      await using holder = new Lock(client, "busy", { ttl: 5 });
      await holder.acquire();
      const waiter = new Lock(client, "busy", { ttl: 5 });
      let started = performance.now();
      await assert.rejects(waiter.acquire({ timeout: 300 }), (error: Error) => {
        assert.equal(error.name, "TimeoutError");
        return true;
      });
      assert.ok(performance.now() - started < 1000);
      const controller = new AbortController();
      started = performance.now();
      const pending = waiter.acquire({ signal: controller.signal });
      setTimeout(() => controller.abort(new Error("changed my mind")), 200);
      await assert.rejects(pending, /changed my mind/);
      assert.ok(performance.now() - started < 1000);
      const { node } = await client.get("_locks/busy", { sorted: true });
      const keys = [...(node as unknown as Iterable<Value>)].map((v) => v.key);
      assert.deepEqual(keys, [holder.key], "only the holder's key is left");
    },
  );

  await t.step(
    "a holder that cannot refresh learns it lost the lock",
    async () => {
      await using proxy = startProxy(etcd.clientPort);
      await using cut = new Client({ endpoints: proxy.endpoint, timeout: 500 });
      const lock = new Lock(cut, "fragile", { ttl: 1 });
      await lock.acquire();
      proxy.block();
      const started = performance.now();
      const lost = await within(
        lock.lost,
        5000,
        "the holder to learn it lost the lock",
      );
      assert.ok(lost instanceof LockLost);
      assert.ok(lock.signal.aborted);
      assert.equal(lock.held, false);
      assert.ok(performance.now() - started < 3000);
      // Meanwhile the key expired and someone else can have the lock.
      const other = new Lock(client, "fragile", { ttl: 5 });
      await other.acquire({ timeout: 5000 });
      await other.release();
    },
  );

  await t.step(
    "election: one leader at a time; a killed leader is replaced; resign hands over",
    async () => {
      const watcher = new Election(client, "boss");
      const stop = new AbortController();
      const seen: (string | undefined)[] = [];
      const observing = (async () => {
        for await (const leader of watcher.observe({ signal: stop.signal })) {
          seen.push(leader);
        }
      })().catch(() => {});
      const first = await spawn(
        ["candidate", etcd.endpoint, "one", "2"],
        "leader",
        "piped",
      );
      // Two more candidates queue behind.
      const children = ["two", "three"].map((name) =>
        spawn(["candidate", etcd.endpoint, name, "2"], "leader", "piped")
      );
      // All three queue up.
      await until(
        async () => {
          const { node } = await client.get("_elections/boss");
          return [...(node as unknown as Iterable<Value>)].length === 3;
        },
        10_000,
        "three candidates in the queue",
      );
      assert.equal(await watcher.leader(), "one");
      first.child.kill("SIGKILL");
      await first.child.status;
      await first.lines.cancel();
      const killedAt = performance.now();
      const second = await within(
        Promise.race(children.map((child, i) => child.then((c) => ({ c, i })))),
        5000,
        "another candidate to lead after the leader was killed",
      );
      assert.ok(
        performance.now() - killedAt < 3000,
        "replaced within TTL + 1 s",
      );
      const secondName = ["two", "three"][second.i]!;
      assert.equal(await watcher.leader(), secondName);
      // Resign hands over at once.
      const writer = second.c.child.stdin.getWriter();
      await writer.write(new TextEncoder().encode("resign\n"));
      const resignedAt = performance.now();
      const third = await within(
        children[1 - second.i]!,
        5000,
        "the last candidate to lead after a resign",
      );
      assert.ok(performance.now() - resignedAt < 1000, "handed over at once");
      await second.c.child.status;
      await writer.close().catch(() => {});
      const thirdWriter = third.child.stdin.getWriter();
      await thirdWriter.write(new TextEncoder().encode("resign\n"));
      await third.child.status;
      await thirdWriter.close().catch(() => {});
      await second.c.lines.cancel();
      await third.lines.cancel();
      await until(
        () => seen.length > 0 && seen.at(-1) === undefined,
        5000,
        "the observer to see that nobody leads",
      );
      stop.abort();
      await observing;
      const names = ["one", "two", "three"];
      const leaders = seen.filter((value) => value !== undefined);
      assert.deepEqual(leaders, [
        "one",
        secondName,
        names.find((n) => n !== "one" && n !== secondName),
      ]);
      assert.equal(seen.at(-1), undefined, "nobody leads at the end");
    },
  );

  await t.step(
    "keepAlive keeps a key past its TTL; it expires after close or a kill",
    async () => {
      const alive = await keepAlive(client, "alive/me", "up", { ttl: 1 });
      await delay(2500);
      assert.equal(await exists(client, "alive/me"), true);
      await alive.close();
      await until(
        async () => !(await exists(client, "alive/me")),
        2200,
        "the key to expire after close()",
        100,
      );

      const other = await spawn(
        ["alive", etcd.endpoint, "alive/other", "1"],
        "alive",
      );
      await delay(2000);
      assert.equal(await exists(client, "alive/other"), true);
      other.child.kill("SIGKILL");
      await other.child.status;
      await other.lines.cancel();
      await until(
        async () => !(await exists(client, "alive/other")),
        2200,
        "the key to expire after its process was killed",
        100,
      );
    },
  );
});
