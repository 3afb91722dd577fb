// v3 membership and maintenance against real etcd: the member list,
// endpoints learned from it, learners added, updated, refused promotion
// and removed; status, the NOSPACE alarm raised and disarmed, defragment,
// hashes, and a snapshot that etcdutl accepts.

import assert from "node:assert/strict";
import { errorKind, FailedPrecondition, NoSpace, NotFound } from "../../mod.ts";
import { Client } from "../_v3.ts";
import { startCluster, startEtcd } from "../../testing.ts";
import { test, until } from "../_wait.ts";

/**
 * A membership change, tried again while etcd says "unhealthy cluster":
 * it takes them only once every member has been connected for a while.
 */
async function settled<T>(change: () => Promise<T>): Promise<T> {
  let result: { value: T } | undefined;
  await until(
    async () => {
      try {
        result = { value: await change() };
        return true;
      } catch (error) {
        if (errorKind(error) === "unavailable") return false;
        throw error;
      }
    },
    15_000,
    "etcd to take a membership change",
  );
  return result!.value;
}

test("v3 membership on a 3-member cluster", async (t) => {
  await using cluster = await startCluster(3, { version: "3.5" });
  await using client = new Client({ endpoints: cluster.members[0]!.endpoint });

  await t.step("the member list names every member", async () => {
    const members = await client.cluster.members();
    assert.deepEqual(
      members.map((member) => member.name).sort(),
      ["etcd0", "etcd1", "etcd2"],
    );
    assert.deepEqual(
      members.flatMap((member) => member.clientURLs).sort(),
      [...cluster.endpoints].sort(),
    );
    for (const member of members) {
      assert.match(member.id, /^\d+$/);
      assert.equal(BigInt(member.id).toString(16), member.idHex);
      assert.equal(member.isLearner, false);
    }
  });

  await t.step("sync learns every member's endpoint", async () => {
    const endpoints = await client.sync();
    assert.equal(
      endpoints[0],
      cluster.members[0]!.endpoint,
      "the one in use first",
    );
    assert.deepEqual([...endpoints].sort(), [...cluster.endpoints].sort());
  });

  await t.step(
    "a learner is added, updated, refused promotion, removed",
    async () => {
      const learner = await settled(() =>
        client.cluster.add(["http://127.0.0.1:1"], { learner: true })
      );
      assert.equal(learner.isLearner, true);
      assert.deepEqual(learner.peerURLs, ["http://127.0.0.1:1"]);
      await settled(() =>
        client.cluster.update(learner.id, ["http://127.0.0.1:2"])
      );
      const listed = (await client.cluster.members()).find((member) =>
        member.id === learner.id
      );
      assert.deepEqual(listed?.peerURLs, ["http://127.0.0.1:2"]);
      assert.equal(listed?.name, "", "never started, so unnamed");
      const refused = await client.cluster.promote(learner.id).then(
        () => undefined,
        (error) => error,
      );
      assert.ok(refused instanceof FailedPrecondition, String(refused));
      await settled(() => client.cluster.remove(learner.id));
      assert.equal((await client.cluster.members()).length, 3);
      const missing = await client.cluster.remove(learner.id).then(
        () => undefined,
        (error) => error,
      );
      assert.ok(missing instanceof NotFound, String(missing));
      assert.equal(errorKind(missing), "not found");
    },
  );

  await t.step("the members' hashes agree", async () => {
    const { revision } = await client.put("h/k", "v");
    const hashes = await Promise.all(cluster.members.map(async (member) => {
      await using one = new Client({ endpoints: member.endpoint });
      await until(
        async () =>
          (await one.get("h/k", { serializable: true })) !== undefined,
        5000,
        `${member.name} to apply the write`,
      );
      return await one.maintenance.hashKV(revision);
    }));
    assert.equal(new Set(hashes.map((h) => h.hash)).size, 1);
    for (const hash of hashes) {
      assert.equal(hash.hashRevision, revision);
      assert.equal(hash.compactRevision, -1, "never compacted");
    }
  });
});

test("v3 maintenance on one member", async (t) => {
  await using etcd = await startEtcd({
    version: "3.5",
    args: ["--quota-backend-bytes", String(256 * 1024)],
  });
  await using client = new Client({ endpoints: etcd.endpoint });

  await t.step("status says the version, leader and sizes", async () => {
    const status = await client.maintenance.status();
    assert.equal(status.version, etcd.version);
    assert.equal(status.leader, status.header.memberId);
    assert.ok(status.dbSize > 0 && status.dbSizeInUse <= status.dbSize);
    assert.ok(status.raftIndex >= status.raftAppliedIndex - 1);
    assert.deepEqual(status.errors, []);
    assert.deepEqual(await client.maintenance.alarms(), []);
    assert.ok((await client.maintenance.hash()) > 0);
    const version = await client.version();
    assert.equal(version.etcdserver, etcd.version);
    assert.equal(version.etcdcluster, "3.5.0");
  });

  await t.step("a snapshot is whole: etcdutl reads it", async () => {
    for (let i = 0; i < 50; i++) await client.put(`snap/${i}`, `${i}`);
    const dir = await Deno.makeTempDir();
    try {
      const file = `${dir}/backup.db`;
      const size = await client.maintenance.snapshotTo(file);
      assert.equal((await Deno.stat(file)).size, size);
      assert.deepEqual(
        [...Deno.readDirSync(dir)].map((entry) => entry.name),
        ["backup.db"],
        "no temporary file left",
      );
      const etcdutl = etcd.binary.replace(/etcd$/, "etcdutl");
      const output = await new Deno.Command(etcdutl, {
        args: ["snapshot", "status", file, "-w", "json"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(output.success, new TextDecoder().decode(output.stderr));
      const status = JSON.parse(new TextDecoder().decode(output.stdout));
      const { revision } = await client.put("snap/after", "x");
      assert.equal(status.revision, revision - 1);
      assert.ok(status.totalKey >= 50);
      // A snapshot given up on leaves neither the file nor a part of it.
      const reason = new Error("not now");
      await assert.rejects(
        client.maintenance.snapshotTo(`${dir}/aborted.db`, {
          signal: AbortSignal.abort(reason),
        }),
        (error) => error === reason,
      );
      assert.deepEqual(
        [...Deno.readDirSync(dir)].map((entry) => entry.name),
        ["backup.db"],
        "nothing left of the aborted snapshot",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  await t.step(
    "a full database raises NOSPACE; disarmed, writes go on",
    async () => {
      // etcd measures its database as committed (every 100 ms): writes as
      // fast as gRPC's may all fit in one commit, so they go on until etcd
      // says it is full, for up to 10 s.
      const value = "x".repeat(16 * 1024);
      const stopAt = performance.now() + 10_000;
      let error: unknown;
      for (let i = 0; error === undefined && performance.now() < stopAt; i++) {
        error = await client.put(`full/${i % 200}`, value).then(
          () => undefined,
          (error) => error,
        );
      }
      assert.ok(error instanceof NoSpace, String(error));
      assert.equal(errorKind(error), "too large");
      const alarms = await client.maintenance.alarms();
      assert.deepEqual(alarms.map((alarm) => alarm.alarm), ["NOSPACE"]);
      // Reads and deletes still work; then compact, defragment, disarm.
      const { revision } = await client.delete("full/", { prefix: true });
      assert.ok(revision > 0);
      await client.compact(revision, { physical: true });
      await client.maintenance.defragment();
      const cleared = await client.maintenance.disarm();
      assert.deepEqual(cleared.map((alarm) => alarm.alarm), ["NOSPACE"]);
      await until(
        async () => (await client.maintenance.alarms()).length === 0,
        5000,
        "the alarm to clear",
      );
      await client.put("full/again", "fits");
      assert.equal((await client.get("full/again"))?.value, "fits");
    },
  );
});
