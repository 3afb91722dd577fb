import assert from "node:assert/strict";
import {
  AuthError,
  Client,
  EtcdTree,
  Unauthorized,
  Value,
} from "../../v2/mod.ts";
import { main as load } from "../../cli/load.ts";
import { main as dump } from "../../cli/dump.ts";
import { startEtcd } from "../../testing.ts";
import { dumpBody, runMain, runScript } from "../_cli.ts";
import { test } from "../_wait.ts";

const ROOT_PASSWORD = "root-Pa55-word";
const ALICE_PASSWORD = "alice-s3cret-xyz";

test("v2 auth against a real etcd", async (t) => {
  await using etcd = await startEtcd();
  await using admin = new Client({ endpoints: etcd.endpoint });
  await using root = new Client({
    endpoints: etcd.endpoint,
    auth: { username: "root", password: ROOT_PASSWORD },
  });
  await using alice = new Client({
    endpoints: etcd.endpoint,
    auth: { username: "alice", password: ALICE_PASSWORD },
  });
  /** Everything produced, to search for passwords. */
  const produced: string[] = [];

  await t.step("users, roles and the switch", async () => {
    assert.equal(await admin.auth.status(), false);
    assert.deepEqual(await admin.auth.users.create("root", ROOT_PASSWORD), {
      name: "root",
      roles: ["root"],
    });
    // A recursive read of /ro (a tree, a dump) needs the pattern "/ro*":
    // "/ro/*" covers single keys below it only.
    assert.deepEqual(
      await admin.auth.roles.create("reader", { read: ["/ro*"] }),
      { name: "reader", read: ["/ro*"], write: [] },
    );
    await admin.auth.users.create("alice", "first-password", {
      roles: ["reader"],
    });
    await admin.auth.users.setPassword("alice", ALICE_PASSWORD);
    await admin.set("ro/config", "on");
    await admin.auth.enable();
    assert.equal(await admin.auth.status(), true);

    // Only root administers now.
    const denied = await admin.auth.users.list().catch((error) => error);
    assert.ok(denied instanceof AuthError, String(denied));
    assert.equal(denied.status, 401);
    produced.push(String(denied));
    const users = await root.auth.users.list();
    assert.deepEqual(
      users.map((user) => [user.name, user.roles]).sort(),
      [["alice", ["reader"]], ["root", ["root"]]],
    );
    assert.deepEqual((await root.auth.roles.get("reader")).read, ["/ro*"]);
    await root.auth.roles.grant("reader", { read: ["/extra/*"] });
    assert.deepEqual((await root.auth.roles.get("reader")).read.sort(), [
      "/extra/*",
      "/ro*",
    ]);
    await root.auth.roles.revoke("reader", { read: ["/extra/*"] });
    await root.auth.roles.create("temp");
    await root.auth.users.grant("alice", ["temp"]);
    assert.deepEqual((await root.auth.users.get("alice")).roles.sort(), [
      "reader",
      "temp",
    ]);
    await root.auth.users.revoke("alice", ["temp"]);
    await root.auth.roles.delete("temp");
    assert.ok(
      !(await root.auth.roles.list()).some((role) => role.name === "temp"),
    );
    const missing = await root.auth.users.delete("nobody").catch((e) => e);
    assert.ok(missing instanceof AuthError);
    assert.match(missing.message, /nobody does not exist/);
  });

  await t.step("a role that may read but not write a prefix", async () => {
    const { node } = await alice.get("ro/config");
    assert.ok(node instanceof Value && node.value === "on");
    const error = await alice.set("ro/config", "off").catch((e) => e);
    assert.ok(error instanceof Unauthorized, String(error));
    assert.equal(error.errorCode, 110);
    produced.push(error.message, String(error), JSON.stringify(error));
    await root.set("ro/config", "off");
    assert.equal(((await alice.get("ro/config")).node as Value).value, "off");
    // A tree on the prefix reads, and its writes are refused.
    await using tree = await EtcdTree.open(alice, "ro");
    assert.equal(tree.get("config"), "off");
    const refused = await tree.set("config", "x").catch((e) => e);
    assert.ok(refused instanceof Unauthorized, String(refused));
    produced.push(String(refused));
    // A wrong password is refused as well.
    await using wrong = new Client({
      endpoints: etcd.endpoint,
      auth: { username: "alice", password: "not-" + ALICE_PASSWORD },
    });
    const bad = await wrong.set("ro/config", "y").catch((e) => e);
    assert.ok(bad instanceof Unauthorized);
    produced.push(String(bad), bad.stack ?? "");
  });

  await t.step("the command line: --user and ETCD_PASSWORD", async () => {
    const dumped = await runMain(dump, [
      "/ro",
      "--api",
      "v2",
      "--endpoints",
      etcd.endpoint,
      "--user",
      `alice:${ALICE_PASSWORD}`,
    ]);
    assert.equal(dumped.code, 0, dumped.stderr);
    assert.equal(dumpBody(dumped.stdout), 'config: "off"\n');
    const loaded = await runMain(
      load,
      [
        "/ro",
        "-",
        "--api",
        "v2",
        "--endpoints",
        etcd.endpoint,
        "--user",
        `alice:${ALICE_PASSWORD}`,
      ],
      "config: on\n",
    );
    assert.equal(loaded.code, 1);
    assert.match(loaded.stderr, /requires user authentication/);
    produced.push(dumped.stdout, dumped.stderr, loaded.stdout, loaded.stderr);
    const fromEnv = await runScript(
      "dump.ts",
      [
        "/ro",
        "--api",
        "v2",
        "--endpoints",
        etcd.endpoint,
      ],
      "",
      { ETCD_USER: "alice", ETCD_PASSWORD: ALICE_PASSWORD },
    );
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.equal(fromEnv.stdout, dumped.stdout);
    produced.push(fromEnv.stdout, fromEnv.stderr);
    const unreachable = await runMain(dump, [
      "/ro",
      "--api",
      "v2",
      "--endpoints",
      "http://127.0.0.1:9",
      "--user",
      `alice:${ALICE_PASSWORD}`,
    ]);
    assert.equal(unreachable.code, 1);
    produced.push(unreachable.stderr);
  });

  await t.step("credentials never appear in anything produced", async () => {
    const everything = produced.join("\n");
    assert.ok(everything.length > 200);
    assert.doesNotMatch(everything, new RegExp(ALICE_PASSWORD));
    assert.doesNotMatch(everything, new RegExp(ROOT_PASSWORD));
    // Nor in what the clients show of themselves.
    assert.doesNotMatch(Deno.inspect(alice, { depth: 10 }), /s3cret/);
    await root.auth.disable();
    assert.equal(await admin.auth.status(), false);
  });
});
