// A way off v2 (#23 item 7): etcd-migrate copies v2 keys to v3 keys of the
// same path on etcd 3.4 with --enable-v2=true, which serves both: v2 data
// in, v3 keys out, TTLs as leases with the time that remains.

import assert from "node:assert/strict";
import { main as migrate } from "../../cli/migrate.ts";
import { Client as V2Client } from "../../v2/mod.ts";
import { Client } from "../_v3.ts";
import { startEtcd } from "../../testing.ts";
import { runMain } from "../_cli.ts";
import { test } from "../_wait.ts";

const HIDDEN_NOTE =
  'etcd-migrate: note: etcd\'s v2 API hides keys with a segment starting with "_" from listings; any such key was not seen and is not copied\n';

test("etcd-migrate: v2 keys become v3 keys of the same path (etcd 3.4)", async (t) => {
  await using etcd = await startEtcd({ version: "3.4", enableV2: true });
  await using v2 = new V2Client({ endpoints: etcd.endpoint });
  await using v3 = new Client({ endpoints: etcd.endpoint });
  const endpoint = ["--endpoints", etcd.endpoint];
  await v2.set("/app/db/host", "db.internal");
  await v2.set("/app/db/port", "5432");
  await v2.set("/app/motd", "line one\nline two\n");
  await v2.set("/app/session", "abc", { ttl: 600 });
  await v2.mkdir("/app/empty");
  await v2.set("/app/_hidden", "not listed");
  await v2.set("/top", "");

  await t.step(
    "an empty directory fails it, listed; nothing written",
    async () => {
      const ran = await runMain(migrate, [...endpoint]);
      assert.equal(ran.code, 1);
      assert.equal(ran.stdout, "");
      assert.equal(
        ran.stderr,
        HIDDEN_NOTE +
          "etcd-migrate: cannot copy /app/empty/: an empty directory, and v3 has no directories\n" +
          'etcd-migrate: Cannot migrate "/": 1 empty directory (above); give --skip-unrepresentable to copy the rest without them; nothing was written\n',
      );
      assert.equal((await v3.range("", { prefix: true })).kvs.length, 0);
    },
  );

  await t.step("--dry-run shows the plan and writes nothing", async () => {
    const ran = await runMain(migrate, [
      "--dry-run",
      "--skip-unrepresentable",
      ...endpoint,
    ]);
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(
      ran.stdout,
      /^\+ \/app\/db\/host = "db.internal"\n\+ \/app\/db\/port = "5432"\n\+ \/app\/motd = "line one\\nline two\\n"\n\+ \/app\/session = "abc" \(lease of (59\d|600) s\)\n\+ \/top = ""\n! \/app\/empty\/ \(an empty directory: v3 has none\)\nplan: create 5, unchanged 0, conflicts 0, empty directories 1\n$/,
    );
    assert.equal((await v3.range("", { prefix: true })).kvs.length, 0);
  });

  await t.step(
    "every value arrives; a TTL is a lease of what remains",
    async () => {
      const ran = await runMain(migrate, [
        "--skip-unrepresentable",
        ...endpoint,
      ]);
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(ran.stdout, "created 5, unchanged 0, conflicts 0\n");
      assert.equal(
        ran.stderr,
        HIDDEN_NOTE +
          "etcd-migrate: left out /app/empty/: an empty directory, and v3 has no directories\n",
      );
      const { kvs } = await v3.range("", { prefix: true });
      assert.deepEqual(kvs.map((kv) => [kv.key, kv.value]), [
        ["/app/db/host", "db.internal"],
        ["/app/db/port", "5432"],
        ["/app/motd", "line one\nline two\n"],
        ["/app/session", "abc"],
        ["/top", ""],
      ]);
      const session = kvs.find((kv) => kv.key === "/app/session")!;
      assert.ok(session.lease !== undefined, "the TTL key has a lease");
      const { ttl } = await v3.lease.timeToLive(session.lease);
      assert.ok(ttl > 580 && ttl <= 600, `remaining ${ttl}`);
      for (const kv of kvs) {
        if (kv.key !== "/app/session") {
          assert.equal(kv.lease, undefined, kv.key);
        }
      }
    },
  );

  await t.step(
    "run again: unchanged; a v3 key that differs is a conflict",
    async () => {
      await v3.put("/app/db/port", "6543");
      const ran = await runMain(migrate, [
        "/app",
        "--skip-unrepresentable",
        ...endpoint,
      ]);
      assert.equal(ran.code, 1);
      assert.equal(ran.stdout, "created 0, unchanged 3, conflicts 1\n");
      assert.match(
        ran.stderr,
        /etcd-migrate: conflict: \/app\/db\/port: v3 holds "6543", v2 "5432"; not written\n/,
      );
      assert.equal((await v3.get("/app/db/port"))?.value, "6543");
    },
  );
});
