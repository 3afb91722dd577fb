// Access on etcd 3.5 with auth on. A user whose role covers only `PREFIX/`
// (etcdctl's usual grant, `role grant-permission --prefix=true ROLE
// readwrite PREFIX/`): the tree and every tool work on PREFIX with exactly
// that, and a user without it is told which range and which etcdctl
// command. No user at all: told how to give one.

import assert from "node:assert/strict";
import { PermissionDenied, UserRequired } from "../../mod.ts";
import { Client } from "../_v3.ts";
import { EtcdTree } from "../../tree.ts";
import { type EtcdServer, startEtcd } from "../../testing.ts";
import { main as dump } from "../../cli/dump.ts";
import { main as load } from "../../cli/load.ts";
import { main as monitor } from "../../cli/monitor.ts";
import { dumpBody, runMain, testIo } from "../_cli.ts";
import { startView } from "../_view.ts";
import { until, within } from "../_wait.ts";
import { test } from "../_wait.ts";

const ROOT = { username: "root", password: "root-secret-5" };
/** May read and write `am/` only. */
const BOB = { username: "bob", password: "bob-secret-8" };
/** May read and write `am` and `am/`, not `am-x`. */
const CAROL = { username: "carol", password: "carol-secret-2" };
/** May read and write `other/` only. */
const DAVE = { username: "dave", password: "dave-secret-4" };

async function setUp(etcd: EtcdServer): Promise<void> {
  await using admin = new Client({ endpoints: etcd.endpoint });
  await admin.auth.users.add(ROOT.username, ROOT.password);
  await admin.auth.roles.add("root");
  await admin.auth.users.grant("root", "root");
  const role = async (name: string, keys: string[], prefix: boolean[]) => {
    await admin.auth.roles.add(name);
    for (const [i, key] of keys.entries()) {
      await admin.auth.roles.grant(name, {
        type: "readwrite",
        key,
        prefix: prefix[i]!,
      });
    }
  };
  await role("am-below", ["am/"], [true]);
  await role("am-both", ["am", "am/"], [false, true]);
  await role("other", ["other/"], [true]);
  for (
    const [user, role] of [[BOB, "am-below"], [CAROL, "am-both"], [
      DAVE,
      "other",
    ]] as const
  ) {
    await admin.auth.users.add(user.username, user.password);
    await admin.auth.users.grant(user.username, role);
  }
  await admin.put("am/a", "1");
  await admin.put("am/d/x", "2");
  await admin.put("am-x", "not in the tree");
  await admin.put("am.x/y", "not in the tree");
  await admin.auth.enable();
}

function flags(
  etcd: EtcdServer,
  user: { username: string; password: string },
): string[] {
  return [
    "--endpoints",
    etcd.endpoint,
    "--user",
    `${user.username}:${user.password}`,
  ];
}

test("v3: a role on PREFIX/ is enough for the tree and the tools", async (t) => {
  await using etcd = await startEtcd({ version: "3.5" });
  await setUp(etcd);
  await using root = new Client({ endpoints: etcd.endpoint, auth: ROOT });

  for (const user of [BOB, CAROL]) {
    await using client = new Client({ endpoints: etcd.endpoint, auth: user });

    await t.step(
      `${user.username}: the tree reads, follows and writes`,
      async () => {
        await using tree = await EtcdTree.open(client, "am", {
          retryFor: 5000,
        });
        assert.deepEqual(tree.toObject(), { a: "1", d: { x: "2" } });
        await root.put("am/b", user.username);
        await root.put("am-y", "outside");
        await until(() => tree.get("b") === user.username, 10_000, "the put");
        assert.equal(tree.state, "live");
        await tree.set("c", "mine");
        assert.equal((await root.get("am/c"))?.value, "mine");
        await tree.delete("c");
        assert.equal(tree.state, "live");
        await root.delete("am/b");
      },
    );

    await t.step(`${user.username}: etcd2yaml and yaml2etcd`, async () => {
      const dumped = await runMain(dump, ["am", ...flags(etcd, user)]);
      assert.equal(dumped.code, 0, dumped.stderr);
      assert.equal(dumpBody(dumped.stdout), 'a: "1"\nd:\n  x: "2"\n');
      const loaded = await runMain(
        load,
        ["am", "-", ...flags(etcd, user)],
        'a: "1"\nd:\n  x: "2"\nn: "new"\n',
      );
      assert.equal(loaded.code, 0, loaded.stderr);
      assert.equal((await root.get("am/n"))?.value, "new");
      await root.delete("am/n");
    });

    await t.step(`${user.username}: etcdmon`, async () => {
      const stop = new AbortController();
      const mon = testIo("", stop.signal);
      const watching = monitor(["am", ...flags(etcd, user)], mon.io);
      await until(
        async () => {
          await root.put("am/probe", "x");
          return mon.stdout().includes("probe");
        },
        10_000,
        "etcdmon to watch",
      );
      stop.abort();
      assert.equal(await within(watching, 10_000, "etcdmon to end"), 0);
      assert.equal(mon.stderr(), "");
      await root.delete("am/probe");
    });

    await t.step(`${user.username}: the viewer`, async () => {
      const view = await startView(["am", "--port", "0", ...flags(etcd, user)]);
      try {
        const at = new URL(`/tree?token=${view.token}`, view.url);
        const tree = await (await fetch(at)).json();
        assert.deepEqual(
          tree.nodes.map(([path]: [string]) => path).sort(),
          ["a", "d", "d/x"],
        );
        assert.equal(tree.state, "live");
      } finally {
        await view.stop();
      }
    });
  }

  await t.step(
    "without it, the error names the range and the grant",
    async () => {
      await using client = new Client({ endpoints: etcd.endpoint, auth: DAVE });
      const error = await EtcdTree.open(client, "am").then(
        () => undefined,
        (error) => error,
      );
      assert.ok(error instanceof PermissionDenied, String(error));
      assert.match(error.message, /the keys under "am\/"/);
      assert.match(
        error.message,
        /etcdctl role grant-permission --prefix=true ROLE read am\//,
      );
      for (const tool of [dump, monitor]) {
        const ran = await runMain(tool, ["am", ...flags(etcd, DAVE)]);
        assert.equal(ran.code, 1);
        assert.match(
          ran.stderr,
          /the keys under "am\/".*etcdctl role grant-permission --prefix=true ROLE read am\//,
        );
      }
    },
  );

  await t.step("no user: how to give one", async () => {
    await using anonymous = new Client({ endpoints: etcd.endpoint });
    const error = await anonymous.get("am/a").catch((error) => error);
    assert.ok(error instanceof UserRequired, String(error));
    assert.match(error.message, /needs a user; give the client's auth option/);
    for (const tool of [dump, monitor]) {
      const ran = await runMain(tool, ["am", "--endpoints", etcd.endpoint]);
      assert.equal(ran.code, 1);
      assert.match(
        ran.stderr,
        /etcd requires a user \(its authentication is on\): give --user NAME or set ETCD_USER/,
      );
    }
    // etcdctl's variables give one too.
    const { io, stdout, stderr } = testIo();
    const env: Record<string, string> = {
      ETCDCTL_USER: BOB.username,
      ETCDCTL_PASSWORD: BOB.password,
    };
    io.env = (name) => env[name];
    assert.equal(
      await dump(["am", "--endpoints", etcd.endpoint], io),
      0,
      stderr(),
    );
    assert.match(dumpBody(stdout()), /^a: "1"/);
  });
});
