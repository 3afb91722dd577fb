// A compaction while etcd2yaml reads a subtree page by page at one revision:
// the dump fails naming the prefix, the revision compacted away and what to
// do, and writes nothing.

import assert from "node:assert/strict";
import { main as dump } from "../../cli/dump.ts";
import { Client } from "../_v3.ts";
import { startEtcd } from "../../testing.ts";
import { PAGE_KEYS } from "../../v3/_store.ts";
import { runMain } from "../_cli.ts";
import { startProxy } from "../_proxy.ts";
import { test, within } from "../_wait.ts";

test("a compaction during a dump names the prefix and the revision", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  // More keys than one page holds.
  for (let batch = 0; batch * 128 <= PAGE_KEYS; batch++) {
    await client.txn({
      success: Array.from({ length: 128 }, (_, i) => ({
        put: `dump/k${String(batch * 128 + i).padStart(6, "0")}`,
        value: "x",
      })),
    });
  }
  await client.put("small/k", "x");
  const { revision } = await client.put("dump/last", "x");
  // The proxy counts and holds HTTP/1.1 requests: the gateway's.
  await using proxy = startProxy(etcd.clientPort);
  // The ranges a dump asks before its second page: as many as a dump of a
  // subtree of one page asks in all (what it asks besides pages may change).
  const small = await runMain(dump, [
    "small",
    "--endpoints",
    proxy.endpoint,
    "--transport",
    "gateway",
  ]);
  assert.equal(small.code, 0, small.stderr);
  const before = proxy.count("POST", "/v3/kv/range");
  // The second page waits until the compaction is done.
  let ranges = 0;
  proxy.holdRequests((line) =>
    line.startsWith("POST /v3/kv/range") && ++ranges === before + 1
  );
  const running = runMain(dump, [
    "dump",
    "--endpoints",
    proxy.endpoint,
    "--transport",
    "gateway",
  ]);
  await within(proxy.held, 20_000, "the second page to be asked for");
  const later = await client.put("elsewhere", "x");
  await client.compact(later.revision);
  proxy.releaseRequests();
  const ran = await within(running, 20_000, "the dump to end");
  assert.equal(ran.code, 1);
  assert.equal(ran.stdout, "");
  assert.ok(
    proxy.count("POST", "/v3/kv/range") >= 2 * before + 1,
    "the second page was asked for",
  );
  assert.equal(
    ran.stderr,
    `etcd2yaml: Cannot dump "dump": etcd compacted its history past revision ${revision} while the dump read it (every page is read at that one revision); run it again to dump as of now\n`,
  );
  const past = await runMain(dump, [
    "dump",
    "--revision",
    String(revision),
    "--endpoints",
    etcd.endpoint,
  ]);
  assert.equal(past.code, 1);
  assert.match(
    past.stderr,
    new RegExp(
      `^etcd2yaml: Cannot dump "dump" as of revision ${revision}: revision ${revision} is compacted: the oldest revision etcd still has is \\d+, the current is \\d+; give a newer --revision, or none to dump as of now\n$`,
    ),
  );
});
