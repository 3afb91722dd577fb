// A tree's writes: each goes to etcd with a condition on the version the
// mirror holds, and resolves once the mirror shows it. Internal.

import { type Codec, type CodecRegistry, codecs } from "../codec.ts";
import { errorKind } from "../_core/kinds.ts";
import {
  hasEmptySegment,
  type Key,
  keySegments,
  namesOf,
} from "../_core/paths.ts";
import {
  type Condition,
  type PutOptions,
  type Store,
  type Subtree,
  type TxnWrite,
  Unsupported,
  type Written,
} from "../_core/store.ts";
import { WriteConflict } from "./events.ts";
import type { Mirror } from "./mirror.ts";
import { TreeDirectory, TreeValue } from "./nodes.ts";
import type { IndexWaiters, PathWaiters } from "./waiters.ts";

const STRING: Codec<unknown> = codecs.string;

type Node = TreeValue | TreeDirectory;

/** The compare a write based on the mirror's node makes. */
function conditionOn(base: Node | undefined): Condition {
  if (base instanceof TreeValue) return { modifiedIndex: base.modifiedIndex };
  if (base === undefined) return { absent: true };
  return undefined;
}

/** Options every write takes. */
export interface WriteOptions {
  signal?: AbortSignal;
}

/** What the writer works with. */
export interface WriterParts {
  store: Store;
  subtree: Subtree;
  mirror: Mirror;
  registry: CodecRegistry;
  applied: IndexWaiters;
  changed: PathWaiters;
  /** Throws if the tree no longer takes writes (closed, out of sync). */
  usable(): void;
}

/** The tree's writes. */
export class Writer {
  readonly #parts: WriterParts;

  constructor(parts: WriterParts) {
    this.#parts = parts;
  }

  /** Checks that the tree takes writes and the path; returns its segments. */
  writable(path: Key, rootAllowed = false): string[] {
    this.#parts.usable();
    if (typeof path === "string" && this.#isKey(path)) {
      return namesOf(path); // a key of the whole v3 key space, as it is
    }
    const segments = keySegments(path, "path");
    if (segments.length === 0 && !rootAllowed) {
      throw new TypeError(
        `Invalid path ${JSON.stringify(path)}: name a key below the root`,
      );
    }
    this.check(segments);
    return segments;
  }

  /**
   * Whether a path is a key as it is: one with an empty segment (`/a`,
   * `a//b`) in a tree of the whole v3 key space, where such keys are paths
   * of their own; elsewhere the extra "/" are dropped, as always.
   */
  #isKey(path: string): boolean {
    const { store, subtree } = this.#parts;
    return subtree.key === "" && store.capabilities.protocol === "v3" &&
        hasEmptySegment(path) && path !== "/"
      ? path.isWellFormed()
      : false;
  }

  /** Refuses segments the store would hide from the mirror. */
  check(segments: readonly string[]): void {
    keySegments(segments, "path");
    if (!this.#parts.store.capabilities.hiddenUnderscore) return;
    const hidden = segments.find((segment) => segment.startsWith("_"));
    if (hidden !== undefined) {
      throw new TypeError(
        `Invalid path ${JSON.stringify(segments.join("/"))}: segment ${
          JSON.stringify(hidden)
        } starts with "_", which etcd hides from watches, so the tree cannot mirror it`,
      );
    }
  }

  /** The codec of a path, or `undefined` for none registered. */
  codec(segments: readonly string[]): Codec<unknown> | undefined {
    return this.#parts.registry.lookup(segments);
  }

  /** A value as its codec stores it; a `TypeError` naming the path if not. */
  encode(segments: readonly string[], value: unknown): string | Uint8Array {
    const codec = this.codec(segments);
    try {
      return (codec ?? STRING).encode(value);
    } catch (error) {
      const hint = codec === undefined
        ? "; values are strings unless a codec is registered for the path"
        : "";
      throw new TypeError(
        `Invalid value for ${JSON.stringify(segments.join("/"))}: ${
          error instanceof Error ? error.message : error
        }${hint}`,
        { cause: error },
      );
    }
  }

  /**
   * Writes a value: compare-and-swap against the mirror's value, a create
   * where the mirror has none; `force` writes whatever is there.
   */
  put(
    segments: string[],
    raw: string | Uint8Array,
    force: boolean,
    options: WriteOptions & { ttl?: number },
  ): Promise<number> {
    const base = this.#parts.mirror.node(segments);
    this.#placeable(segments, base);
    const write: PutOptions = {};
    if (options.ttl !== undefined) write.ttl = options.ttl;
    if (options.signal) write.signal = options.signal;
    if (!force) write.condition = conditionOn(base);
    const { store, subtree } = this.#parts;
    return this.send(
      segments,
      base,
      () => store.put(subtree, segments.join("/"), raw, write),
      options,
    );
  }

  /**
   * Writes several values in one transaction, each with the compare that
   * `put` would use; resolves once the mirror shows them.
   */
  async commit(
    values: readonly (readonly [string[], string | Uint8Array])[],
    options: WriteOptions,
  ): Promise<number> {
    const { mirror } = this.#parts;
    return await this.#commit(
      values.map(([segments, raw]) => {
        const base = mirror.node(segments);
        this.#placeable(segments, base);
        const condition = conditionOn(base);
        return {
          segments,
          base,
          write: condition === undefined
            ? { path: segments.join("/"), value: raw }
            : { path: segments.join("/"), value: raw, condition },
        };
      }),
      options,
    );
  }

  /** Sends one transaction; a condition that failed is a WriteConflict. */
  async #commit(
    items: readonly {
      segments: string[];
      base: Node | undefined;
      write: TxnWrite;
    }[],
    options: WriteOptions,
  ): Promise<number> {
    const { store, subtree, mirror } = this.#parts;
    const result = await store.commit(
      subtree,
      items.map((item) => item.write),
      options.signal ? { signal: options.signal } : {},
    );
    if (!result.ok) {
      const first = result.failed[0];
      const item = items.find((item) => item.write.path === first?.path);
      if (first === undefined || item === undefined) {
        throw new Error(
          "The transaction failed, yet etcd shows every condition holding",
        );
      }
      await this.#changedFrom(
        first.path,
        item.segments,
        item.base,
        options.signal,
      );
      throw new WriteConflict(
        first.path,
        mirror.node(item.segments),
        new Error(
          `${
            subtree.keyOf(first.path)
          }: the transaction's condition did not hold (${first.kind})`,
        ),
      );
    }
    await this.applied(result.index, options.signal);
    return result.index;
  }

  /**
   * Where directories are inferred (v3), a value cannot go where the tree
   * has a directory, or below a value: etcd would hold both, and the tree
   * show one.
   */
  #placeable(segments: readonly string[], base: Node | undefined): void {
    const { store, mirror } = this.#parts;
    if (store.capabilities.directories) return;
    const path = JSON.stringify(segments.join("/"));
    if (base instanceof TreeDirectory) {
      throw new TypeError(
        `Cannot set ${path}: the tree has a directory there (keys below it); delete them first`,
      );
    }
    for (let at = segments.length - 1; at >= 0; at--) {
      const above = mirror.node(segments.slice(0, at));
      if (above instanceof TreeValue) {
        throw new TypeError(
          `Cannot set ${path}: ${
            JSON.stringify(segments.slice(0, at).join("/"))
          } is a value, so nothing can go below it; delete it first`,
        );
      }
      if (above instanceof TreeDirectory) return;
    }
  }

  /** Creates a directory that the mirror does not have. */
  mkdir(
    segments: string[],
    ttl: number | undefined,
    options: WriteOptions,
  ): Promise<number> {
    const base = this.#parts.mirror.node(segments);
    const write: PutOptions = { condition: { absent: true } };
    if (ttl !== undefined) write.ttl = ttl;
    if (options.signal) write.signal = options.signal;
    const { store, subtree } = this.#parts;
    return this.send(
      segments,
      base,
      () => store.mkdir(subtree, segments.join("/"), write),
      options,
    );
  }

  /**
   * Deletes a value (compare-and-delete unless `force`) or a directory:
   * with `recursive` and no `force`, what the mirror shows in it, each
   * value with its compare, then the directories once empty.
   */
  delete(
    segments: string[],
    recursive: boolean,
    force: boolean,
    options: WriteOptions,
  ): Promise<number> {
    const base = this.#parts.mirror.node(segments);
    if (base instanceof TreeDirectory && recursive && !force) {
      return this.#deleteTree(base, options);
    }
    if (
      base instanceof TreeDirectory &&
      !this.#parts.store.capabilities.directories
    ) {
      if (!recursive && base.size > 0) {
        throw new TypeError(
          `Cannot delete ${
            JSON.stringify(segments.join("/"))
          }: the directory holds keys; pass recursive`,
        );
      }
    }
    const remove: {
      condition?: Condition;
      dir?: "empty" | "recursive";
      signal?: AbortSignal;
    } = {};
    if (base instanceof TreeDirectory || base === undefined) {
      if (recursive) remove.dir = "recursive";
      else if (base !== undefined) remove.dir = "empty";
    } else if (!force) {
      remove.condition = { modifiedIndex: base.modifiedIndex };
    }
    if (options.signal) remove.signal = options.signal;
    const { store, subtree } = this.#parts;
    return this.send(
      segments,
      base,
      () => store.remove(subtree, segments.join("/"), remove),
      options,
    );
  }

  /**
   * Deletes a directory as the mirror shows it: every value under its
   * compare, then every directory once empty, deepest first. A value
   * changed meanwhile, or a directory that holds more than the mirror
   * showed (new or hidden keys), is a {@linkcode WriteConflict}, and stays.
   */
  async #deleteTree(
    base: TreeDirectory,
    options: WriteOptions,
  ): Promise<number> {
    const { store, subtree, mirror } = this.#parts;
    const values: TreeValue[] = [];
    const dirs: TreeDirectory[] = [base];
    for (const node of base.walk()) {
      if (node instanceof TreeValue) values.push(node);
      else dirs.push(node);
    }
    const removeValue = (node: TreeValue) => {
      const segments = namesOf(node.path);
      const remove: { condition: Condition; signal?: AbortSignal } = {
        condition: { modifiedIndex: node.modifiedIndex },
      };
      if (options.signal) remove.signal = options.signal;
      return this.send(
        segments,
        node,
        () => store.remove(subtree, node.path, remove),
        options,
      );
    };
    const max = store.capabilities.maxTxnOps;
    if (values.length > 0 && values.length <= max) {
      // One transaction: every value goes, or none does.
      return await this.#commit(
        values.map((node) => ({
          segments: namesOf(node.path),
          base: node,
          write: {
            path: node.path,
            condition: { modifiedIndex: node.modifiedIndex },
          },
        })),
        options,
      );
    }
    let index = mirror.index;
    const settled = await Promise.allSettled(values.map(removeValue));
    for (const outcome of settled) {
      if (outcome.status === "rejected") throw outcome.reason;
      index = Math.max(index, outcome.value);
    }
    if (store.capabilities.directories) {
      const depth = (dir: TreeDirectory) => namesOf(dir.path).length;
      const levels = [...new Set(dirs.map(depth))].sort((a, b) => b - a);
      for (const level of levels) {
        const written = await Promise.all(
          dirs.filter((dir) => depth(dir) === level).map(async (dir) => {
            try {
              return (await store.remove(subtree, dir.path, {
                dir: "empty",
                ...(options.signal ? { signal: options.signal } : {}),
              })).index;
            } catch (error) {
              const kind = errorKind(error);
              if (kind === "not empty" || kind === "not found") {
                throw new WriteConflict(
                  dir.path,
                  mirror.node(
                    namesOf(dir.path),
                  ),
                  error as Error,
                );
              }
              throw error;
            }
          }),
        );
        index = Math.max(index, ...written);
      }
    }
    await this.applied(index, options.signal);
    return index;
  }

  /** Sets or clears the TTL of a value (compare-and-swap) or a directory. */
  setTtl(
    segments: string[],
    ttl: number | null,
    options: WriteOptions,
  ): Promise<number> {
    const base = this.#parts.mirror.node(segments);
    const write: PutOptions = { ttl };
    if (options.signal) write.signal = options.signal;
    const { store, subtree } = this.#parts;
    const path = segments.join("/");
    if (base instanceof TreeValue) {
      write.condition = { modifiedIndex: base.modifiedIndex };
      return this.send(
        segments,
        base,
        () => store.put(subtree, path, base.raw, write),
        options,
      );
    }
    write.condition = { present: true };
    return this.send(
      segments,
      base,
      () => store.mkdir(subtree, path, write),
      options,
    );
  }

  /** Adds a value with a new in-order name below a directory. */
  async append(
    segments: string[],
    raw: string | Uint8Array,
    ttl: number | undefined,
    options: WriteOptions,
  ): Promise<string> {
    const { store, subtree } = this.#parts;
    if (!store.capabilities.inOrderKeys) {
      throw new Unsupported(
        store.capabilities.protocol,
        `append to ${JSON.stringify(segments.join("/"))}`,
        "it has no in-order keys; set() a name of your own (a timestamp, or crypto.randomUUID()) and order by createRevision",
      );
    }
    if (typeof raw !== "string") {
      throw new TypeError("Invalid value: append takes text values");
    }
    const write: PutOptions = {};
    if (ttl !== undefined) write.ttl = ttl;
    if (options.signal) write.signal = options.signal;
    const written = await store.createUnique(
      subtree,
      segments.join("/"),
      raw,
      write,
    );
    await this.applied(written.index, options.signal);
    return written.path;
  }

  /**
   * Sends a write based on the mirror's node `base`, then waits until the
   * mirror shows it. A refused condition becomes a {@linkcode WriteConflict}
   * once the mirror shows what changed.
   */
  async send(
    segments: string[],
    base: Node | undefined,
    send: () => Promise<Written>,
    options: WriteOptions,
  ): Promise<number> {
    let index: number;
    try {
      ({ index } = await send());
    } catch (error) {
      const kind = errorKind(error);
      const conflict = kind === "compare failed" ||
        (kind === "exists" && base === undefined) ||
        (kind === "not found" && base !== undefined);
      if (!conflict) throw error;
      const path = segments.join("/");
      await this.#changedFrom(path, segments, base, options.signal);
      throw new WriteConflict(
        path,
        this.#parts.mirror.node(segments),
        error as Error,
      );
    }
    await this.applied(index, options.signal);
    return index;
  }

  /** Resolves once the mirror has applied `index`. */
  applied(index: number, signal?: AbortSignal): Promise<void> {
    if (this.#parts.mirror.index >= index) return Promise.resolve();
    try {
      this.#parts.usable();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#parts.applied.wait(index, signal);
  }

  /** Waits until the mirror's node at a path is no longer `base`. */
  #changedFrom(
    path: string,
    segments: readonly string[],
    base: Node | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const mirror = this.#parts.mirror;
    if (mirror.node(segments) !== base) return Promise.resolve();
    try {
      this.#parts.usable();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#parts.changed.wait(
      path,
      () => mirror.node(segments) === base,
      signal,
    );
  }
}
