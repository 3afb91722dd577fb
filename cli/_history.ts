// What the viewer shows of etcd's past and of its leases: the whole
// subtree as of a revision, and when each lease runs out. Internal; used by
// cli/view.ts.

import { CodecRegistry } from "../codec.ts";
import type { Entry, Snapshot, Store, Subtree } from "../_core/store.ts";
import { Mirror } from "../_tree/mirror.ts";
import { TreeDirectory, type TreeNode } from "../_tree/nodes.ts";

/**
 * The subtree as it was at `revision`, as the nodes a live tree would have
 * had then (directories inferred, hidden values aside).
 */
export async function treeAt(
  store: Store,
  subtree: Subtree,
  revision: number,
): Promise<TreeNode[]> {
  const snapshot = await store.snapshot(subtree, { revision });
  const mirror = new Mirror({
    registry: new CodecRegistry(),
    inferDirs: !store.capabilities.directories,
    onChange: () => {},
  });
  mirror.load(snapshot);
  const root = mirror.root;
  return root instanceof TreeDirectory ? [...root.walk()] : [];
}

/**
 * When each lease runs out, as etcd last said: asked for when a lease is
 * first seen, and again every few seconds while it is in view (a kept
 * lease moves on).
 */
export class LeaseClock {
  readonly #store: Store;
  readonly #expires = new Map<string, number>();
  readonly #asked = new Map<string, Promise<void>>();
  readonly #at = new Map<string, number>();

  constructor(store: Store) {
    this.#store = store;
  }

  /** When `lease` expires (ms since the epoch), if known yet. */
  expires(lease: string): number | undefined {
    void this.#refresh(lease);
    return this.#expires.get(lease);
  }

  /** Waits until every lease of `leases` has been asked about once. */
  async known(leases: Iterable<string>): Promise<void> {
    await Promise.all([...leases].map((lease) => this.#refresh(lease)));
  }

  #refresh(lease: string): Promise<void> {
    const now = Date.now();
    const asked = this.#asked.get(lease);
    if (asked !== undefined && now - (this.#at.get(lease) ?? 0) < 5000) {
      return asked;
    }
    this.#at.set(lease, now);
    const done = this.#store.leaseTtl(lease).then((ttl) => {
      if (ttl === undefined) this.#expires.delete(lease);
      else this.#expires.set(lease, Date.now() + ttl * 1000);
    }, () => {
      // Asked again later.
    });
    this.#asked.set(lease, done);
    return done;
  }
}

/** A value as the page gets it: text, or base64 of bytes that are not. */
export interface PageValue {
  raw: string;
  binary: boolean;
  modifiedIndex: number;
}

/** What changed in a subtree between two revisions. */
export interface SubtreeDiff {
  from: number;
  to: number;
  added: string[];
  removed: string[];
  /** The keys written in between, with their values then and later. */
  changed: { path: string; before: PageValue; after: PageValue }[];
}

function pageValue(entry: Entry): PageValue {
  const value = entry.value ?? "";
  return {
    raw: typeof value === "string" ? value : value.toBase64(),
    binary: typeof value !== "string",
    modifiedIndex: entry.modifiedIndex,
  };
}

/**
 * The keys added, removed and changed in the subtree from revision `from`
 * to revision `to` (`undefined`: now), by path.
 */
export async function subtreeDiff(
  store: Store,
  subtree: Subtree,
  from: number,
  to: number | undefined,
): Promise<SubtreeDiff> {
  const [before, after] = await Promise.all([
    store.snapshot(subtree, { revision: from }),
    store.snapshot(subtree, to === undefined ? {} : { revision: to }),
  ]);
  const keys = (snapshot: Snapshot) =>
    new Map(
      snapshot.entries.filter((entry) => entry.dir !== true).map((
        entry,
      ) => [entry.path, entry]),
    );
  const old = keys(before);
  const now = keys(after);
  const diff: SubtreeDiff = {
    from,
    to: after.index,
    added: [],
    removed: [],
    changed: [],
  };
  for (const [path, entry] of now) {
    const was = old.get(path);
    if (was === undefined) diff.added.push(path);
    else if (was.modifiedIndex !== entry.modifiedIndex) {
      diff.changed.push({
        path,
        before: pageValue(was),
        after: pageValue(entry),
      });
    }
  }
  for (const path of old.keys()) if (!now.has(path)) diff.removed.push(path);
  diff.added.sort();
  diff.removed.sort();
  diff.changed.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  return diff;
}
