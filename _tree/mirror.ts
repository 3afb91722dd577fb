// The mirror of a subtree: nodes built from a snapshot and kept up to date
// by changes, every difference reported as it is made. Pure: it knows
// nothing of etcd or the network (tests/mirror_test.ts). Internal.

import { type Codec, type CodecRegistry, codecs } from "../codec.ts";
import type { Change, Entry, Snapshot } from "../_core/store.ts";
import { lastName, namesOf } from "../_core/paths.ts";
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
  /** Changes up to this index are in the snapshot loaded last. */
  #loaded = 0;
  /**
   * Values hidden by keys below them (`a` beside `a/b`, possible where
   * directories are inferred): a node is a value or a directory, and the
   * directory wins. Each comes back when its directory empties.
   */
  readonly #shadowed = new Map<string, Entry>();
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

  /** The paths of values hidden by keys below them, sorted. */
  get shadowed(): string[] {
    return [...this.#shadowed.keys()].sort();
  }

  /** Builds the nodes of a snapshot, reporting nothing. */
  load(snapshot: Snapshot): void {
    this.#root = undefined;
    this.#shadowed.clear();
    this.#index = this.#loaded = snapshot.index;
    const dirs = new Map<string, TreeDirectory>();
    // The directory `dirs` holds for the last path looked up: keys come in
    // order, so most share the one before's (a lookup hashes the path).
    let lastAbove: string | undefined;
    let lastParent: TreeDirectory | undefined;
    for (const entry of snapshot.entries) {
      const path = entry.path;
      const { above, name } = lastName(path);
      let parent: TreeDirectory | undefined;
      if (path !== "") {
        if (above === lastAbove) parent = lastParent;
        else {
          parent = dirs.get(above);
          if (parent === undefined) {
            parent = this.#ensureDirs(splitPath(above), 0);
            if (this.#inferDirs) dirs.set(above, parent);
          }
          if (dirs.get(above) === parent) {
            lastAbove = above;
            lastParent = parent;
          }
        }
      }
      const there = parent === undefined
        ? this.#root
        : childrenOf(parent).get(name);
      if (there instanceof TreeDirectory && entry.dir !== true) {
        this.#shadowed.set(path, entry); // keys below it came first
        continue;
      }
      const node = this.#make(entry, name, parent, path);
      this.#attach(parent, name, node);
      if (node instanceof TreeDirectory) {
        dirs.set(path, node);
        if (path === lastAbove) lastParent = node;
      }
    }
  }

  /**
   * Applies one change: ignored if the mirror has a later one, or the last
   * snapshot has it. Changes of one index (a transaction) apply in turn.
   */
  apply(change: Change): void {
    const index = change.index;
    if (index < this.#index || index <= this.#loaded) return;
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
    this.#shadowed.clear(); // the snapshot says again what is hidden
    const incoming = new Set<string>();
    for (const entry of snapshot.entries) {
      incoming.add(entry.path);
      if (this.#inferDirs) {
        const names = namesOf(entry.path);
        for (let at = names.length - 1; at > 0; at--) {
          incoming.add(names.slice(0, at).join("/"));
        }
        incoming.add("");
      }
    }
    // What is gone first, then what is new or changed, parents first.
    if (this.#root !== undefined) {
      this.#removeMissing(this.#root, "", incoming, index);
    }
    for (const entry of snapshot.entries) this.#merge(entry, index);
    this.#index = this.#loaded = index;
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
      if (
        existing instanceof TreeDirectory && this.#inferDirs &&
        entry.dir !== true && existing.size > 0
      ) {
        this.#shadowed.set(entry.path, entry); // keys below it hide it
        return;
      }
      if (existing instanceof TreeValue && entry.dir !== true) {
        if (
          entry.createdIndex === existing.createdIndex &&
          entry.modifiedIndex === existing.modifiedIndex &&
          sameValue(entry.value, existing.raw) &&
          entry.expires === existing.expiration?.getTime() &&
          entry.lease === existing.lease
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
      if (existing instanceof TreeDirectory && this.#inferDirs) {
        this.#shadowed.set(entry.path, entry); // keys below it hide it
        return;
      }
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
    if (this.#inferDirs && !(node instanceof TreeValue)) {
      // An inferred directory is no key: the key that went is a value it
      // hid (or one the mirror never had).
      this.#shadowed.delete(segments.join("/"));
      return;
    }
    if (node === undefined || index <= node.modifiedIndex) return;
    this.#detach(node);
    this.#drop(node, index, expired);
    if (this.#inferDirs) this.#prune(node.parent, index, expired);
  }

  /**
   * Removes directories left empty, up to the root (inferred ones only); a
   * value the directory hid takes its place.
   */
  #prune(
    dir: TreeDirectory | undefined,
    index: number,
    expired: boolean,
  ): void {
    while (dir !== undefined && dir.size === 0) {
      const above = dir.parent;
      const path = dir.path;
      this.#detach(dir);
      this.#onChange("deleted", dir, undefined, index, expired);
      const hidden = this.#shadowed.get(path);
      if (hidden !== undefined) {
        this.#shadowed.delete(path);
        const node = this.#make(hidden, dir.name, above, path);
        this.#attach(above, dir.name, node);
        this.#onChange("added", node, undefined, index, false);
        return;
      }
      dir = above;
    }
  }

  /**
   * A value in the way of a directory: dropped, or where directories are
   * inferred, hidden until the directory empties.
   */
  #makeWay(node: Node, index: number | undefined): void {
    if (this.#inferDirs && node instanceof TreeValue) {
      this.#shadowed.set(node.path, entryOf(node));
      if (index !== undefined) {
        this.#onChange("deleted", node, undefined, index, false);
      }
      return;
    }
    if (index !== undefined) this.#drop(node, index, false);
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
      if (node !== undefined) this.#makeWay(node, index);
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
        if (child !== undefined) this.#makeWay(child, index);
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
    return new TreeValue(
      name,
      parent,
      entry.value ?? "",
      entry.createdIndex,
      entry.modifiedIndex,
      entry.expires,
      codec,
      entry.version === undefined && entry.lease === undefined
        ? undefined
        : { version: entry.version, lease: entry.lease },
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

/** A path's names (an empty segment stays in a name: `namesOf`). */
const splitPath = namesOf;

/** The entry a value node was made from. */
function entryOf(node: TreeValue): Entry {
  const entry: Entry = {
    path: node.path,
    value: node.raw,
    createdIndex: node.createdIndex,
    modifiedIndex: node.modifiedIndex,
  };
  const expires = node.expiration?.getTime();
  if (expires !== undefined) entry.expires = expires;
  if (node.version !== undefined) entry.version = node.version;
  if (node.lease !== undefined) entry.lease = node.lease;
  return entry;
}

/** Whether two stored values are the same text or the same bytes. */
function sameValue(
  a: string | Uint8Array | undefined,
  b: string | Uint8Array,
): boolean {
  if (typeof a === "string" || typeof b === "string" || a === undefined) {
    return a === b;
  }
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
