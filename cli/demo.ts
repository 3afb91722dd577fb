#!/usr/bin/env -S deno run --allow-run --allow-net --allow-read --allow-write --allow-env
/**
 * A tour on a throwaway etcd: starts one on free loopback ports, writes
 * sample data, shows it back as a tree, watches a change, keeps a live typed
 * mirror with `EtcdTree` (typed values, safe writes, a conflict, a change by
 * someone else), and removes the server and its data again.
 *
 * ```sh
 * deno task demo
 * ```
 *
 * @module
 */

import {
  Client,
  codecs,
  CompareFailed,
  Directory,
  EtcdTree,
  type Node,
  Value,
  WriteConflict,
} from "../v2/mod.ts";
import { startEtcd } from "../testing.ts";

/**
 * Runs the demo.
 *
 * @param _args Command-line arguments (none are used).
 * @returns The exit code.
 */
export async function main(_args: string[]): Promise<number> {
  await using etcd = await startEtcd();
  await using client = new Client({ endpoints: etcd.endpoint });
  const { etcdserver } = await client.version();
  console.log(`Started a throwaway etcd ${etcdserver} at ${etcd.endpoint}`);

  const sample: Record<string, string> = {
    "demo/app/name": "etcd-tree",
    "demo/app/db/host": "db.internal",
    "demo/app/db/port": "5432",
    "demo/app/features/dark mode": "true",
    "demo/app/motd": "Hello,\nworld!",
    "demo/users/ada": "admin",
    "demo/users/grace": "editor",
  };
  for (const [key, value] of Object.entries(sample)) {
    await client.set(key, value);
  }
  await client.mkdir("demo/empty");
  await client.set("demo/session", "expires soon", { ttl: 30 });
  console.log(`Wrote ${Object.keys(sample).length + 1} keys under /demo\n`);

  const { node, etcdIndex } = await client.get("demo", {
    recursive: true,
    sorted: true,
  });
  printTree(node);

  // Compare-and-swap: only one of two writers that read the same version wins.
  const port = await client.get("demo/app/db/port");
  await client.set("demo/app/db/port", "6432", {
    prevIndex: port.node.modifiedIndex,
  });
  try {
    await client.set("demo/app/db/port", "7432", {
      prevIndex: port.node.modifiedIndex,
    });
  } catch (error) {
    if (!(error instanceof CompareFailed)) throw error;
    console.log(`\nA stale compare-and-swap is refused: ${error.message}`);
  }

  // Changes since the read, one long-poll each.

  console.log(`\nChanges since index ${etcdIndex}:`);
  const change = await client.wait("demo", {
    recursive: true,
    waitIndex: etcdIndex + 1,
  });

  console.log(
    `  ${change.node.modifiedIndex} ${change.action} ${change.node.key} = ${
      JSON.stringify((change.node as Value).value)
    }`,
  );

  // A live, typed mirror: reads from memory, writes with compare-and-swap.
  console.log("\nA live mirror of /demo/app (EtcdTree):");
  await using tree = await EtcdTree.open(client, "demo/app", {
    codecs: { "db/port": codecs.integer, "features/*": codecs.boolean },
  });
  console.log(
    `  db/port = ${tree.get("db/port")} (a ${typeof tree.get(
      "db/port",
    )}), features/dark mode = ${tree.get("features/dark mode")}`,
  );
  await tree.set("db/port", 6543);
  console.log(
    `  after tree.set("db/port", 6543) it reads ${tree.get("db/port")} at once`,
  );
  const changes = tree.changes();
  await using other = new Client({ endpoints: etcd.endpoint });
  await other.set("demo/app/name", "etcd-tree, live");
  const { value: seen } = await changes.next();
  console.log(
    `  someone else wrote: ${seen?.kind} ${seen?.path} = ${
      JSON.stringify(seen?.newValue)
    }`,
  );
  await changes.return?.();
  // Two mirrors race to change one key: exactly one wins, the other is
  // told what won.
  await using rival = await EtcdTree.open(other, "demo/app");
  const results = await Promise.allSettled([
    tree.set("name", "mine"),
    rival.set("name", "theirs"),
  ]);
  for (const result of results) {
    if (result.status === "rejected") {
      if (!(result.reason instanceof WriteConflict)) throw result.reason;
      console.log(
        `  two mirrors raced on "name": one lost, told the value now is ${
          JSON.stringify(result.reason.currentValue)
        }`,
      );
    }
  }
  console.log("\nStopping etcd and removing its data.");
  return 0;
}

function printTree(node: Node, prefix = "", last = true, top = true): void {
  const label = node.key === "/" ? "/" : node.name;
  const shown = node instanceof Value
    ? `${label} = ${JSON.stringify(node.value)}${
      node.ttl === undefined ? "" : ` (ttl ${node.ttl}s)`
    }`
    : `${top ? node.key : label}/`;
  console.log(top ? shown : `${prefix}${last ? "└── " : "├── "}${shown}`);
  if (node instanceof Directory) {
    const inner = top ? "" : prefix + (last ? "    " : "│   ");
    node.children.forEach((child, i) =>
      printTree(child, inner, i === node.children.length - 1, false)
    );
  }
}

if (import.meta.main) Deno.exitCode = await main(Deno.args);
