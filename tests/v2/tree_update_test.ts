// EtcdTree.update() refuses what is not an object before writing, and when
// several of its separate writes fail (v2 has no transactions) it says how
// many, with each error.

import assert from "node:assert/strict";
import { Client, EtcdTree, RequestTimeout } from "../../v2/mod.ts";
import { startEtcd } from "../../testing.ts";
import { startProxy } from "../_proxy.ts";
import { test } from "../_wait.ts";

test("v2: update() names bad input, and every write that failed", async (t) => {
  await using etcd = await startEtcd({ version: "3.4" });
  await using proxy = startProxy(etcd.clientPort);
  await using client = new Client({ endpoints: proxy.endpoint, timeout: 500 });
  await using tree = await EtcdTree.open(client, "u");

  await t.step("not an object", async () => {
    for (const value of [[1, 2], "text", null, new Date()]) {
      await assert.rejects(
        tree.update("cfg", value as unknown as Record<string, unknown>),
        /^TypeError: Invalid object for "cfg": expected a plain object/,
      );
    }
    await assert.rejects(
      tree.set("", "x"),
      /^TypeError: Invalid path "": name a key below the root/,
    );
    assert.equal(proxy.count("PUT", "/v2/keys/u"), 0, "nothing was sent");
  });

  await t.step("two writes that fail", async () => {
    // The writes reach the proxy and go no further: each times out.
    proxy.holdRequests((line) => line.startsWith("PUT /v2/keys/u/cfg/"));
    const error = await tree.update("cfg", { a: "1", b: "2", c: "3" })
      .then(() => undefined, (error) => error);
    assert.ok(error instanceof AggregateError, String(error));
    assert.equal(
      error.message,
      'Cannot update "cfg": 3 of 3 writes failed',
    );
    assert.equal(error.errors.length, 3);
    for (const each of error.errors) {
      assert.ok(each instanceof RequestTimeout, String(each));
    }
    assert.equal(tree.get("cfg/a"), undefined);
  });
});
