// The v3 client's key-value calls against real etcd: ranges with every
// option, pages at a pinned revision, puts and deletes with their options,
// transactions, compaction, bytes, namespaces and etcd's errors. What the
// two gateways do differently runs on 3.4 and 3.5.

import assert from "node:assert/strict";
import {
  Compacted,
  type Compare,
  compare,
  DuplicateKey,
  errorKind,
  FutureRevision,
  InvalidArgument,
  type KeyValue,
  LeaseNotFound,
  op,
  RequestTooLarge,
  TooManyTxnOps,
} from "../../mod.ts";
import { Client } from "../_v3.ts";
import { startEtcd } from "../../testing.ts";
import { test } from "../_wait.ts";

const texts = (kvs: readonly KeyValue[]) =>
  kvs.map((kv) => `${kv.key}=${kv.value}`);

for (const version of ["3.5", "3.4"] as const) {
  test(`v3 key-value calls on etcd ${version}`, async (t) => {
    await using etcd = await startEtcd({
      version,
      args: ["--max-txn-ops", "16", "--max-request-bytes", "65536"],
    });
    await using client = new Client({ endpoints: etcd.endpoint });

    await t.step("put and get, with revisions and versions", async () => {
      const first = await client.put("kv/a", "1");
      const second = await client.put("kv/a", "2", { prevKv: true });
      assert.ok(second.revision > first.revision);
      assert.equal(second.prevKv?.value, "1");
      assert.equal(second.prevKv?.modRevision, first.revision);
      const kv = await client.get("kv/a");
      assert.equal(kv?.value, "2");
      assert.equal(kv?.createRevision, first.revision);
      assert.equal(kv?.modRevision, second.revision);
      assert.equal(kv?.version, 2);
      assert.equal(kv?.lease, undefined, "no lease is no lease ID");
      assert.equal(await client.get("kv/missing"), undefined);
      // The past: as of the first write.
      const past = await client.get("kv/a", { revision: first.revision });
      assert.equal(past?.value, "1");
    });

    await t.step("a range with every option", async () => {
      for (const key of ["r/a", "r/b", "r/c", "r/d", "r0"]) {
        await client.put(key, key.toUpperCase());
      }
      const all = await client.range("r/", { prefix: true });
      assert.deepEqual(texts(all.kvs), [
        "r/a=R/A",
        "r/b=R/B",
        "r/c=R/C",
        "r/d=R/D",
      ]);
      assert.equal(all.count, 4);
      assert.equal(all.more, false);
      const limited = await client.range("r/", { prefix: true, limit: 2 });
      assert.deepEqual(texts(limited.kvs), ["r/a=R/A", "r/b=R/B"]);
      assert.equal(limited.more, true);
      assert.equal(limited.count, 4);
      const exact = await client.range("r/", { prefix: true, limit: 4 });
      assert.equal(exact.more, false, "exactly the limit is not more");
      const descending = await client.range("r/", {
        prefix: true,
        sortOrder: "descend",
        sortTarget: "key",
      });
      assert.deepEqual(texts(descending.kvs)[0], "r/d=R/D");
      const from = await client.range("r/c", { fromKey: true });
      assert.deepEqual(from.kvs.map((kv) => kv.key), ["r/c", "r/d", "r0"]);
      const between = await client.range("r/b", { end: "r/d" });
      assert.deepEqual(between.kvs.map((kv) => kv.key), ["r/b", "r/c"]);
      const keysOnly = await client.range("r/", {
        prefix: true,
        keysOnly: true,
      });
      assert.deepEqual(keysOnly.kvs.map((kv) => kv.valueBytes.length), [
        0,
        0,
        0,
        0,
      ]);
      const counted = await client.range("r/", {
        prefix: true,
        countOnly: true,
      });
      assert.deepEqual(counted.kvs, []);
      assert.equal(counted.count, 4);
      const serializable = await client.range("r/", {
        prefix: true,
        serializable: true,
      });
      assert.equal(serializable.count, 4);
      const b = await client.get("r/b");
      const newer = await client.range("r/", {
        prefix: true,
        minModRevision: b!.modRevision + 1,
      });
      assert.deepEqual(newer.kvs.map((kv) => kv.key), ["r/c", "r/d"]);
      assert.equal(newer.count, 4, "etcd counts before the filter");
      const older = await client.range("r/", {
        prefix: true,
        maxCreateRevision: b!.createRevision,
      });
      assert.deepEqual(older.kvs.map((kv) => kv.key), ["r/a", "r/b"]);
      const byVersion = await client.range("r/", {
        prefix: true,
        minCreateRevision: b!.createRevision,
        maxModRevision: b!.modRevision,
      });
      assert.deepEqual(byVersion.kvs.map((kv) => kv.key), ["r/b"]);
      const everything = await client.range("", {
        prefix: true,
        countOnly: true,
      });
      assert.ok(everything.count >= 5);
    });

    await t.step("pages walk a prefix at one revision", async () => {
      for (let i = 0; i < 25; i++) {
        await client.put(`p/${String(i).padStart(2, "0")}`, `${i}`);
      }
      const walk = client.pages("p/", { pageSize: 10 });
      const first = await walk.next();
      assert.equal(first.value?.length, 10);
      // Written during the walk: not part of it.
      await client.put("p/00", "changed");
      await client.put("p/99", "new");
      const rest: KeyValue[] = [];
      for await (const page of walk) rest.push(...page);
      assert.equal(rest.length, 15);
      assert.equal(first.value?.[0]?.value, "0");
      assert.ok(!rest.some((kv) => kv.key === "p/99"));
    });

    await t.step(
      "a walk whose revision is compacted fails clearly",
      async () => {
        const walk = client.pages("p/", { pageSize: 10 });
        const first = await walk.next();
        const revision = first.value![0]!.modRevision;
        const { revision: now } = await client.put("p/compact", "x");
        await client.compact(now);
        const error = await walk.next().then(() => undefined, (error) => error);
        assert.ok(error instanceof Compacted, String(error));
        assert.equal(errorKind(error), "history lost");
        assert.ok(revision > 0);
      },
    );

    await t.step("put with a lease, ignoreValue and ignoreLease", async () => {
      const lease = await client.lease.grant(60);
      await client.put("opt/k", "v", { lease: lease.id });
      assert.equal((await client.get("opt/k"))?.lease, lease.id);
      await client.put("opt/k", "w", { ignoreLease: true });
      const leased = await client.get("opt/k");
      assert.equal(leased?.value, "w");
      assert.equal(leased?.lease, lease.id);
      // A put without a lease detaches the key; ignoreValue keeps the value.
      await client.put("opt/k", "", { ignoreValue: true });
      const kept = await client.get("opt/k");
      assert.equal(kept?.value, "w");
      assert.equal(kept?.version, 3);
      assert.equal(kept?.lease, undefined);
      await assert.rejects(
        client.put("opt/k", "x", { lease: "0x1234567" }),
        LeaseNotFound,
      );
      await assert.rejects(
        client.put("opt/none", "", { ignoreValue: true }),
        (error: Error) =>
          error instanceof InvalidArgument &&
          /key not found/.test(error.message) &&
          error.grpcName === "InvalidArgument" &&
          errorKind(error) === "invalid",
      );
      await client.lease.revoke(lease.id);
    });

    await t.step("delete a key, a prefix, with prevKv", async () => {
      await client.put("del/a", "1");
      await client.put("del/b", "2");
      await client.put("del/c/d", "3");
      const one = await client.delete("del/a", { prevKv: true });
      assert.equal(one.deleted, 1);
      assert.deepEqual(texts(one.prevKvs), ["del/a=1"]);
      const none = await client.delete("del/a");
      assert.equal(none.deleted, 0);
      const rest = await client.delete("del/", { prefix: true, prevKv: true });
      assert.equal(rest.deleted, 2);
      assert.deepEqual(texts(rest.prevKvs), ["del/b=2", "del/c/d=3"]);
      assert.equal((await client.range("del/", { prefix: true })).count, 0);
    });

    await t.step("a transaction on every compare target", async () => {
      const put = await client.put("txn/k", "v1");
      const lease = await client.lease.grant(60);
      await client.put("txn/leased", "x", { lease: lease.id });
      const checks = [
        compare.value("txn/k", "==", "v1"),
        compare.value("txn/k", "!=", "v2"),
        compare.version("txn/k", "==", 1),
        compare.version("txn/k", "<", 2),
        compare.createRevision("txn/k", "==", put.revision),
        compare.modRevision("txn/k", ">", put.revision - 1),
        compare.createRevision("txn/none", "==", 0),
        compare.lease("txn/leased", "==", lease.id),
      ];
      const result = await client.txn({
        compare: checks,
        success: [
          op.put("txn/k", "v2"),
          op.get("txn/k"),
          op.delete("txn/leased", { prevKv: true }),
          // etcd checks every compare, nested ones too, before any
          // operation runs: this one sees "v1".
          op.txn({
            compare: [compare.value("txn/k", "==", "v1")],
            success: [op.get("txn/k", { keysOnly: true })],
          }),
        ],
      });
      assert.ok(result.succeeded);
      assert.deepEqual(result.responses.map((r) => r.type), [
        "put",
        "get",
        "delete",
        "txn",
      ]);
      const [putResult, getResult, deleteResult, nested] = result.responses;
      assert.equal(putResult?.type, "put");
      assert.ok(getResult?.type === "get");
      assert.deepEqual(texts(getResult.result.kvs), ["txn/k=v2"]);
      assert.ok(deleteResult?.type === "delete");
      assert.equal(deleteResult.result.deleted, 1);
      assert.equal(deleteResult.result.prevKvs[0]?.value, "x");
      assert.ok(nested?.type === "txn");
      assert.ok(nested.result.succeeded, "the nested compare held");
      // Every compare must hold: one that does not runs the failure branch.
      // Now the key is "v2" at version 2: each of these no longer holds.
      const stale = [
        ...checks.slice(0, 4),
        compare.modRevision("txn/k", "==", put.revision),
        compare.createRevision("txn/k", "<", put.revision),
        compare.createRevision("txn/k", "==", 0),
        compare.lease("txn/leased", "==", lease.id),
      ];
      for (const failing of stale) {
        const failed = await client.txn({
          compare: [failing],
          success: [op.put("txn/k", "never")],
          failure: [op.get("txn/k")],
        });
        assert.equal(failed.succeeded, false);
        assert.ok(failed.responses[0]?.type === "get");
        assert.equal(failed.responses[0].result.kvs[0]?.value, "v2");
      }
      const empty = await client.txn({
        compare: [compare.value("txn/k", "==", "nope")],
        success: [op.put("txn/k", "never")],
      });
      assert.equal(empty.succeeded, false);
      assert.deepEqual(empty.responses, []);
      assert.equal((await client.get("txn/k"))?.value, "v2");
      await client.lease.revoke(lease.id);
    });

    await t.step(
      "a compare over a range holds for every key in it",
      async () => {
        await client.put("guard/a", "1");
        const last = await client.put("guard/b", "2");
        const untouched = (revision: number): Compare => ({
          key: "guard/",
          prefix: true,
          target: "mod",
          result: "<",
          operand: revision + 1,
        });
        const held = await client.txn({
          compare: [untouched(last.revision)],
          success: [op.put("guarded", "yes")],
        });
        assert.ok(held.succeeded, "nothing under guard/ changed");
        await client.put("guard/b", "3");
        const refused = await client.txn({
          compare: [untouched(last.revision)],
          success: [op.put("guarded", "no")],
        });
        assert.equal(refused.succeeded, false, "guard/b changed");
        // The same with an explicit end: [guard/a, guard/b) leaves b out.
        const narrow = await client.txn({
          compare: [{
            ...untouched(last.revision),
            prefix: false,
            key: "guard/a",
            end: "guard/b",
          }],
          success: [op.put("guarded", "narrow")],
        });
        assert.ok(narrow.succeeded, "guard/a did not change");
        assert.equal((await client.get("guarded"))?.value, "narrow");
      },
    );

    await t.step("etcd's transaction limits are typed errors", async () => {
      await assert.rejects(
        client.txn({
          success: Array.from(
            { length: 17 },
            (_, i) => op.put(`lim/${i}`, "x"),
          ),
        }),
        (error: Error) =>
          error instanceof TooManyTxnOps && errorKind(error) === "too large",
      );
      await assert.rejects(
        client.txn({ success: [op.put("lim/a", "1"), op.put("lim/a", "2")] }),
        DuplicateKey,
      );
      assert.equal((await client.range("lim/", { prefix: true })).count, 0);
    });

    await t.step("a request over etcd's limit is RequestTooLarge", async () => {
      const error = await client.put("big", "x".repeat(70_000)).then(
        () => undefined,
        (error) => error,
      );
      assert.ok(error instanceof RequestTooLarge, String(error));
      assert.equal(errorKind(error), "too large");
      assert.equal(await client.get("big"), undefined);
    });

    await t.step("compaction: the past before it is gone", async () => {
      const old = await client.put("cmp/k", "old");
      const now = await client.put("cmp/k", "new");
      await client.compact(now.revision, { physical: true });
      const error = await client.get("cmp/k", { revision: old.revision }).then(
        () => undefined,
        (error) => error,
      );
      assert.ok(error instanceof Compacted, String(error));
      assert.equal(
        (await client.get("cmp/k", { revision: now.revision }))?.value,
        "new",
      );
      await assert.rejects(
        client.get("cmp/k", { revision: now.revision + 1000 }),
        FutureRevision,
      );
      await assert.rejects(client.compact(old.revision), Compacted);
    });

    await t.step("keys and values are bytes, exactly", async () => {
      const key = new Uint8Array([0x62, 0x69, 0x6e, 0xff, 0xff]);
      const value = new Uint8Array(256).map((_, i) => i);
      await client.put(key, value);
      const kv = await client.get(key);
      assert.deepEqual(kv?.keyBytes, key);
      assert.deepEqual(kv?.valueBytes, value);
      assert.throws(() => kv?.value, /not UTF-8; use valueBytes/);
      assert.throws(() => kv?.key, /not UTF-8; use keyBytes/);
      // A prefix ending in 0xFF: its range end carries into the byte before.
      await client.put(new Uint8Array([0x62, 0x69, 0x6e, 0xff]), "short");
      await client.put(new Uint8Array([0x62, 0x69, 0x6f]), "after");
      const under = await client.range(
        new Uint8Array([0x62, 0x69, 0x6e, 0xff]),
        {
          prefix: true,
        },
      );
      assert.equal(under.count, 2);
      const text = "naïve ☃ \u{1F600}";
      await client.put(text, text);
      assert.equal((await client.get(text))?.value, text);
      await assert.rejects(
        () => client.put("lone\uD800", "x"),
        /lone surrogate/,
      );
      assert.deepEqual(kv?.toJSON().value, { base64: value.toBase64() });
    });

    await t.step("a namespace sees only its keys, relative", async () => {
      const tenant = client.namespace("tenant-7/");
      await tenant.put("a", "1");
      await tenant.put("b/c", "2");
      await client.put("tenant-8/a", "other");
      assert.deepEqual(texts((await tenant.range("", { prefix: true })).kvs), [
        "a=1",
        "b/c=2",
      ]);
      assert.equal((await client.get("tenant-7/a"))?.value, "1");
      const nested = tenant.namespace("b/");
      assert.equal((await nested.get("c"))?.value, "2");
      const result = await tenant.txn({
        compare: [compare.value("a", "==", "1")],
        success: [op.get("b/", { prefix: true })],
      });
      assert.ok(result.responses[0]?.type === "get");
      assert.deepEqual(texts(result.responses[0].result.kvs), ["b/c=2"]);
      assert.equal((await tenant.delete("", { prefix: true })).deleted, 2);
      assert.equal((await client.get("tenant-8/a"))?.value, "other");
      const lease = await tenant.lease.grant(30);
      await tenant.put("leased", "x", { lease: lease.id });
      const info = await client.lease.timeToLive(lease.id, { keys: true });
      assert.deepEqual(
        info.keys.map((key) => new TextDecoder().decode(key)),
        ["tenant-7/leased"],
      );
      await client.lease.revoke(lease.id);
    });

    await t.step("bad arguments are refused before sending", async () => {
      await assert.rejects(() => client.get(""), /it is empty/);
      await assert.rejects(
        () => client.range("a", { prefix: true, fromKey: true }),
        /give one of prefix, fromKey and end/,
      );
      await assert.rejects(
        () => client.range("a", { limit: -1 }),
        /Invalid limit -1/,
      );
      await assert.rejects(
        () =>
          client.txn({
            compare: [{
              key: "a",
              target: "mod",
              result: "=" as "==",
              operand: 1,
            }],
          }),
        /Invalid compare "="/,
      );
      await assert.rejects(
        () => client.put("a", "b", { lease: "12x" }),
        /Invalid lease "12x"/,
      );
    });
  });
}
