#!/usr/bin/env -S deno run --allow-run --allow-net --allow-read --allow-write --allow-env
/**
 * A tour on a throwaway etcd: starts one on free loopback ports, writes
 * sample data, shows it back as a tree, watches a change, and removes the
 * server and its data again.
 *
 * ```sh
 * deno task demo
 * ```
 *
 * @module
 */

import { Client, CompareFailed, Directory, type Node, Value } from "../mod.ts";
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
