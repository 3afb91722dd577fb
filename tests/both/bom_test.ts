// A leading U+FEFF (a byte-order mark to a careless decoder) is part of a
// key or a value like any other character: get, range, watch, EtcdTree,
// etcd2yaml and yaml2etcd, etcdmon and the viewer give it back, on v3
// (etcd 3.5) and on v2 (etcd 3.4 --enable-v2).

import assert from "node:assert/strict";
import { Client as V2Client, EtcdTree, type Value } from "../../v2/mod.ts";
import { Client } from "../_v3.ts";
import { main as dump } from "../../cli/dump.ts";
import { main as load } from "../../cli/load.ts";
import { main as monitor } from "../../cli/monitor.ts";
import { startEtcd } from "../../testing.ts";
import { storeOf } from "../../_core/store.ts";
import { dumpBody, runMain, testIo } from "../_cli.ts";
import { startView } from "../_view.ts";
import { test, until, within } from "../_wait.ts";

const KEY = "\ufeffk";
const VALUE = "\ufeffv";
/** A second change, for what follows changes. */
const LATER = "\ufefflater";

/** What the tools see of the subtree `bom` (v2: `/bom`). */
async function checkTools(prefix: string, api: string[], endpoint: string) {
  const flags = ["--endpoints", endpoint, ...api];

  const dumped = await runMain(dump, [prefix, "--json", ...flags]);
  assert.equal(dumped.code, 0, dumped.stderr);
  assert.deepEqual(JSON.parse(dumpBody(dumped.stdout)), { [KEY]: VALUE });
  const yaml = await runMain(dump, [prefix, ...flags]);
  assert.equal(yaml.code, 0, yaml.stderr);
  const loaded = await runMain(
    load,
    [`${prefix}copy`, "-", ...flags],
    yaml.stdout,
  );
  assert.equal(loaded.code, 0, loaded.stderr);
  const again = await runMain(dump, [`${prefix}copy`, "--json", ...flags]);
  assert.deepEqual(JSON.parse(dumpBody(again.stdout)), { [KEY]: VALUE });

  const view = await startView([prefix, ...flags]);
  try {
    const url = new URL(`/tree?token=${view.token}`, view.url);
    const tree = await (await fetch(url)).json();
    const nodes = new Map(tree.nodes);
    assert.deepEqual([...nodes.keys()], [KEY]);
    assert.equal((nodes.get(KEY) as { raw: string }).raw, VALUE);
  } finally {
    await view.stop();
  }
}

/** Runs etcdmon --json while `write` writes; the changes it printed. */
async function monitored(
  prefix: string,
  api: string[],
  endpoint: string,
  since: number,
  count: number,
): Promise<Record<string, unknown>[]> {
  const stop = new AbortController();
  const mon = testIo("", stop.signal);
  const running = monitor([
    prefix,
    "--json",
    "--since",
    String(since),
    "--endpoints",
    endpoint,
    ...api,
  ], mon.io);
  await until(
    () => mon.stdout().split("\n").length > count,
    10_000,
    `${count} changes from etcdmon`,
  );
  stop.abort();
  assert.equal(await within(running, 10_000, "etcdmon to end"), 0);
  return mon.stdout().trim().split("\n").map((line) => JSON.parse(line));
}

test("v3: a leading U+FEFF in keys and values comes back everywhere", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  const first = await client.put(`bom/${KEY}`, VALUE);
  await client.put(KEY, VALUE);

  assert.equal((await client.get(KEY))?.value, VALUE);
  assert.equal((await client.get(`bom/${KEY}`))?.value, VALUE);
  const range = await client.range("\ufeff", { prefix: true });
  assert.deepEqual(range.kvs.map((kv) => [kv.key, kv.value]), [[KEY, VALUE]]);

  await using watcher = client.watch("\ufeff", {
    prefix: true,
    startRevision: first.revision,
  });
  const [event] = await within(
    watcher[Symbol.asyncIterator]().next(),
    10_000,
    "a watch event",
  ).then((next) => [next.value]);
  assert.deepEqual([event.kv.key, event.kv.value], [KEY, VALUE]);

  await using tree = await EtcdTree.open(client, "bom");
  assert.deepEqual(tree.toObject(), { [KEY]: VALUE });
  await client.put(`bom/${LATER}`, LATER);
  await until(() => LATER in tree.toObject(), 10_000, "the tree to follow");
  assert.equal(tree.toObject()[LATER], LATER);
  await client.delete(`bom/${LATER}`);

  const changes = await monitored(
    "bom",
    [],
    etcd.endpoint,
    first.revision,
    3,
  );
  assert.deepEqual(changes.map((change) => change.value), [
    VALUE,
    LATER,
    undefined, // a delete: v3 gives its key and revision only
  ]);

  await checkTools("bom", [], etcd.endpoint);
});

test("v2: a leading U+FEFF in keys and values comes back everywhere", async () => {
  await using etcd = await startEtcd({ version: "3.4" });
  await using client = new V2Client({ endpoints: etcd.endpoint });
  const first = await client.set(`bom/${KEY}`, VALUE);

  assert.equal(((await client.get(`bom/${KEY}`)).node as Value).value, VALUE);
  await using watcher = client.watch("bom", {
    recursive: true,
    waitIndex: first.node.modifiedIndex,
  });
  const next = await within(
    watcher[Symbol.asyncIterator]().next(),
    10_000,
    "a watch event",
  );
  assert.equal((next.value.node as Value).key, `/bom/${KEY}`);
  assert.equal((next.value.node as Value).value, VALUE);

  await using tree = await EtcdTree.open(client, "bom");
  assert.deepEqual(tree.toObject(), { [KEY]: VALUE });
  await client.set(`bom/${LATER}`, LATER);
  await until(() => LATER in tree.toObject(), 10_000, "the tree to follow");
  assert.equal(tree.toObject()[LATER], LATER);
  await client.delete(`bom/${LATER}`);
  // Bytes that are UTF-8 text are stored as that text, U+FEFF and all.
  const bytes = new TextEncoder().encode(LATER);
  const store = storeOf(client);
  await store.put(store.subtree("bom"), "bytes", bytes);
  assert.equal(((await client.get("bom/bytes")).node as Value).value, LATER);
  await client.delete("bom/bytes");

  const changes = await monitored(
    "/bom",
    ["--api", "v2"],
    etcd.endpoint,
    first.node.modifiedIndex,
    5,
  );
  assert.deepEqual(changes.map((change) => change.key), [
    `/bom/${KEY}`,
    `/bom/${LATER}`,
    `/bom/${LATER}`,
    "/bom/bytes",
    "/bom/bytes",
  ]);
  assert.equal(changes[0]!.value, VALUE);

  await checkTools("/bom", ["--api", "v2"], etcd.endpoint);
});

test("every decoder of the library keeps a leading U+FEFF", async () => {
  // Where a leading U+FEFF marks a file's encoding, or is not etcd's.
  const markers = new Set(["cli/load.ts", "testing.ts"]);
  const root = new URL("../../", import.meta.url);
  const careless: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(new URL(dir, root))) {
      const path = dir + entry.name;
      if (entry.isDirectory) {
        if (!/^(tests|bench|tools|docs|\.)/.test(entry.name)) {
          await walk(path + "/");
        }
      } else if (path.endsWith(".ts") && !markers.has(path)) {
        const text = await Deno.readTextFile(new URL(path, root));
        for (
          const match of text.matchAll(/new TextDecoder(Stream)?\([^)]*\)/g)
        ) {
          if (!match[0].includes("ignoreBOM: true")) {
            careless.push(`${path}: ${match[0]}`);
          }
        }
      }
    }
  };
  await walk("");
  assert.deepEqual(careless, []);
});
