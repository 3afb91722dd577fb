// Endpoints and prefixes as users write them, against real etcd: a URL with
// a path is refused naming the path (etcd answers at the root); etcdctl's
// conventions: `host:port` endpoints and ETCDCTL_ENDPOINTS (after ours); a
// tree on `app` while the keys are under `/app` says so (`tree.hint`).

import assert from "node:assert/strict";
import { Client as V2Client } from "../../v2/mod.ts";
import { Client } from "../_v3.ts";
import { main as dump } from "../../cli/dump.ts";
import { EtcdTree } from "../../tree.ts";
import { startEtcd } from "../../testing.ts";
import { dumpBody, runMain, testIo } from "../_cli.ts";
import { test } from "../_wait.ts";

test("an endpoint with a path is refused, naming the path", async (t) => {
  await using etcd = await startEtcd({ version: "3.5" });
  const pathed = `${etcd.endpoint}/v3`;

  await t.step("the clients", () => {
    for (const Make of [Client, V2Client]) {
      assert.throws(
        () => new Make({ endpoints: pathed }),
        (error: Error) =>
          error instanceof TypeError &&
          error.message.includes('not below the path "/v3"') &&
          error.message.includes(`give "${etcd.endpoint}"`),
      );
    }
  });

  await t.step("the tools: a usage error, not v2's 404", async () => {
    const ran = await runMain(dump, ["app", "--endpoints", pathed]);
    assert.equal(ran.code, 2, ran.stderr);
    assert.match(ran.stderr, /not below the path "\/v3"/);
    assert.doesNotMatch(ran.stderr, /404|v2/);
  });
});

test("etcdctl's endpoints: host:port, ETCDCTL_ENDPOINTS", async (t) => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using v2etcd = await startEtcd({ version: "3.4" });
  const bare = etcd.endpoint.replace("http://", "");
  await using writer = new Client({ endpoints: etcd.endpoint });
  await writer.put("ep/k", "v");

  await t.step("host:port is http:// in the clients", async () => {
    await using client = new Client({ endpoints: bare });
    assert.equal((await client.get("ep/k"))?.value, "v");
    assert.deepEqual(client.endpoints, [etcd.endpoint]);
    await using v2 = new V2Client({
      endpoints: [v2etcd.endpoint.replace("http://", "")],
    });
    await v2.set("ep/k", "v2");
    const { node } = await v2.get("ep/k");
    assert.equal(node.dir ? undefined : node.value, "v2");
  });

  await t.step("ETCDCTL_ENDPOINTS, after ETCD_ENDPOINTS", async () => {
    const run = async (env: Record<string, string>) => {
      const { io, stdout, stderr } = testIo();
      io.env = (name) => env[name];
      const code = await dump(["ep"], io);
      return { code, stdout: stdout(), stderr: stderr() };
    };
    const etcdctl = await run({ ETCDCTL_ENDPOINTS: bare });
    assert.equal(etcdctl.code, 0, etcdctl.stderr);
    assert.equal(dumpBody(etcdctl.stdout), "k: v\n");
    const ours = await run({
      ETCD_ENDPOINTS: etcd.endpoint,
      ETCDCTL_ENDPOINTS: "127.0.0.1:1",
    });
    assert.equal(ours.code, 0, ours.stderr);
  });
});

test("a tree on a prefix spelled without the keys' leading slash says so", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  await client.put("/spelled/k", "v");
  await using empty = await EtcdTree.open(client, "spelled");
  assert.equal(
    empty.hint,
    'no v3 keys under "spelled", but there are under "/spelled" (v3 keys are bytes: a leading "/" is part of the key)',
  );
  await using full = await EtcdTree.open(client, "/spelled");
  assert.equal(full.hint, undefined);
  await using nowhere = await EtcdTree.open(client, "nothing");
  assert.equal(nowhere.hint, undefined);
});
