// A tree cut off while etcd forgets the history it needs re-reads the
// subtree when it is back; if that read fails (etcd slow to answer), it
// tries again until it succeeds, and ends showing exactly what etcd holds.
// Both protocols.

import assert from "node:assert/strict";
import { Client, EtcdTree } from "../../v2/mod.ts";
import { Client as V3Client } from "../_v3.ts";
import { storeOf } from "../../_core/store.ts";
import { BACKENDS } from "../_backends.ts";
import { startProxy } from "../_proxy.ts";
import { test, until, within } from "../_wait.ts";

/** The request that reads the whole subtree, per protocol. */
const SNAPSHOT: Record<string, (line: string) => boolean> = {
  v2: (line) =>
    line.startsWith("GET /v2/keys/r?") && /recursive=true/.test(line) &&
    !/wait=true/.test(line),
  // The subtree's key and first page come in a read-only transaction.
  v3: (line) =>
    line.startsWith("POST /v3/kv/txn") || line.startsWith("POST /v3/kv/range"),
};

for (const backend of BACKENDS) {
  test(`${backend.name}: a resync that fails is tried again`, async () => {
    await using running = await backend.start();
    await using proxy = startProxy(running.server.clientPort);
    const options = { endpoints: proxy.endpoint, timeout: 800 };
    await using cut = backend.name === "v2"
      ? new Client(options)
      : new V3Client({ ...options, transport: "gateway" }); // SNAPSHOT's requests
    const store = storeOf(running.client);
    const subtree = store.subtree("r");
    await store.put(subtree, "a", "1");
    await using tree = await EtcdTree.open(cut, "r");
    const states: string[] = [];
    let resyncs = 0;
    tree.addEventListener("state", (event) => states.push(event.state));
    tree.addEventListener("resync", () => resyncs++);

    proxy.block();
    await store.put(subtree, "a", "2");
    await store.put(subtree, "b", "3");
    await running.forgetHistory(store, subtree);
    // Back, but the first re-reads get no answer in time.
    proxy.holdRequests(SNAPSHOT[backend.name]!);
    proxy.unblock();
    await within(proxy.held, 20_000, "the tree to re-read the subtree");
    await until(
      () => states.includes("resyncing"),
      5000,
      "the tree to say it is resyncing",
    );
    await new Promise((resolve) => setTimeout(resolve, 1000)); // > timeout
    proxy.releaseRequests();
    await until(
      () => tree.get("b") === "3",
      20_000,
      "the tree to show what was written while it was cut off",
    );
    assert.equal(tree.get("a"), "2");
    assert.equal(resyncs, 1);
    assert.equal(tree.state, "live");
    assert.ok(!states.includes("out of sync"), states.join());
  });
}
