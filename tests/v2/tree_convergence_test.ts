// The mirror converges on etcd's state whatever happens meanwhile: four
// writers doing random work, etcd killed and restarted, and a loss of
// history that forces a re-read.

import assert from "node:assert/strict";
import {
  Client,
  ConnectionFailed,
  EtcdError,
  EtcdTree,
  RequestTimeout,
} from "../../v2/mod.ts";
import { test, until } from "../_wait.ts";
import { startEtcd } from "../../testing.ts";
import { startProxy } from "../_proxy.ts";
import { assertMirrors, delay } from "../_tree.ts";

const RUN_MS = 20_000;
const PREFIX = "conv";

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

/** One random write under the prefix. */
async function randomWrite(client: Client): Promise<void> {
  const dir = pick(["d0", "d1", "d2", "d3/e0", "d3/e1"]);
  const key = `${PREFIX}/${pick([dir + "/", ""])}${pick(["", "\ufeff"])}k${
    Math.floor(Math.random() * 8)
  }`;
  const ttl = Math.random() < 0.1 ? pick([1, 2]) : undefined;
  const options = ttl === undefined ? {} : { ttl };
  const roll = Math.random();
  if (roll < 0.40) {
    // Some start with U+FEFF, which a careless decoder drops.
    const bom = Math.random() < 0.2 ? "\ufeff" : "";
    await client.set(key, bom + String(Math.random()), options);
  } else if (roll < 0.55) {
    await client.create(key, "new", options);
  } else if (roll < 0.70) {
    await client.delete(key);
  } else if (roll < 0.74) {
    await client.delete(`${PREFIX}/${dir}`, { recursive: true });
  } else if (roll < 0.84) {
    await client.mkdir(`${PREFIX}/${dir}/sub${Math.floor(Math.random() * 3)}`, {
      ...options,
    });
  } else if (roll < 0.92) {
    await client.mkdir(`${PREFIX}/${dir}`, {
      prevExist: true,
      ttl: Math.random() < 0.5 ? null : 2,
    });
  } else {
    await client.append(`${PREFIX}/q`, "job", options);
  }
}

test("EtcdTree converges: 4 writers, a restart and history loss", async () => {
  await using etcd = await startEtcd();
  await using proxy = startProxy(etcd.clientPort);
  await using treeClient = new Client({ endpoints: proxy.endpoint });
  await using tree = await EtcdTree.open(treeClient, PREFIX, {
    retryFor: 60_000,
  });
  let changes = 0;
  tree.addEventListener("change", () => changes++);

  let stop = false;
  let written = 0;
  let failed = 0;
  const writers = Array.from({ length: 4 }, async () => {
    await using client = new Client({ endpoints: etcd.endpoint });
    while (!stop) {
      try {
        await randomWrite(client);
        written++;
      } catch (error) {
        // etcd's refusals, and the restart.
        if (
          !(error instanceof EtcdError || error instanceof ConnectionFailed ||
            error instanceof RequestTimeout)
        ) throw error;
        failed++;
        if (!(error instanceof EtcdError)) await delay(20);
      }
    }
  });

  const started = Date.now();
  await delay(5000);
  // etcd dies mid-run and comes back.
  await etcd.kill();
  await delay(1500);
  await etcd.start();
  await delay(3000);
  // The tree loses touch while more than etcd's 1000 events of history go by.
  const resyncsBefore = tree.resyncs;
  proxy.block();
  const blockedAt = written;
  await until(
    () => written - blockedAt >= 1200,
    30_000,
    "1200 writes while the tree is blocked",
  );
  proxy.unblock();
  await delay(Math.max(0, RUN_MS - (Date.now() - started)));
  stop = true;
  await Promise.all(writers);

  // Let every TTL run out (etcd expires keys about every 500 ms), then the
  // state is still; compare.
  await delay(3500);
  await using direct = new Client({ endpoints: etcd.endpoint });
  await assertMirrors(direct, tree);
  assert.ok(
    tree.resyncs > resyncsBefore,
    "the history loss made the tree re-read",
  );
  assert.ok(
    written > 5000,
    `the writers wrote (${written}, ${failed} refused)`,
  );
  assert.ok(changes > 1000, `the tree applied changes (${changes})`);
  assert.ok(tree.node("") !== undefined);
});
