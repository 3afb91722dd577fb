// Helpers for the tree tests: compare a mirror with a fresh read of etcd.

import assert from "node:assert/strict";
import {
  type Client,
  Directory,
  type EtcdTree,
  KeyNotFound,
  TreeDirectory,
  TreeValue,
  type Value,
} from "../mod.ts";

/** A node as plain data: everything a mirror must get right. */
export interface Flat {
  dir: boolean;
  value?: string;
  createdIndex: number;
  modifiedIndex: number;
  expiration?: number;
}

/** Every node of a fresh recursive read, by path below `prefix`. */
export async function readFlat(
  client: Client,
  prefix: string,
): Promise<{ index: number; nodes: Map<string, Flat> }> {
  const nodes = new Map<string, Flat>();
  try {
    const { node, etcdIndex } = await client.get(prefix, { recursive: true });
    const base = node.key === "/" ? 1 : node.key.length + 1;
    const add = (node: Value | Directory) => {
      const flat: Flat = {
        dir: node.dir,
        createdIndex: node.createdIndex,
        modifiedIndex: node.modifiedIndex,
      };
      if (!node.dir) flat.value = (node as Value).value;
      const expiration = node.expiration?.getTime();
      if (expiration !== undefined) flat.expiration = expiration;
      nodes.set(node.key.slice(base), flat);
      if (node instanceof Directory) { for (const child of node) add(child); }
    };
    add(node);
    return { index: etcdIndex, nodes };
  } catch (error) {
    if (error instanceof KeyNotFound) return { index: error.index, nodes };
    throw error;
  }
}

/** Every node of a mirror, by path. */
export function treeFlat(tree: EtcdTree): Map<string, Flat> {
  const nodes = new Map<string, Flat>();
  const add = (node: TreeValue | TreeDirectory) => {
    const flat: Flat = {
      dir: node.dir,
      createdIndex: node.createdIndex,
      modifiedIndex: node.modifiedIndex,
    };
    if (node instanceof TreeValue) flat.value = node.raw;
    const expiration = node.expiration?.getTime();
    if (expiration !== undefined) flat.expiration = expiration;
    nodes.set(node.path, flat);
    if (node instanceof TreeDirectory) { for (const child of node) add(child); }
  };
  if (tree.root) add(tree.root);
  return nodes;
}

/** Asserts that the mirror equals etcd now, node for node. */
export async function assertMirrors(
  client: Client,
  tree: EtcdTree,
): Promise<void> {
  const fresh = await readFlat(client, tree.prefix);
  await tree.synced(fresh.index);
  assert.equal(
    tree.index,
    fresh.index,
    "etcd changed while comparing: the comparison is not meaningful",
  );
  assert.deepEqual(
    Object.fromEntries([...treeFlat(tree)].sort()),
    Object.fromEntries([...fresh.nodes].sort()),
  );
}

/** Takes `count` items from an iterator, failing after `ms`. */
export async function collect<T>(
  changes: AsyncIterator<T>,
  count: number,
  ms = 5000,
): Promise<T[]> {
  const out: T[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`Timed out after ${out.length} of ${count} items`),
        ),
      ms,
    );
  });
  try {
    while (out.length < count) {
      const next = await Promise.race([changes.next(), timeout]);
      if (next.done) {
        throw new Error(`Ended after ${out.length} of ${count} items`);
      }
      out.push(next.value);
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
