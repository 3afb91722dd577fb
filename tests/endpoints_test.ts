// Endpoints as users write them, against real etcd: a URL with a path is
// refused naming the path (etcd answers at the root), in the library and
// the tools.

import assert from "node:assert/strict";
import { Client as V2Client } from "../client.ts";
import { Client } from "../v3/mod.ts";
import { main as dump } from "../cli/dump.ts";
import { startEtcd } from "../testing.ts";
import { runMain } from "./_cli.ts";
import { test } from "./_wait.ts";

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
