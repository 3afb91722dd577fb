// A tree on etcd v3 converges on what etcd holds whatever happens
// meanwhile: four writers doing random work (puts, creates, deletes of keys
// and prefixes, transactions, leased keys that expire, binary values, and
// values with keys below them), etcd killed and restarted, and a
// compaction while the tree is cut off, which forces a re-read.

import assert from "node:assert/strict";
import { EtcdTree } from "../../v2/mod.ts";
import { errorKind } from "../../mod.ts";
import { Client } from "../_v3.ts";
import { startEtcd } from "../../testing.ts";
import { startProxy } from "../_proxy.ts";
import { random as seeded, testSeed } from "../_random.ts";
import { assertMirrorsV3, delay } from "../_tree.ts";
import { test, until } from "../_wait.ts";

const RUN_MS = 12_000;
const PREFIX = "conv";

/** One random write under the prefix. */
async function randomWrite(
  client: Client,
  random: () => number,
  lease: string,
): Promise<void> {
  const pick = <T>(items: readonly T[]) =>
    items[Math.floor(random() * items.length)]!;
  const dir = pick(["d0", "d1", "d2/e0", "d2/e1", ""]);
  // Some keys and values start with U+FEFF, which a careless decoder drops.
  const key = `${PREFIX}/${dir === "" ? "" : dir + "/"}${
    pick(["", "\ufeff"])
  }k${Math.floor(random() * 6)}`;
  const value = random() < 0.1
    ? new Uint8Array([0xff, Math.floor(random() * 256)])
    : pick(["", "\ufeff"]) + String(random());
  const roll = random();
  if (roll < 0.40) await client.put(key, value);
  else if (roll < 0.50) {
    await client.txn({
      compare: [{ key, target: "create", result: "==", operand: 0 }],
      success: [{ put: key, value: "new" }],
    });
  } else if (roll < 0.65) await client.delete(key);
  else if (roll < 0.68) {
    await client.delete(`${PREFIX}/${dir}`, { prefix: true });
  } else if (roll < 0.80) {
    await client.txn({
      success: Array.from({ length: 3 }, (_, i) => ({
        put: `${PREFIX}/t/${Math.floor(random() * 4)}${i}`,
        value: "txn",
      })),
    });
  } else if (roll < 0.88) {
    await client.put(key, "leased", { lease });
  } else {
    // A value where the tree may have a directory, or below a value.
    await client.put(`${PREFIX}/${pick(["d0", "d1", "d0/k1", "k2"])}`, "shape");
  }
}

test("EtcdTree on v3 converges: 4 writers, a restart and a compaction", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using proxy = startProxy(etcd.clientPort);
  await using treeClient = new Client({ endpoints: proxy.endpoint });
  await using tree = await EtcdTree.open(treeClient, PREFIX, {
    retryFor: 60_000,
  });
  let changes = 0;
  tree.addEventListener("change", () => changes++);
  const random = seeded(testSeed("tree_v3_convergence", 19));

  let stop = false;
  let written = 0;
  let refused = 0;
  const writers = Array.from({ length: 4 }, async () => {
    await using client = new Client({ endpoints: etcd.endpoint });
    let lease = "";
    while (!stop) {
      try {
        if (lease === "" || random() < 0.02) {
          lease = (await client.lease.grant(2)).id;
        }
        await randomWrite(client, random, lease);
        written++;
      } catch (error) {
        // The restart, and leases that expired.
        const kind = errorKind(error);
        if (kind !== "unavailable" && kind !== "not found") throw error;
        if (kind === "not found") lease = "";
        refused++;
        await delay(20);
      }
    }
  });

  const started = Date.now();
  await delay(3000);
  await etcd.kill();
  await delay(1000);
  await etcd.start();
  await delay(2000);
  // Cut off, the tree misses writes and the history they were in.
  const resyncsBefore = tree.resyncs;
  proxy.block();
  const blockedAt = written;
  await until(
    () => written - blockedAt >= 300,
    20_000,
    "300 writes while the tree is cut off",
  );
  await using direct = new Client({ endpoints: etcd.endpoint });
  const { revision } = await direct.put("elsewhere", "x");
  await direct.compact(revision);
  proxy.unblock();
  await delay(Math.max(0, RUN_MS - (Date.now() - started)));
  stop = true;
  await Promise.all(writers);

  // Let the leases run out, then the state is still; compare.
  await delay(3500);
  await assertMirrorsV3(direct, tree);
  assert.ok(tree.resyncs > resyncsBefore, "the compaction made it re-read");
  assert.ok(
    written > 1000,
    `the writers wrote (${written}, ${refused} refused)`,
  );
  assert.ok(changes > 500, `the tree applied changes (${changes})`);
});
