// The demo that the README's quick start runs: on a throwaway etcd 3.5, and
// against a user's own etcd under a prefix it refuses to touch when in use.

import assert from "node:assert/strict";
import { Client } from "../_v3.ts";
import { startEtcd } from "../../testing.ts";
import { runScript } from "../_cli.ts";

// What each part of the tour prints when it works.
const TOUR = [
  /put and get:\n {2}\S+\/app\/db\/port = "5432" \(revision \d+, version 1\)/,
  /a prefix range: .*\n(?: {2}.*\n){4} {2}\(4 keys, read at revision \d+\)/,
  /first writer, same revision as read: succeeded=true/,
  /second writer, stale revision: succeeded=false; the key is \S+ = "6432"/,
  /revision \d+: put \S+\/users\/ada = "owner" \(was "admin"\)/,
  /revision \d+: delete \S+\/users\/grace \(was "editor"\)/,
  /lease \S+ granted for \d+ s/,
  /after \d+\.\d s: revision \d+: delete \S+\/session \(the lease expired\)/,
  /db\/port = 6432 \(a number\), features\/dark-mode = true/,
  /someone else wrote: updated name = "etcd-tree, live"/,
  /revision \d+, version 3: "8432"\n {2}revision \d+, version 2: "6432"\n {2}revision \d+, version 1: "5432"/,
];

Deno.test("the demo tours v3 on a throwaway etcd 3.5 and stops it", async () => {
  const ran = await runScript("demo.ts", []);
  assert.equal(ran.code, 0, ran.stderr);
  assert.match(
    ran.stdout,
    /^Started a throwaway etcd 3\.5\.\d+ at http:\/\/127\.0\.0\.1:(\d+)/,
  );
  for (const part of TOUR) assert.match(ran.stdout, part);
  const port = ran.stdout.match(/127\.0\.0\.1:(\d+)/)![1];
  await using client = new Client({
    endpoints: `http://127.0.0.1:${port}`,
    timeout: 500,
  });
  await assert.rejects(client.get("demo/app/name"), "etcd is still running");
});

Deno.test("the demo on your own etcd: a fresh prefix, removed afterwards, never one in use", async (t) => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  await client.put("mine", "kept");

  await t.step("a random prefix, deleted when done", async () => {
    const ran = await runScript("demo.ts", ["--endpoints", etcd.endpoint]);
    assert.equal(ran.code, 0, ran.stderr);
    const prefix = ran.stdout.match(/under (etcd-tree-demo-[0-9a-f]{8})\//)![1];
    for (const part of TOUR) assert.match(ran.stdout, part);
    assert.match(
      ran.stdout,
      new RegExp(`Deleted the \\d+ demo keys under ${prefix}/`),
    );
    const { kvs } = await client.range("", { prefix: true });
    assert.deepEqual(kvs.map((kv) => [kv.key, kv.value]), [["mine", "kept"]]);
  });

  await t.step(
    "a prefix that holds keys is refused, nothing written",
    async () => {
      await client.put("taken/x", "theirs");
      const before = (await client.get("taken/x"))!.modRevision;
      const ran = await runScript("demo.ts", [
        "--endpoints",
        etcd.endpoint,
        "--prefix",
        "taken",
      ]);
      assert.equal(ran.code, 1);
      assert.match(
        ran.stderr,
        /taken\/ already holds 1 keys in .*; not touching it/,
      );
      const { kvs, header } = await client.range("", { prefix: true });
      assert.equal(header.revision, before);
      assert.equal(kvs.length, 2);
    },
  );

  await t.step("bad usage exits 2", async () => {
    const ran = await runScript("demo.ts", ["--prefix", "x/"]);
    assert.equal(ran.code, 2);
    assert.match(
      ran.stderr,
      /--prefix "x\/": give a name without a trailing "\/"/,
    );
  });
});
