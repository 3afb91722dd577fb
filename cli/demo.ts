#!/usr/bin/env -S deno run --allow-run --allow-net --allow-read --allow-write --allow-env
/**
 * A tour of etcd's v3 API with this library: put and get, a prefix range, a
 * compare-and-swap refused inside a transaction, a watch with revisions, a
 * lease that expires, a live `EtcdTree`, and a key's history.
 *
 * Without options it starts a throwaway etcd 3.5 on free loopback ports and
 * removes it and its data afterwards. `--endpoints URL` runs it against your
 * own etcd instead, under a fresh prefix `etcd-tree-demo-<random>/` that it
 * refuses to touch if anything is there, and deletes when done.
 *
 * ```sh
 * deno task demo
 * deno task demo --endpoints http://127.0.0.1:2379
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  Client,
  codecs,
  compare,
  EtcdTree,
  type KeyValue,
  op,
  type WatchEvent,
} from "../mod.ts";
import { type EtcdServer, startEtcd } from "../testing.ts";

const USAGE = `Usage: deno task demo [--endpoints URL[,URL...]] [--prefix NAME]

Without --endpoints: a throwaway etcd 3.5 on loopback, removed afterwards.
With it: your etcd, under a fresh prefix etcd-tree-demo-<random>/ (or
--prefix NAME) that is deleted when done; the demo refuses to start if that
prefix holds any key.`;

/**
 * Runs the demo.
 *
 * @param args Command-line arguments: `--endpoints URL[,URL...]`.
 * @returns The exit code.
 */
export async function main(args: string[]): Promise<number> {
  let endpoints: string | undefined;
  let prefix: string | undefined;
  try {
    const { values } = parseArgs({
      args,
      options: {
        endpoints: { type: "string" },
        prefix: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    endpoints = values.endpoints;
    prefix = values.prefix;
    if (prefix !== undefined && (prefix === "" || prefix.endsWith("/"))) {
      throw new Error(
        `--prefix ${
          JSON.stringify(prefix)
        }: give a name without a trailing "/"`,
      );
    }
  } catch (error) {
    console.error(`demo: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }

  let etcd: EtcdServer | undefined;
  if (endpoints === undefined) etcd = await startEtcd({ version: "3.5" });
  try {
    await using client = new Client({
      endpoints: endpoints ?? etcd!.endpoint,
    });
    const { etcdserver } = await client.version();
    const base = prefix ??
      (etcd === undefined
        ? `etcd-tree-demo-${crypto.randomUUID().slice(0, 8)}`
        : "demo");
    if (etcd !== undefined) {
      console.log(`Started a throwaway etcd ${etcdserver} at ${etcd.endpoint}`);
    } else {
      const { count } = await client.range(`${base}/`, {
        prefix: true,
        countOnly: true,
      });
      if (count > 0) {
        console.error(
          `demo: ${base}/ already holds ${count} keys in ${endpoints}; not touching it (run again for another prefix)`,
        );
        return 1;
      }
      console.log(
        `Using etcd ${etcdserver} at ${endpoints}, under ${base}/ (deleted when done)`,
      );
    }
    try {
      await tour(client, base);
    } finally {
      if (etcd === undefined) {
        const { deleted } = await client.delete(`${base}/`, { prefix: true });
        console.log(`\nDeleted the ${deleted} demo keys under ${base}/.`);
      }
    }
  } finally {
    if (etcd !== undefined) {
      console.log("\nStopping etcd and removing its data.");
      await etcd[Symbol.asyncDispose]();
    }
  }
  return 0;
}

async function tour(client: Client, base: string): Promise<void> {
  const sample: Record<string, string> = {
    "app/name": "etcd-tree",
    "app/db/host": "db.internal",
    "app/db/port": "5432",
    "app/features/dark-mode": "true",
    "users/ada": "admin",
    "users/grace": "editor",
  };
  section("put and get");
  for (const [key, value] of Object.entries(sample)) {
    await client.put(`${base}/${key}`, value);
  }
  const port = await client.get(`${base}/app/db/port`);
  console.log(`  ${show(port!)}`);

  section(`a prefix range: every key under ${base}/app/`);
  const { kvs, header } = await client.range(`${base}/app/`, { prefix: true });
  for (const kv of kvs) console.log(`  ${show(kv)}`);
  console.log(`  (${kvs.length} keys, read at revision ${header.revision})`);

  section("compare-and-swap in a transaction");
  const swap = (value: string) =>
    client.txn({
      compare: [
        compare.modRevision(`${base}/app/db/port`, "==", port!.modRevision),
      ],
      success: [op.put(`${base}/app/db/port`, value)],
      failure: [op.get(`${base}/app/db/port`)],
    });
  const first = await swap("6432");
  console.log(
    `  first writer, same revision as read: succeeded=${first.succeeded}`,
  );
  const second = await swap("7432");
  const now = second.responses[0];
  console.log(
    `  second writer, stale revision: succeeded=${second.succeeded}; the key is ${
      now?.type === "get" && now.result.kvs[0]
        ? show(now.result.kvs[0])
        : "gone"
    }`,
  );

  section(`a watch on ${base}/users/ from revision ${header.revision + 1}`);
  await using watcher = client.watch(`${base}/users/`, {
    prefix: true,
    startRevision: header.revision + 1,
    prevKv: true,
  });
  await client.put(`${base}/users/ada`, "owner");
  await client.delete(`${base}/users/grace`);
  let seen = 0;
  for await (const event of watcher) {
    console.log(`  ${showEvent(event)}`);
    if (++seen === 2) break;
  }

  section("a lease that expires");
  const lease = await client.lease.grant(2);
  await client.put(`${base}/session`, "expires soon", { lease: lease.id });
  console.log(
    `  lease ${lease.id} granted for ${lease.ttl} s, ${base}/session attached`,
  );
  await using expiry = client.watch(`${base}/session`, {
    startRevision: (await client.get(`${base}/session`))!.modRevision + 1,
  });
  const started = performance.now();
  for await (const event of expiry) {
    const after = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`  after ${after} s: ${showEvent(event)} (the lease expired)`);
    break;
  }

  section(`a live mirror of ${base}/app (EtcdTree)`);
  await using tree = await EtcdTree.open(client, `${base}/app`, {
    codecs: { "db/port": codecs.integer, "features/*": codecs.boolean },
  });
  const typed = tree.get("db/port");
  console.log(
    `  db/port = ${typed} (a ${typeof typed}), features/dark-mode = ${
      tree.get("features/dark-mode")
    }`,
  );
  await tree.set("db/port", 8432);
  console.log(
    `  after tree.set("db/port", 8432) it reads ${
      tree.get("db/port")
    } at once, and etcd agrees`,
  );
  const changes = tree.changes();
  await client.put(`${base}/app/name`, "etcd-tree, live");
  const { value: change } = await changes.next();
  console.log(
    `  someone else wrote: ${change?.kind} ${change?.path} = ${
      JSON.stringify(change?.newValue)
    }`,
  );
  await changes.return?.();

  section(`the history of ${base}/app/db/port, newest first`);
  let kv = await client.get(`${base}/app/db/port`);
  while (kv !== undefined) {
    console.log(
      `  revision ${kv.modRevision}, version ${kv.version}: ${
        JSON.stringify(kv.value)
      }`,
    );
    if (kv.version <= 1) break;
    kv = await client.get(`${base}/app/db/port`, {
      revision: kv.modRevision - 1,
    });
  }
}

function section(title: string): void {
  console.log(`\n${title}:`);
}

function show(kv: KeyValue): string {
  return `${kv.key} = ${
    JSON.stringify(kv.value)
  } (revision ${kv.modRevision}, version ${kv.version})`;
}

function showEvent(event: WatchEvent): string {
  const before = event.prevKv
    ? ` (was ${JSON.stringify(event.prevKv.value)})`
    : "";
  return event.type === "put"
    ? `revision ${event.revision}: put ${event.kv.key} = ${
      JSON.stringify(event.kv.value)
    }${before}`
    : `revision ${event.revision}: delete ${event.kv.key}${before}`;
}

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args).catch((error: Error) => {
    console.error(`demo: ${error.message}`);
    return 1;
  });
}
