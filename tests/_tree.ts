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
} from "../v2/mod.ts";
import type { Client as V3Client } from "../mod.ts";

/** A node as plain data: everything a mirror must get right. */
export interface Flat {
  dir: boolean;
  value?: string | Uint8Array;
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

/**
 * What a tree of the v3 keys below `prefix/` must show, worked out from a
 * plain range on its own: directories are the paths above values (index
 * 0: inferred), and a value with keys below it is hidden by its directory.
 */
export async function readFlatV3(
  client: V3Client,
  prefix: string,
): Promise<{ index: number; nodes: Map<string, Flat> }> {
  const { kvs, header } = await client.range(`${prefix}/`, { prefix: true });
  const values = new Map(
    kvs.map((kv) => [kv.key.slice(prefix.length + 1), kv] as const),
  );
  const nodes = new Map<string, Flat>();
  for (const path of values.keys()) {
    const segments = path.split("/");
    for (let at = 0; at < segments.length; at++) {
      const above = segments.slice(0, at).join("/");
      nodes.set(above, { dir: true, createdIndex: 0, modifiedIndex: 0 });
    }
  }
  for (const [path, kv] of values) {
    if (nodes.has(path)) continue; // a directory hides it
    const bytes = kv.valueBytes;
    let value: string | Uint8Array = bytes;
    try {
      value = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
        bytes,
      );
    } catch {
      // bytes that are not text stay bytes
    }
    nodes.set(path, {
      dir: false,
      value,
      createdIndex: kv.createRevision,
      modifiedIndex: kv.modRevision,
    });
  }
  return { index: header.revision, nodes };
}

/** Asserts that a tree on v3 equals etcd now, node for node. */
export async function assertMirrorsV3(
  client: V3Client,
  tree: EtcdTree,
): Promise<void> {
  // The tree's index moves only with changes of its subtree: wait until it
  // shows what etcd holds (or give the difference after 10 s).
  const deadline = performance.now() + 10_000;
  for (;;) {
    const fresh = await readFlatV3(client, tree.prefix);
    const shown = Object.fromEntries([...treeFlat(tree)].sort());
    const held = Object.fromEntries([...fresh.nodes].sort());
    if (performance.now() > deadline) {
      assert.deepEqual(shown, held);
      return;
    }
    try {
      assert.deepEqual(shown, held);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
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
