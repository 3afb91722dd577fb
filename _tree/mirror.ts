// The mirror of a subtree: nodes built from a snapshot and kept up to date
// by changes, every difference reported as it is made. Pure: it knows
// nothing of etcd or the network (tests/mirror_test.ts). Internal.

import { type Codec, type CodecRegistry, codecs } from "../codec.ts";
import type { Change, Entry, Snapshot } from "../_core/store.ts";
import { childrenOf, touch, TreeDirectory, TreeValue } from "./nodes.ts";

const STRING: Codec<unknown> = codecs.string;

/** What happened to a node. */
export type ChangeKind = "added" | "updated" | "deleted";

/** Told of every node the mirror adds, changes or removes. */
export type MirrorListener = (
  kind: ChangeKind,
  node: TreeValue | TreeDirectory,
  previous: TreeValue | undefined,
  index: number,
  expired: boolean,
) => void;

/** Options of a {@linkcode Mirror}. */
export interface MirrorOptions {
  registry: CodecRegistry;
  /**
   * Directories are inferred from `/` in keys (they carry no indices, index
   * 0, and go with their last key), rather than explicit entries.
   */
  inferDirs: boolean;
  onChange: MirrorListener;
}

type Node = TreeValue | TreeDirectory;

/** A subtree's nodes at an index. */
export class Mirror {
  #root: Node | undefined;
  #index = 0;
  readonly #registry: CodecRegistry;
  readonly #inferDirs: boolean;
  readonly #onChange: MirrorListener;

  constructor(options: MirrorOptions) {
    this.#registry = options.registry;
    this.#inferDirs = options.inferDirs;
    this.#onChange = options.onChange;
  }

  /** The subtree's top node; `undefined` while there is none. */
  get root(): Node | undefined {
    return this.#root;
  }

  /** The index the mirror shows: every change up to it is applied. */
  get index(): number {
    return this.#index;
  }

  /** The node at a path's segments (`[]` is the root). */
  node(segments: readonly string[]): Node | undefined {
    const root = this.#root;
    if (root === undefined || segments.length === 0) return root;
    return root instanceof TreeDirectory ? root.node(segments) : undefined;
  }

  /** Builds the nodes of a snapshot, reporting nothing. */
  load(snapshot: Snapshot): void {
    this.#root = undefined;
    this.#index = snapshot.index;
    const dirs = new Map<string, TreeDirectory>();
    for (const entry of snapshot.entries) {
      const path = entry.path;
      const slash = path.lastIndexOf("/");
      const name = path === "" ? "" : path.slice(slash + 1);
      let parent: TreeDirectory | undefined;
      if (path !== "") {
        const above = slash < 0 ? "" : path.slice(0, slash);
        parent = dirs.get(above) ?? this.#ensureDirs(splitPath(above), 0);
      }
      const node = this.#make(entry, name, parent, path);
      this.#attach(parent, name, node);
      if (node instanceof TreeDirectory) dirs.set(path, node);
    }
  }

  /** Applies one change (ignored if not newer than the mirror). */
  apply(change: Change): void {
    const index = change.index;
    if (index <= this.#index) return;
    const segments = splitPath(change.entry.path);
    if (change.type === "put") this.#put(segments, change.entry, index);
    else this.#delete(segments, index, change.expired);
    this.#index = index;
  }

  /**
   * Brings the mirror in line with a fresh snapshot (after history was
   * lost), reporting each difference as an ordinary change.
   */
  resync(snapshot: Snapshot): void {
    const index = Math.max(this.#index, snapshot.index);
    const incoming = new Set<string>();
    for (const entry of snapshot.entries) {
      incoming.add(entry.path);
      if (this.#inferDirs) {
        for (
          let at = entry.path.lastIndexOf("/");
          at > 0;
          at = entry.path.lastIndexOf("/", at - 1)
        ) {
          incoming.add(entry.path.slice(0, at));
        }
        incoming.add("");
      }
    }
    // What is gone first, then what is new or changed, parents first.
    if (this.#root !== undefined) {
      this.#removeMissing(this.#root, "", incoming, index);
    }
    for (const entry of snapshot.entries) this.#merge(entry, index);
    this.#index = index;
  }

  #removeMissing(
    node: Node,
    path: string,
    incoming: ReadonlySet<string>,
    index: number,
  ): void {
    if (!incoming.has(path)) {
      this.#detach(node);
      this.#drop(node, index, false);
      return;
    }
    if (node instanceof TreeDirectory) {
      for (const [name, child] of [...childrenOf(node)]) {
        this.#removeMissing(
          child,
          path === "" ? name : `${path}/${name}`,
          incoming,
          index,
        );
      }
    }
  }

  /** Puts one entry of a fresh snapshot in place, if it differs. */
  #merge(entry: Entry, index: number): void {
    const segments = splitPath(entry.path);
    const existing = this.node(segments);
    if (existing !== undefined) {
      if (
        existing instanceof TreeDirectory && entry.dir === true &&
        entry.createdIndex === existing.createdIndex
      ) {
        if (
          entry.modifiedIndex !== existing.modifiedIndex ||
          entry.expires !== existing.expiration?.getTime()
        ) {
          touch(existing, entry.modifiedIndex, entry.expires);
          this.#onChange("updated", existing, undefined, index, false);
        }
        return;
      }
      if (existing instanceof TreeValue && entry.dir !== true) {
        if (
          entry.createdIndex === existing.createdIndex &&
          entry.modifiedIndex === existing.modifiedIndex &&
          entry.value === existing.raw &&
          entry.expires === existing.expiration?.getTime()
        ) {
          return;
        }
        const node = this.#make(
          entry,
          existing.name,
          existing.parent,
          entry.path,
        );
        this.#attach(existing.parent, existing.name, node);
        this.#onChange("updated", node, existing, index, false);
        return;
      }
      this.#detach(existing);
      this.#drop(existing, index, false);
    }
    this.#create(segments, entry, index);
  }

  #put(segments: string[], entry: Entry, index: number): void {
    const name = segments.at(-1) ?? "";
    const parent = segments.length === 0 ? undefined : this.#ensureDirs(
      segments.slice(0, -1),
      this.#inferDirs ? 0 : index,
      index,
    );
    const existing = parent === undefined
      ? this.#root
      : childrenOf(parent).get(name);
    if (existing !== undefined) {
      if (index <= existing.modifiedIndex) return; // older than what we have
      if (
        existing instanceof TreeDirectory && entry.dir === true &&
        entry.createdIndex === existing.createdIndex
      ) {
        // The directory's own attributes (its TTL) changed.
        touch(existing, entry.modifiedIndex, entry.expires);
        this.#onChange("updated", existing, undefined, index, false);
        return;
      }
      if (existing instanceof TreeValue && entry.dir !== true) {
        const node = this.#make(entry, name, parent, entry.path);
        this.#attach(parent, name, node);
        this.#onChange("updated", node, existing, index, false);
        return;
      }
      // Deleted and created again, or a change of kind: the old one goes.
      this.#drop(existing, index, false);
    }
    const node = this.#make(entry, name, parent, entry.path);
    this.#attach(parent, name, node);
    this.#onChange("added", node, undefined, index, false);
  }

  #delete(segments: string[], index: number, expired: boolean): void {
    const node = this.node(segments);
    if (node === undefined || index <= node.modifiedIndex) return;
    this.#detach(node);
    this.#drop(node, index, expired);
    if (this.#inferDirs) this.#prune(node.parent, index, expired);
  }

  /** Removes directories left empty, up to the root (inferred ones only). */
  #prune(
    dir: TreeDirectory | undefined,
    index: number,
    expired: boolean,
  ): void {
    while (dir !== undefined && dir.size === 0) {
      const above = dir.parent;
      this.#detach(dir);
      this.#onChange("deleted", dir, undefined, index, expired);
      dir = above;
    }
  }

  /** Adds an entry's node at its place, making its parents if need be. */
  #create(segments: string[], entry: Entry, index: number): void {
    const name = segments.at(-1) ?? "";
    const parent = segments.length === 0 ? undefined : this.#ensureDirs(
      segments.slice(0, -1),
      this.#inferDirs ? 0 : index,
      index,
    );
    const node = this.#make(entry, name, parent, entry.path);
    this.#attach(parent, name, node);
    this.#onChange("added", node, undefined, index, false);
  }

  /**
   * The directory at `segments`, made (with its parents) where missing;
   * anything else in the way goes. New directories get `createdIndex`; a
   * change at `index` reports them, a snapshot (`index` undefined) does not.
   */
  #ensureDirs(
    segments: readonly string[],
    createdIndex: number,
    index?: number,
  ): TreeDirectory {
    let node = this.#root;
    if (!(node instanceof TreeDirectory)) {
      if (node !== undefined && index !== undefined) {
        this.#drop(node, index, false);
      }
      node = this.#root = new TreeDirectory(
        "",
        undefined,
        createdIndex,
        createdIndex,
        undefined,
      );
      if (index !== undefined) {
        this.#onChange("added", node, undefined, index, false);
      }
    }
    for (const name of segments) {
      const children = childrenOf(node);
      let child = children.get(name);
      if (!(child instanceof TreeDirectory)) {
        if (child !== undefined && index !== undefined) {
          this.#drop(child, index, false);
        }
        child = new TreeDirectory(
          name,
          node,
          createdIndex,
          createdIndex,
          undefined,
        );
        children.set(name, child);
        if (index !== undefined) {
          this.#onChange("added", child, undefined, index, false);
        }
      }
      node = child;
    }
    return node;
  }

  #make(
    entry: Entry,
    name: string,
    parent: TreeDirectory | undefined,
    path: string,
  ): Node {
    if (entry.dir === true) {
      return new TreeDirectory(
        name,
        parent,
        entry.createdIndex,
        entry.modifiedIndex,
        entry.expires,
      );
    }
    const codec = this.#registry.empty
      ? STRING
      : this.#registry.lookup(path) ?? STRING;
    const value = entry.value;
    return new TreeValue(
      name,
      parent,
      typeof value === "string" ? value : "",
      entry.createdIndex,
      entry.modifiedIndex,
      entry.expires,
      codec,
    );
  }

  #attach(parent: TreeDirectory | undefined, name: string, node: Node): void {
    if (parent === undefined) this.#root = node;
    else childrenOf(parent).set(name, node);
  }

  #detach(node: Node): void {
    const parent = node.parent;
    if (parent === undefined) {
      if (this.#root === node) this.#root = undefined;
    } else if (childrenOf(parent).get(node.name) === node) {
      childrenOf(parent).delete(node.name);
    }
  }

  /** Reports a subtree that went: children first, then the node. */
  #drop(node: Node, index: number, expired: boolean): void {
    if (node instanceof TreeDirectory) {
      for (const child of childrenOf(node).values()) {
        this.#drop(child, index, expired);
      }
    }
    this.#onChange("deleted", node, undefined, index, expired);
  }
}

function splitPath(path: string): string[] {
  return path === "" ? [] : path.split("/");
}
