// The recipes on etcd v3, against etcd's own: a Lock here and `etcdctl
// lock` exclude each other (a counter incremented without compare-and-swap
// ends exact), `etcdctl elect` and an Election here see each other's
// leader, fencing tokens guard writes, a lock whose key is deleted is lost,
// keepAlive on a lease, and software transactional memory.

import assert from "node:assert/strict";
import { Election, keepAlive, Lock } from "../../v2/mod.ts";
import { compare, op, stm, StmConflict } from "../../mod.ts";
import { Client } from "../_v3.ts";
import { type EtcdServer, startEtcd } from "../../testing.ts";
import { delay, test, until, within } from "../_wait.ts";

function etcdctl(etcd: EtcdServer, ...args: string[]): Deno.Command {
  return new Deno.Command(etcd.binary.replace(/etcd$/, "etcdctl"), {
    args: ["--endpoints", etcd.endpoint, ...args],
    stdout: "piped",
    stderr: "piped",
  });
}

test("recipes on etcd v3, beside etcd's own", async (t) => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });

  await t.step("Lock and etcdctl lock exclude each other", async () => {
    await client.put("counter", "0");
    const ctl = etcd.binary.replace(/etcd$/, "etcdctl");
    // Read, pause, write: without the lock, increments would be lost.
    const increment =
      `v=$(${ctl} --endpoints ${etcd.endpoint} get counter --print-value-only); sleep 0.02; ${ctl} --endpoints ${etcd.endpoint} put counter $((v+1)) >/dev/null`;
    const theirs = Array.from({ length: 2 }, async () => {
      for (let i = 0; i < 6; i++) {
        const output = await etcdctl(
          etcd,
          "lock",
          "counter-lock",
          "--",
          "sh",
          "-c",
          increment,
        ).output();
        assert.ok(output.success, new TextDecoder().decode(output.stderr));
      }
    });
    const ours = Array.from({ length: 2 }, async () => {
      await using other = new Client({ endpoints: etcd.endpoint });
      const lock = new Lock(other, "counter-lock", { ttl: 10 });
      assert.equal(lock.prefix, "counter-lock");
      for (let i = 0; i < 6; i++) {
        await lock.acquire({ timeout: 60_000 });
        try {
          const value = Number((await other.get("counter"))?.value);
          await delay(20);
          await other.put("counter", String(value + 1));
        } finally {
          await lock.release();
        }
      }
    });
    await within(Promise.all([...theirs, ...ours]), 120_000, "24 increments");
    assert.equal((await client.get("counter"))?.value, "24");
    assert.equal(
      (await client.range("counter-lock/", { prefix: true })).count,
      0,
      "every contender left",
    );
  });

  await t.step("a Lock waits while etcdctl holds it", async () => {
    const holding = etcdctl(etcd, "lock", "held-lock", "--", "sleep", "1.5")
      .spawn();
    await until(
      async () =>
        (await client.range("held-lock/", { prefix: true })).count === 1,
      5000,
      "etcdctl to take the lock",
    );
    const lock = new Lock(client, "held-lock", { ttl: 10 });
    const started = performance.now();
    await lock.acquire({ timeout: 10_000 });
    assert.ok(performance.now() - started > 800, "it waited for etcdctl");
    assert.ok((await holding.output()).success);
    const key = lock.key!;
    assert.match(key, /^held-lock\/[0-9a-f]+$/);
    const mine = await client.get(key);
    assert.equal(lock.fencingToken, mine?.createRevision);
    assert.equal(BigInt(`0x${mine!.lease}`).toString(16), key.split("/")[1]);
    await lock.release();
  });

  await t.step(
    "a leader whose key is rewritten in place (as Go's Proclaim does) stays the leader",
    async () => {
      await using other = new Client({ endpoints: etcd.endpoint });
      const leader = new Election(client, "proclaimed", { ttl: 10 });
      await leader.campaign("v1");
      const waiter = new Election(other, "proclaimed", { ttl: 10 });
      let led = false;
      const campaigning = waiter.campaign("w").then(() => led = true);
      await until(
        async () =>
          (await client.range("proclaimed/", { prefix: true })).count === 2,
        10_000,
        "the waiter to queue behind the leader",
      );
      // Same key, same lease, a new value: its mod revision is now the
      // newest of the queue, its create revision still the oldest.
      const kv = await client.get(leader.key!);
      const proclaimed = await etcdctl(
        etcd,
        "put",
        leader.key!,
        "v2",
        `--lease=${kv!.lease}`,
      ).output();
      assert.ok(
        proclaimed.success,
        new TextDecoder().decode(proclaimed.stderr),
      );
      assert.equal((await client.get(leader.key!))?.lease, kv!.lease);
      assert.equal(await waiter.leader(), "v2", "the leader's new value");
      assert.equal(await leader.leader(), "v2");
      // The waiter is woken by the change of the key before its own; it
      // must go back to waiting, not lead.
      await delay(1000);
      assert.equal(led, false, "the waiter leads beside the leader");
      assert.ok(leader.leading);
      await leader.resign();
      await within(campaigning, 10_000, "the waiter to lead after resign()");
      assert.ok(waiter.leading);
      assert.equal(await waiter.leader(), "w");
      await waiter.resign();
    },
  );

  await t.step(
    "etcdctl elect --listen sees our leader; we see theirs",
    async () => {
      await using election = new Election(client, "boss", { ttl: 10 });
      await election.campaign("deno-candidate");
      const listener = etcdctl(etcd, "elect", "--listen", "boss").spawn();
      const reader = listener.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      let seen = "";
      await within(
        (async () => {
          while (!seen.includes("deno-candidate")) {
            const { value, done } = await reader.read();
            if (done) break;
            seen += value;
          }
        })(),
        10_000,
        "etcdctl to print our leader",
      );
      assert.match(seen, /^boss\/[0-9a-f]+\ndeno-candidate\n/);
      listener.kill("SIGTERM");
      await reader.cancel();
      await listener.status;
      await listener.stderr.cancel();
      await election.resign();

      const theirs = etcdctl(etcd, "elect", "boss", "go-candidate").spawn();
      await until(
        async () => (await election.leader()) === "go-candidate",
        10_000,
        "etcdctl to lead",
      );
      const ours = new Election(client, "boss", { ttl: 10 });
      const campaigning = ours.campaign("deno-again");
      await delay(300);
      assert.equal(ours.leading, false, "etcdctl still leads");
      theirs.kill("SIGINT"); // etcdctl resigns on Ctrl-C
      await theirs.output();
      await within(campaigning, 15_000, "our candidate to lead next");
      assert.equal(await ours.leader(), "deno-again");
      assert.ok(ours.fencingToken! > 0);
      await ours.resign();
    },
  );

  await t.step(
    "a write fenced by the lock happens only while it is held",
    async () => {
      const lock = new Lock(client, "fenced", { ttl: 10 });
      await lock.acquire();
      const guarded = () =>
        client.txn({
          compare: [compare.held(lock)],
          success: [op.put("fenced-data", "by the holder")],
        });
      assert.ok((await guarded()).succeeded);
      const key = lock.key!;
      const token = lock.fencingToken!;
      // Someone deletes the lock key: the holder learns it lost the lock, and
      // its fenced writes fail.
      await client.delete(key);
      const lost = await within(lock.lost, 5000, "the lock to be lost");
      assert.match(lost.message, /its key was deleted/);
      assert.equal(lock.held, false);
      assert.throws(() => compare.held(lock), /not held/);
      const stale = await client.txn({
        compare: [compare.held({ key, fencingToken: token })],
        success: [op.put("fenced-data", "by a stale holder")],
      });
      assert.equal(stale.succeeded, false);
      assert.equal((await client.get("fenced-data"))?.value, "by the holder");
    },
  );

  await t.step("keepAlive holds a key by a lease past its TTL", async () => {
    const alive = await keepAlive(client, "alive/me", "up", { ttl: 2 });
    await delay(3000);
    const kv = await client.get("alive/me");
    assert.equal(kv?.value, "up");
    assert.match(kv?.lease ?? "none", /^[0-9a-f]{16}$/);
    await alive.close();
    await until(
      async () => (await client.get("alive/me")) === undefined,
      6000,
      "the key to expire once no longer kept",
    );
  });

  await t.step(
    "stm: concurrent transfers keep the total, increments are exact",
    async () => {
      await client.put("acct/a", "100");
      await client.put("acct/b", "100");
      await client.put("acct/count", "0");
      let retried = 0;
      const workers = Array.from({ length: 4 }, async (_, worker) => {
        await using own = new Client({ endpoints: etcd.endpoint });
        for (let i = 0; i < 8; i++) {
          const { attempts } = await stm(own, async (tx) => {
            const [from, to] = (worker + i) % 2 === 0
              ? ["acct/a", "acct/b"]
              : ["acct/b", "acct/a"];
            const balance = Number(await tx.get(from));
            const other = Number(await tx.get(to));
            await delay(2);
            tx.put(from, String(balance - 3));
            tx.put(to, String(other + 3));
            tx.put(
              "acct/count",
              String(Number(await tx.get("acct/count")) + 1),
            );
          }, { maxAttempts: 100 });
          retried += attempts - 1;
        }
      });
      await within(Promise.all(workers), 60_000, "32 transfers");
      const a = Number((await client.get("acct/a"))?.value);
      const b = Number((await client.get("acct/b"))?.value);
      assert.equal(a + b, 200, "no money made or lost");
      assert.equal((await client.get("acct/count"))?.value, "32");
      assert.ok(retried > 0, "some runs conflicted and ran again");
    },
  );

  await t.step(
    "stm: a conflict runs again on fresh data; serializable too",
    async () => {
      for (const isolation of ["snapshot", "serializable"] as const) {
        await client.put("stm/x", "1");
        let runs = 0;
        const result = await stm(client, async (tx) => {
          runs++;
          const x = Number(await tx.get("stm/x"));
          if (runs === 1) await client.put("stm/x", "10"); // someone else, meanwhile
          tx.put("stm/y", String(x * 2));
          return x;
        }, { isolation });
        assert.equal(result.attempts, 2);
        assert.equal(result.value, 10);
        assert.equal((await client.get("stm/y"))?.value, "20");
      }
      await assert.rejects(
        stm(client, async (tx) => {
          await tx.get("stm/x");
          await client.put("stm/x", String(Math.random()));
          tx.put("stm/z", "never");
        }, { maxAttempts: 3 }),
        StmConflict,
      );
      assert.equal(await client.get("stm/z"), undefined);
    },
  );

  await t.step(
    "stm: reads see the run's own writes; deletes, absent keys, bytes",
    async () => {
      await client.put("stm/gone", "soon");
      await client.put("stm/raw", Uint8Array.of(0xff, 0xfe));
      const { value, revision } = await stm(client, async (tx) => {
        const absent = await tx.get("stm/none");
        tx.put("stm/mine", "new");
        const mine = await tx.get("stm/mine");
        tx.delete("stm/gone");
        const gone = await tx.get("stm/gone");
        const raw = await tx.getBytes("stm/raw");
        const text = await tx.get("stm/raw").catch((error) => error.message);
        return { absent, mine, gone, raw, text };
      });
      assert.deepEqual(value, {
        absent: undefined,
        mine: "new",
        gone: undefined,
        raw: Uint8Array.of(0xff, 0xfe),
        text: "Cannot give the value as text: it is not UTF-8; use getBytes",
      });
      assert.equal((await client.get("stm/mine"))?.modRevision, revision);
      assert.equal(await client.get("stm/gone"), undefined);
      // A run that neither reads nor writes commits nothing.
      const idle = await stm(client, () => "nothing");
      assert.deepEqual(idle, { value: "nothing", revision: 0, attempts: 1 });
    },
  );
});
