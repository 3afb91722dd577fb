// v3 authentication against real etcd: the admin API (users, roles,
// permissions on ranges, enable, status, disable), one token shared by all
// calls, renewed once and transparently when it expires (a 2-second token
// TTL), for calls, streams and watch reconnects alike, and passwords
// nowhere.

import assert from "node:assert/strict";
import {
  AlreadyExists,
  AuthFailed,
  errorKind,
  PermissionDenied,
  UserRequired,
} from "../../mod.ts";
import { Client, handled } from "../_v3.ts";
import { type EtcdServer, startEtcd } from "../../testing.ts";
import { startProxy } from "../_proxy.ts";
import { delay, take, test } from "../_wait.ts";

const ROOT_PASSWORD = "root-secret-71";
const ALICE_PASSWORD = "alice-secret-93";

/** Root and alice (who may read and write `app/`), then auth on. */
async function setUp(etcd: EtcdServer): Promise<void> {
  await using admin = new Client({ endpoints: etcd.endpoint });
  await admin.auth.users.add("root", ROOT_PASSWORD);
  await admin.auth.roles.add("root");
  await admin.auth.users.grant("root", "root");
  await admin.auth.roles.add("app");
  await admin.auth.roles.grant("app", {
    type: "readwrite",
    key: "app/",
    prefix: true,
  });
  await admin.auth.users.add("alice", ALICE_PASSWORD);
  await admin.auth.users.grant("alice", "app");
  await admin.auth.enable();
}

for (const version of ["3.5", "3.4"] as const) {
  test(`v3 auth on etcd ${version}`, async (t) => {
    await using etcd = await startEtcd({
      version,
      args: ["--auth-token-ttl", "2"],
    });
    await setUp(etcd);
    await using proxy = startProxy(etcd.clientPort);
    const authenticated = () => handled(etcd.endpoint, "Authenticate");

    await t.step("a user reads and writes what a role allows", async () => {
      await using alice = new Client({
        endpoints: proxy.endpoint,
        auth: { username: "alice", password: ALICE_PASSWORD },
      });
      await alice.put("app/k", "v");
      assert.equal((await alice.get("app/k"))?.value, "v");
      const error = await alice.put("other/k", "v").then(
        () => undefined,
        (error) => error,
      );
      assert.ok(error instanceof PermissionDenied, String(error));
      assert.equal(errorKind(error), "unauthorized");
      await assert.rejects(alice.get("other/k"), PermissionDenied);
    });

    await t.step("one token serves every call at once", async () => {
      const before = await authenticated();
      await using alice = new Client({
        endpoints: proxy.endpoint,
        auth: { username: "alice", password: ALICE_PASSWORD },
      });
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => alice.put(`app/many/${i}`, "x")),
      );
      assert.equal((await authenticated()) - before, 1);
    });

    await t.step(
      "an expired token is renewed once, transparently",
      async () => {
        await using alice = new Client({
          endpoints: proxy.endpoint,
          auth: { username: "alice", password: ALICE_PASSWORD },
        });
        await alice.put("app/t", "1");
        const before = await authenticated();
        await delay(3500); // idle past the 2-second TTL
        await alice.put("app/t", "2");
        assert.equal((await alice.get("app/t"))?.value, "2");
        assert.equal((await authenticated()) - before, 1);
      },
    );

    await t.step(
      "a kept lease is refreshed with the user's token",
      async () => {
        await using alice = new Client({
          endpoints: proxy.endpoint,
          auth: { username: "alice", password: ALICE_PASSWORD },
        });
        await using kept = await alice.lease.keepAlive(2);
        await alice.put("app/leased", "1", { lease: kept.id });
        await delay(3000); // past the lease's TTL of 2 s
        assert.ok(kept.active, "the lease is still kept");
        assert.equal((await alice.get("app/leased"))?.value, "1");
      },
    );

    await t.step(
      "a stream opened with an expired token renews it once and works",
      async () => {
        await using root = new Client({
          endpoints: proxy.endpoint,
          auth: { username: "root", password: ROOT_PASSWORD },
        });
        await root.put("app/s", "1");
        const before = await authenticated();
        await delay(3500); // idle past the 2-second TTL
        let size = 0;
        for await (const chunk of await root.maintenance.snapshot()) {
          size += chunk.length;
        }
        assert.ok(size > 0, "the snapshot has bytes");
        assert.equal((await authenticated()) - before, 1);
      },
    );

    await t.step("a watch reconnects with a renewed token", async () => {
      await using alice = new Client({
        endpoints: proxy.endpoint,
        auth: { username: "alice", password: ALICE_PASSWORD },
        timeout: 1000,
      });
      await using root = new Client({
        endpoints: etcd.endpoint,
        auth: { username: "root", password: ROOT_PASSWORD },
      });
      const start = await root.put("app/w/seed", "0");
      await using watcher = alice.watch("app/w/", {
        prefix: true,
        startRevision: start.revision + 1,
      });
      const events = watcher[Symbol.asyncIterator]();
      await root.put("app/w/1", "a");
      await take(events, 1, 5000, "an event");
      const before = await authenticated();
      await delay(3500); // the token expires while the watch is open
      proxy.cut();
      await root.put("app/w/2", "b");
      const [event] = await take(events, 1, 10_000, "an event after the cut");
      assert.equal(event!.kv.value, "b");
      assert.ok(
        (await authenticated()) - before >= 1,
        "a new token was fetched",
      );
    });

    await t.step("a wrong password fails, and is never shown", async () => {
      const wrong = "wrong-password-55";
      await using client = new Client({
        endpoints: etcd.endpoint,
        auth: { username: "alice", password: wrong },
      });
      const error = await client.get("app/k").then(
        () => undefined,
        (error) => error,
      );
      assert.ok(error instanceof AuthFailed, String(error));
      assert.equal(errorKind(error), "unauthorized");
      const shown = `${error.message} ${error.stack} ${Deno.inspect(error)} ${
        Deno.inspect(client, { depth: 10, showHidden: true })
      }`;
      assert.ok(!shown.includes(wrong), "the password is not shown");
      assert.ok(!shown.includes(ALICE_PASSWORD));
    });

    await t.step("without credentials, etcd asks for a user", async () => {
      await using anonymous = new Client({ endpoints: etcd.endpoint });
      const error = await anonymous.get("app/k").catch((error) => error);
      assert.ok(error instanceof UserRequired, String(error));
      assert.equal(errorKind(error), "unauthorized");
    });

    await t.step("the admin API: users, roles, permissions", async () => {
      await using root = new Client({
        endpoints: etcd.endpoint,
        auth: { username: "root", password: ROOT_PASSWORD },
      });
      assert.deepEqual((await root.auth.users.list()).sort(), [
        "alice",
        "root",
      ]);
      assert.deepEqual((await root.auth.users.get("alice")).roles, ["app"]);
      assert.deepEqual((await root.auth.roles.list()).sort(), ["app", "root"]);
      const { permissions } = await root.auth.roles.get("app");
      assert.equal(permissions.length, 1);
      assert.equal(permissions[0]!.type, "readwrite");
      assert.deepEqual(new TextDecoder().decode(permissions[0]!.key), "app/");
      assert.deepEqual(new TextDecoder().decode(permissions[0]!.end), "app0");
      await root.auth.roles.add("reader");
      await root.auth.roles.grant("reader", {
        type: "read",
        key: "pub/",
        prefix: true,
      });
      await root.auth.users.add("bob", "bob-secret");
      const twice = await root.auth.users.add("bob", "again").catch((e) => e);
      assert.ok(twice instanceof AlreadyExists, String(twice));
      assert.equal(errorKind(twice), "exists");
      assert.match(twice.message, /user name already exists/);
      await root.auth.users.grant("bob", "reader");
      await root.put("pub/k", "public");
      {
        await using bob = new Client({
          endpoints: etcd.endpoint,
          auth: { username: "bob", password: "bob-secret" },
        });
        assert.equal((await bob.get("pub/k"))?.value, "public");
        await assert.rejects(bob.put("pub/k", "x"), PermissionDenied);
        await root.auth.roles.revoke("reader", { key: "pub/", prefix: true });
        await assert.rejects(bob.get("pub/k"), PermissionDenied);
        await root.auth.users.changePassword("bob", "bob-new");
      }
      {
        await using bob = new Client({
          endpoints: etcd.endpoint,
          auth: { username: "bob", password: "bob-secret" },
        });
        await assert.rejects(bob.get("pub/k"), AuthFailed);
      }
      await root.auth.users.revoke("bob", "reader");
      await root.auth.users.delete("bob");
      await root.auth.roles.delete("reader");
      assert.deepEqual((await root.auth.users.list()).sort(), [
        "alice",
        "root",
      ]);
      if (version === "3.5") {
        const status = await root.auth.status();
        assert.equal(status.enabled, true);
        assert.ok(status.authRevision > 0);
      }
      await root.auth.disable();
      await using anonymous = new Client({ endpoints: etcd.endpoint });
      assert.equal((await anonymous.get("pub/k"))?.value, "public");
    });

    await t.step(
      "credentials on a server without auth are harmless",
      async () => {
        // Auth is off now: the client goes on without a token.
        await using alice = new Client({
          endpoints: etcd.endpoint,
          auth: { username: "alice", password: ALICE_PASSWORD },
        });
        await alice.put("other/k", "free");
        assert.equal((await alice.get("other/k"))?.value, "free");
      },
    );
  });
}
