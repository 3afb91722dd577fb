// A read at a compacted or future revision on etcd 3.5, in the library and
// the tools: the error names the oldest revision etcd still has and the
// current one, not etcd's bare "mvcc: ..." text.

import assert from "node:assert/strict";
import { Compacted, FutureRevision } from "../../mod.ts";
import { Client } from "../_v3.ts";
import { main as dump } from "../../cli/dump.ts";
import { startEtcd } from "../../testing.ts";
import { runMain } from "../_cli.ts";
import { test } from "../_wait.ts";

test("v3: a compacted or future revision names the revisions there are", async (t) => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  const first = await client.put("rev/a", "1");
  await client.put("rev/a", "2");
  const compacted = await client.put("rev/a", "3");
  await client.compact(compacted.revision);
  const current = (await client.put("rev/b", "4")).revision;
  const oldest = compacted.revision;

  await t.step("the library: get, pages", async () => {
    const old = await client.get("rev/a", { revision: first.revision })
      .catch((error) => error);
    assert.ok(old instanceof Compacted, String(old));
    assert.equal(old.compactRevision, oldest);
    assert.equal(
      old.message,
      `"rev/a": revision ${first.revision} is compacted: the oldest revision etcd still has is ${oldest}, the current is ${current} (etcd v3 error OutOfRange)`,
    );
    const future = await client.get("rev/a", { revision: current + 10 })
      .catch((error) => error);
    assert.ok(future instanceof FutureRevision, String(future));
    assert.match(
      future.message,
      new RegExp(
        `revision ${
          current + 10
        } is in the future: the current revision is ${current}`,
      ),
    );
    const paged = await client.pages("rev/", { revision: first.revision })
      .next().catch((error) => error);
    assert.ok(paged instanceof Compacted, String(paged));
    assert.match(
      paged.message,
      new RegExp(`oldest revision etcd still has is ${oldest}`),
    );
  });

  await t.step("etcd2yaml --revision", async () => {
    const endpoint = ["--endpoints", etcd.endpoint];
    const old = await runMain(dump, [
      "rev",
      "--revision",
      String(first.revision),
      ...endpoint,
    ]);
    assert.equal(old.code, 1);
    assert.match(
      old.stderr,
      new RegExp(
        `revision ${first.revision} is compacted: the oldest revision etcd still has is ${oldest}, the current is ${current}`,
      ),
    );
    assert.doesNotMatch(old.stderr, /mvcc/);
    const future = await runMain(dump, [
      "rev",
      "--revision",
      String(current + 10),
      ...endpoint,
    ]);
    assert.equal(future.code, 1);
    assert.match(
      future.stderr,
      new RegExp(`the current revision is ${current}`),
    );
    assert.doesNotMatch(future.stderr, /mvcc/);
  });

  await t.step("--rev, as etcdctl spells it", async () => {
    const endpoint = ["--endpoints", etcd.endpoint];
    const at = await runMain(dump, [
      "rev",
      "--rev",
      String(oldest),
      ...endpoint,
    ]);
    assert.equal(at.code, 0, at.stderr);
    assert.equal(
      at.stdout,
      `# etcd2yaml: "rev" at revision ${oldest}\na: "3"\n`,
    );
    const both = await runMain(dump, [
      "rev",
      "--rev",
      String(oldest),
      "--revision",
      String(oldest),
      ...endpoint,
    ]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /Invalid --rev: it is --revision/);
  });
});
