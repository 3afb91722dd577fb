// The store seam (_core/store.ts) over etcd's v3 API. Internal.
//
// A subtree is the keys below a prefix: `app` holds `app/port` (path
// `port`) and the key `app` itself (path `""`). Directories are inferred
// from `/` (a value with keys below it, `a` beside `a/b`, is for the layer
// above to place). A path is any text, empty segments too (`/registry/a`
// below the prefix `""`, `a//b`), split into names by `namesOf`
// (_core/paths.ts); keys that cannot be paths (not UTF-8, or `app/` below
// `app`, which has no path of its own) are left out of snapshots and
// changes, and a snapshot names them. Conditions
// are compares in a transaction whose failure branch reads the key, so a
// failed write says whether the key changed, exists or is gone. A TTL is a
// lease: keys written with the same TTL within the same second share one,
// which is never kept alive, so each expires within a second of its TTL.
//
// The root's own key (`app`) is read and watched with the keys below it in
// one range, `[app, app0)`, which covers `app-x` and `app.x` too; a user
// whose roles cover only `app/` (etcdctl's usual grant) may not read that
// range, so the subtree is then the keys below `app/` alone, the key `app`
// left out (one watch is what keeps changes in revision order).

import {
  type Capabilities,
  type Change,
  type ChangeStream,
  type Committed,
  type Condition,
  type Entry,
  type FollowOptions,
  type History,
  type Lease,
  type PutOptions,
  type RemoveOptions,
  type Snapshot,
  type SnapshotOptions,
  type Store,
  type Subtree,
  type TxnWrite,
  Unsupported,
  type Version,
  type Written,
} from "../_core/store.ts";
import type { Caller } from "./_call.ts";
import type { KeySpace } from "./_client.ts";
import { header, type KeyValue } from "./_decode.ts";
import { Compacted, ConditionFailed, PermissionDenied } from "./_errors.ts";
import { utf8TextAt } from "../_core/text.ts";
import {
  bytesOf,
  concat,
  describeBytes,
  prefixEnd,
  startsWith,
  textOf,
  ZERO,
} from "./_keys.ts";
import {
  type Compare,
  compare,
  type Namespace,
  op,
  type Operation,
  rangeRequest,
  type TxnResult,
} from "./_kv.ts";
import { KeptLease, type LeaseApi } from "./_lease.ts";
import { leaseIdFrom } from "./_lease_id.ts";
import { explainRevision } from "./_revisions.ts";
import { METHODS } from "./_proto/mod.ts";
import type * as pb from "./_proto/mod.ts";
import type { Watcher, WatchEvent } from "./_watch.ts";

/**
 * Keys of a snapshot's page, at most: one answer for most subtrees (as
 * etcdctl and Go's client read a prefix), and none without end.
 */
export const PAGE_KEYS = 100_000;
/** Bytes of keys and values a page after the first aims at, at most. */
const PAGE_BYTES = 64 * 1024 * 1024;

/** One page of a range. */
interface Page {
  kvs: pb.KeyValue[];
  more: boolean;
  /** Keys in the range from the page's start on. */
  count: number;
  revision: number;
}

/**
 * Keys to ask for after `page`: what is left, at most PAGE_KEYS and about
 * PAGE_BYTES at the page's size per key.
 */
function nextPageSize(page: Page): number {
  let bytes = 0;
  for (const kv of page.kvs) bytes += kv.key.length + kv.value.length;
  const perKey = Math.max(1, bytes / page.kvs.length);
  const left = page.count - page.kvs.length;
  return Math.max(
    1,
    Math.min(left, PAGE_KEYS, Math.floor(PAGE_BYTES / perKey)),
  );
}

/** How long a lease made for a TTL is reused for other keys, in ms. */
const SHARE_TTL_LEASE_FOR = 1000;

const encoder = new TextEncoder();

/** A v3 subtree: the key of its root and the prefix of every key below. */
class V3Subtree implements Subtree {
  /** The root's own key, as text (`""`: there is none). */
  readonly key: string;
  /** The root's own key's bytes. */
  readonly rootKey: Uint8Array;
  /** Every key below starts with these bytes. */
  readonly base: Uint8Array;
  /**
   * What the subtree is read and followed as, once known: the root's own
   * key with the keys below (`"whole"`), or the keys below alone
   * (`"below"`: the user may not read the range that holds both).
   */
  scope: "whole" | "below" | undefined;

  constructor(key: string) {
    this.key = key.length > 1 && key.endsWith("/") ? key.slice(0, -1) : key;
    this.rootKey = encoder.encode(this.key);
    this.base = key === "" || key.endsWith("/")
      ? encoder.encode(key)
      : encoder.encode(key + "/");
    // Without a root key there is one range, of the keys below.
    this.scope = this.rootKey.length === 0 ? "below" : undefined;
  }

  /** The end of the range of the keys below. */
  get end(): Uint8Array {
    return this.base.length === 0 ? ZERO : prefixEnd(this.base);
  }

  keyOf(path: string): string {
    if (path === "") return this.key;
    return textOf(this.base)! + path; // encoded from text: always text
  }

  /** The full key of a path below the subtree (relative to the namespace). */
  full(path: string): Uint8Array {
    if (path === "") {
      if (this.rootKey.length === 0) {
        throw new TypeError(
          "Invalid path: the whole key space has no key of its own; name a key below it",
        );
      }
      return this.rootKey;
    }
    return concat(this.base, encoder.encode(checkPath(path)));
  }

  /**
   * The path of a full key, or `undefined` when the key is not in the
   * subtree or cannot be a path.
   */
  pathOf(key: Uint8Array): string | undefined {
    const base = this.base;
    if (key.length === this.rootKey.length && equal(key, this.rootKey)) {
      return this.rootKey.length === 0 ? undefined : "";
    }
    if (key.length <= base.length || !startsWith(key, base)) {
      return undefined;
    }
    const path = utf8TextAt(key, base.length, key.length);
    if (path === undefined || !isPath(path)) return undefined;
    return path;
  }
}

/** The store over etcd's v3 API. */
export class V3Store implements Store {
  readonly capabilities: Capabilities;
  readonly #keys: KeySpace;
  readonly #caller: Caller;
  readonly #namespace: Namespace;
  readonly #leases: LeaseApi;
  #ttlLeases = new Map<number, { id: Promise<string>; at: number }>();

  constructor(keys: KeySpace, caller: Caller, namespace: Namespace) {
    this.#keys = keys;
    this.#caller = caller;
    this.#namespace = namespace;
    this.#leases = keys.lease;
    this.capabilities = {
      protocol: "v3",
      directories: false,
      ttl: false,
      hiddenUnderscore: false,
      binary: true,
      inOrderKeys: false,
      // etcd's default --max-request-bytes.
      maxRequestBytes: 1.5 * 1024 * 1024,
      maxTxnOps: caller.limits.maxTxnOps,
      keysRefreshed: false,
    };
  }

  subtree(prefix: string | readonly string[], what = "prefix"): V3Subtree {
    let key: string;
    if (typeof prefix === "string") key = prefix;
    else if (Array.isArray(prefix)) {
      key = prefix.map((segment) => checkSegment(segment, prefix, what))
        .join("/");
    } else {
      throw new TypeError(
        `Invalid ${what}: expected a string or an array of strings, got ${typeof prefix}`,
      );
    }
    bytesOf(key, what); // refuses a lone surrogate, naming the prefix
    return new V3Subtree(key);
  }

  // Page by page at the revision of the first page, read straight from the
  // messages: no result objects are made for what becomes the caller's
  // nodes.
  async snapshot(
    subtree: Subtree,
    options: SnapshotOptions = {},
  ): Promise<Snapshot> {
    const base = own(subtree);
    const entries: Entry[] = [];
    const skipped: string[] = [];
    const strip = this.#namespace.length;
    const add = (raw: pb.KeyValue) => {
      const key = strip === 0 ? raw.key : raw.key.subarray(strip);
      const path = base.pathOf(key);
      if (path === undefined) {
        if (inside(key, base)) skipped.push(describeBytes(key));
        return;
      }
      entries.push(entryOf(path, raw));
    };
    // Every page is read at one revision: the one asked for, or the first
    // read's.
    const asked = options.revision;
    if (asked !== undefined && (!Number.isSafeInteger(asked) || asked < 1)) {
      throw new RangeError(
        `Invalid revision ${asked}: expected a whole number >= 1`,
      );
    }
    let revision = asked ?? 0;
    const end = base.end;
    let start = base.base.length === 0 ? ZERO : base.base;
    const pageFrom = (from: Uint8Array, size: number) => {
      const asking = this.#range(
        from,
        end,
        revision || undefined,
        size,
        { signal: options.signal },
      ).catch((error) => {
        throw denied(error, base, "read");
      });
      asking.catch(() => {}); // awaited below; not unhandled meanwhile
      return asking;
    };
    // The root's key and the first page come in one answer, at one
    // revision; a refusal of the root's key says the subtree is the keys
    // below it alone.
    const both = await this.#rootAndPage(
      base,
      start,
      PAGE_KEYS,
      revision,
      options,
    );
    for (const raw of both?.root ?? []) add(raw);
    // The next page is asked for as soon as this one says where it starts,
    // so etcd reads it while this one is taken in; it is sized by the bytes
    // per key of this one too.
    let page: Page = both ?? await pageFrom(start, PAGE_KEYS);
    options.onRevision?.(revision || page.revision);
    for (;;) {
      revision ||= page.revision;
      const last = page.kvs.at(-1);
      const more = page.more && last !== undefined;
      let asking: ReturnType<typeof pageFrom> | undefined;
      if (more) {
        start = concat(last.key.subarray(strip), ZERO);
        asking = pageFrom(start, nextPageSize(page));
      }
      for (const raw of page.kvs) add(raw);
      if (asking === undefined) break;
      page = await asking;
    }
    const snapshot: Snapshot = { index: revision, entries };
    if (skipped.length > 0) snapshot.skipped = skipped;
    return snapshot;
  }

  async exists(
    subtree: Subtree,
    options: { signal?: AbortSignal } = {},
  ): Promise<boolean> {
    const base = own(subtree);
    if (await this.#scope(base, options) === "whole") {
      const root = await this.#range(base.rootKey, undefined, undefined, 0, {
        signal: options.signal,
      });
      if (root.kvs.length > 0) return true;
    }
    const start = base.base.length === 0 ? ZERO : base.base;
    const page = await this.#range(start, base.end, undefined, 1, {
      signal: options.signal,
    }).catch((error) => {
      throw denied(error, base, "read");
    });
    return page.kvs.length > 0;
  }

  follow(
    subtree: Subtree,
    from: number | undefined,
    options: FollowOptions = {},
  ): ChangeStream {
    const base = own(subtree);
    const only = options.only;
    const given = {
      ...(from === undefined ? {} : { startRevision: from }),
      ...(options.prev ? { prevKv: true } : {}),
      ...(options.retryFor === undefined ? {} : { retryFor: options.retryFor }),
      ...(options.onState ? { onState: options.onState } : {}),
    };
    const watch = (whole: boolean): Watcher => {
      if (only !== undefined) return this.#keys.watch(base.full(only), given);
      // From the root's own key to the end of the keys below it; keys in
      // between that are neither (`app-x` for `app`) are left out.
      if (whole) {
        return this.#keys.watch(base.rootKey, { ...given, end: base.end });
      }
      return base.base.length === 0
        ? this.#keys.watch(base.base, { ...given, prefix: true })
        : this.#keys.watch(base.base, { ...given, end: base.end });
    };
    // Unless a read found out, the whole range is tried first, and a
    // refusal before any change means the keys below alone.
    let guess = only === undefined && base.scope === undefined;
    let watcher = watch(only === undefined && base.scope !== "below");
    let closed = false;
    return {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          try {
            for await (const batch of watcher.batches()) {
              if (guess) base.scope = "whole";
              guess = false;
              yield* changesOf(batch, base);
            }
            return;
          } catch (error) {
            if (!guess || !(error instanceof PermissionDenied)) {
              throw only === undefined ? denied(error, base, "read") : error;
            }
            guess = false;
            base.scope = "below";
            if (closed) return;
            watcher = watch(false);
          }
        }
      },
      close: () => {
        closed = true;
        return watcher.close();
      },
      [Symbol.asyncDispose]: () => {
        closed = true;
        return watcher.close();
      },
    };
  }

  async put(
    subtree: Subtree,
    path: string,
    value: string | Uint8Array,
    options: PutOptions = {},
  ): Promise<Written> {
    const key = own(subtree).full(path);
    const bytes = bytesOf(value, `value of ${JSON.stringify(path)}`);
    const lease = await this.#leaseFor(options);
    const put = op.put(key, bytes, lease === undefined ? {} : { lease });
    const result = await this.#write(key, options.condition, [put], options)
      .catch((error) => {
        throw path === "" ? error : denied(error, own(subtree), "readwrite");
      });
    return { index: result.revision, path };
  }

  async remove(
    subtree: Subtree,
    path: string,
    options: RemoveOptions = {},
  ): Promise<Written> {
    const base = own(subtree);
    const condition = options.condition;
    if (options.dir === "empty") {
      throw new Unsupported(
        "v3",
        `remove the directory ${JSON.stringify(base.keyOf(path))} alone`,
        "directories are inferred from the keys below them and go with the last one; remove the keys",
      );
    }
    if (options.dir === "recursive") {
      if (condition !== undefined) {
        throw new Unsupported(
          "v3",
          `remove ${JSON.stringify(base.keyOf(path))} with a condition`,
          "a directory has no revision of its own; remove its keys with a compare each",
        );
      }
      const below = path === "" ? base.base : concat(base.full(path), SLASH);
      const operations: Operation[] = [op.delete(below, rangeBelow(below))];
      if (path !== "" || base.rootKey.length > 0) {
        operations.push(op.delete(base.full(path)));
      }
      const result = await this.#keys.txn(
        { success: operations },
        signalOf(options),
      );
      const deleted = result.responses.reduce(
        (sum, item) => sum + (item.type === "delete" ? item.result.deleted : 0),
        0,
      );
      if (deleted === 0) {
        throw new ConditionFailed("not found", base.keyOf(path));
      }
      return { index: result.revision, path };
    }
    const key = base.full(path);
    const result = await this.#write(
      key,
      condition ?? { present: true },
      [op.delete(key)],
      options,
    );
    return { index: result.revision, path };
  }

  mkdir(subtree: Subtree, path: string): Promise<Written> {
    return Promise.reject(
      new Unsupported(
        "v3",
        `make the directory ${JSON.stringify(own(subtree).keyOf(path))}`,
        "etcd v3 has no directories; they appear with the first key below them",
      ),
    );
  }

  async createUnique(
    subtree: Subtree,
    path: string,
    value: string,
    options: PutOptions = {},
  ): Promise<Written> {
    const base = own(subtree);
    const given = options.lease;
    if (given === undefined) {
      throw new Unsupported(
        "v3",
        `create a unique key below ${JSON.stringify(base.keyOf(path))}`,
        "v3 names such keys after their lease; pass a lease",
      );
    }
    const lease = leaseOf(given);
    const name = path === "" ? lease.hex : `${path}/${lease.hex}`;
    const key = base.full(name);
    const put = op.put(key, value, { lease: lease.id });
    const result = await this.#write(key, { absent: true }, [put], options);
    return { index: result.revision, path: name };
  }

  async commit(
    subtree: Subtree,
    writes: readonly TxnWrite[],
    options: { signal?: AbortSignal } = {},
  ): Promise<Committed> {
    const base = own(subtree);
    const max = this.capabilities.maxTxnOps;
    if (writes.length > max) {
      throw new RangeError(
        `Cannot write ${writes.length} keys in one transaction: etcd takes at most ${max} (its --max-txn-ops)`,
      );
    }
    const keys = writes.map((write) => base.full(write.path));
    const compares: Compare[] = [];
    const success: Operation[] = [];
    const checked: number[] = [];
    for (const [i, write] of writes.entries()) {
      const key = keys[i]!;
      const conditions = comparesOf(key, write.condition);
      if (conditions.length > 0) checked.push(i);
      compares.push(...conditions);
      if (write.value === undefined) success.push(op.delete(key));
      else {
        const lease = await this.#leaseFor(write);
        success.push(
          op.put(
            key,
            bytesOf(write.value, `value of ${JSON.stringify(write.path)}`),
            lease === undefined ? {} : { lease },
          ),
        );
      }
    }
    const result = await this.#keys.txn(
      {
        compare: compares,
        success,
        failure: checked.map((i) => op.get(keys[i]!, { keysOnly: true })),
      },
      signalOf(options),
    ).catch((error) => {
      throw writes.some((write) => write.path === "")
        ? error
        : denied(error, base, "readwrite");
    });
    if (result.succeeded) return { ok: true, index: result.revision };
    const failed: { path: string; kind: ConditionKind }[] = [];
    for (const [at, i] of checked.entries()) {
      const found = result.responses[at];
      const kv = found?.type === "get" ? found.result.kvs[0] : undefined;
      const kind = failure(writes[i]!.condition, kv?.modRevision);
      if (kind !== undefined) failed.push({ path: writes[i]!.path, kind });
    }
    return { ok: false, failed };
  }

  // Each version read as of the revision before the last one found, until
  // the key's creation or the compaction point.
  async history(
    subtree: Subtree,
    path: string,
    options: { limit?: number; signal?: AbortSignal } = {},
  ): Promise<History> {
    const key = own(subtree).full(path);
    const limit = options.limit ?? 50;
    const signal = signalOf(options);
    const versions: Version[] = [];
    let kv = await this.#keys.get(key, signal);
    while (kv !== undefined) {
      const bytes = kv.valueBytes;
      versions.push({
        modifiedIndex: kv.modRevision,
        createdIndex: kv.createRevision,
        version: kv.version,
        value: textOf(bytes) ?? bytes,
      });
      if (kv.version <= 1) break;
      if (versions.length >= limit) return { versions, end: "limit" };
      try {
        kv = await this.#keys.get(key, {
          ...signal,
          revision: kv.modRevision - 1,
        });
      } catch (error) {
        if (!(error instanceof Compacted)) throw error;
        return error.compactRevision > 0
          ? {
            versions,
            end: "compacted",
            compactRevision: error.compactRevision,
          }
          : { versions, end: "compacted" };
      }
    }
    return { versions, end: "created" };
  }

  async leaseTtl(id: string): Promise<number | undefined> {
    const info = await this.#leases.timeToLive(id);
    return info.ttl < 0 ? undefined : info.ttl;
  }

  async grant(ttl: number): Promise<Lease> {
    return await this.#leases.keepAlive(ttl);
  }

  requestSize(
    subtree: Subtree,
    path: string,
    value: string | Uint8Array,
  ): number {
    // The protobuf etcd measures: the key twice (the compare and the put),
    // the value, a lease and a revision, and their framing.
    const key = own(subtree).full(path).length;
    const bytes = typeof value === "string"
      ? encoder.encode(value).length
      : value.length;
    return 2 * key + bytes + 64;
  }

  /**
   * The root's own key and the first page of the keys below, in one
   * read-only transaction; `undefined` when the subtree has no root key to
   * read, or the user may not read the keys beside it (the subtree is then
   * the keys below). `root` may hold keys beside the root's (`app-x`).
   */
  async #rootAndPage(
    base: V3Subtree,
    start: Uint8Array,
    limit: number,
    revision: number,
    options: { signal?: AbortSignal | undefined },
  ): Promise<(Page & { root: pb.KeyValue[] }) | undefined> {
    if (base.scope === "below") return undefined;
    const at = revision === 0 ? {} : { revision };
    // The root's key is the first of [root, base): asking for that range
    // (not the key alone) is asking for the permission the subtree's one
    // watch of [root, end) needs. The root `/` is its own base: the page
    // holds it.
    const ranges = [
      rangeRequest(start, { ...at, end: base.end, limit }, this.#namespace),
    ];
    if (base.rootKey.length < base.base.length) {
      ranges.unshift(rangeRequest(
        base.rootKey,
        { ...at, end: base.base, limit: 1 },
        this.#namespace,
      ));
    }
    try {
      const answer = await this.#caller.call(
        METHODS.kv.txn,
        { success: ranges.map((range) => ({ request_range: range })) },
        "read",
        (answer) => answer,
        { signal: options.signal, context: describeBytes(base.rootKey) },
      );
      base.scope = "whole";
      const responses = answer.responses.map((response) =>
        response.response_range!
      );
      const below = responses.at(-1);
      const root = responses.length > 1 ? responses[0] : undefined;
      return {
        root: root?.kvs ?? [],
        kvs: below!.kvs,
        more: below!.more,
        count: below!.count,
        revision: header(answer.header).revision,
      };
    } catch (error) {
      if (!(error instanceof PermissionDenied) || base.scope === "whole") {
        throw denied(
          await explainRevision(
            error,
            revision || undefined,
            this.#caller,
            base.rootKey,
            this.#namespace,
          ),
          base,
          "read",
        );
      }
      base.scope = "below";
      return undefined;
    }
  }

  /**
   * What the subtree is read and followed as (see `V3Subtree.scope`):
   * found out once, by asking for one key name of the whole range.
   */
  async #scope(
    base: V3Subtree,
    options: { signal?: AbortSignal | undefined },
  ): Promise<"whole" | "below"> {
    if (base.scope === undefined) {
      try {
        await this.#range(base.rootKey, base.end, undefined, 1, {
          signal: options.signal,
          keysOnly: true,
        });
        base.scope = "whole";
      } catch (error) {
        if (!(error instanceof PermissionDenied)) throw error;
        base.scope = "below";
      }
    }
    return base.scope;
  }

  /** Reads raw key-values, `limit` 0 meaning all. */
  async #range(
    key: Uint8Array,
    end: Uint8Array | undefined,
    revision: number | undefined,
    limit: number,
    options: { signal?: AbortSignal | undefined; keysOnly?: boolean },
  ): Promise<Page> {
    const body = rangeRequest(key, {
      ...(end === undefined ? {} : { end }),
      ...(revision === undefined ? {} : { revision }),
      ...(limit > 0 ? { limit } : {}),
      ...(options.keysOnly ? { keysOnly: true } : {}),
    }, this.#namespace);
    return await this.#caller.call(
      METHODS.kv.range,
      body,
      "read",
      (answer) => ({
        kvs: answer.kvs,
        more: answer.more,
        count: answer.count,
        revision: header(answer.header).revision,
      }),
      { signal: options.signal, context: describeBytes(key) },
    ).catch(async (error) => {
      throw await explainRevision(
        error,
        revision,
        this.#caller,
        key,
        this.#namespace,
      );
    });
  }

  /**
   * Runs `operations` if `condition` holds on `key`; otherwise reads the
   * key to say which condition failed.
   */
  async #write(
    key: Uint8Array,
    condition: Condition,
    operations: Operation[],
    options: { signal?: AbortSignal },
  ): Promise<TxnResult> {
    const compares = comparesOf(key, condition);
    const result = await this.#keys.txn(
      {
        compare: compares,
        success: operations,
        failure: compares.length > 0 ? [op.get(key, { keysOnly: true })] : [],
      },
      signalOf(options),
    );
    if (!result.succeeded) {
      const found = result.responses[0];
      const exists = found?.type === "get" && found.result.kvs.length > 0;
      throw new ConditionFailed(
        condition !== undefined && "absent" in condition
          ? "exists"
          : exists
          ? "compare failed"
          : "not found",
        describeBytes(key),
      );
    }
    return result;
  }

  /** The lease a write needs: the one given, or one for its TTL. */
  async #leaseFor(
    options: { lease?: Lease; ttl?: number | null },
  ): Promise<string | undefined> {
    if (options.lease !== undefined) return leaseOf(options.lease).id;
    const ttl = options.ttl;
    if (ttl === undefined || ttl === null) return undefined;
    if (!Number.isSafeInteger(ttl) || ttl < 1) {
      throw new RangeError(
        `Invalid ttl ${ttl}: expected a whole number of seconds >= 1`,
      );
    }
    const now = performance.now();
    const shared = this.#ttlLeases.get(ttl);
    if (shared !== undefined && now - shared.at < SHARE_TTL_LEASE_FOR) {
      return await shared.id;
    }
    const id = this.#leases.grant(ttl).then((granted) => granted.id);
    this.#ttlLeases.set(ttl, { id, at: now });
    id.catch(() => this.#ttlLeases.delete(ttl));
    return await id;
  }
}

const SLASH = Uint8Array.of(0x2f);

function own(subtree: Subtree): V3Subtree {
  if (!(subtree instanceof V3Subtree)) {
    throw new TypeError("Invalid subtree: not one of this v3 store");
  }
  return subtree;
}

function leaseOf(lease: Lease): KeptLease {
  if (!(lease instanceof KeptLease)) {
    throw new TypeError("Invalid lease: not one of this v3 store");
  }
  return lease;
}

function signalOf(options: { signal?: AbortSignal }): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}

/** The range of every key that starts with `prefix`. */
function rangeBelow(prefix: Uint8Array): { end: Uint8Array } {
  return { end: prefix.length === 0 ? ZERO : prefixEnd(prefix) };
}

type ConditionKind = "compare failed" | "exists" | "not found";

/** How `condition` fails on a key last changed at `modified` (or absent). */
function failure(
  condition: Condition,
  modified: number | undefined,
): ConditionKind | undefined {
  if (condition === undefined) return undefined;
  if ("absent" in condition) {
    return modified === undefined ? undefined : "exists";
  }
  if (modified === undefined) return "not found";
  if ("modifiedIndex" in condition && modified !== condition.modifiedIndex) {
    return "compare failed";
  }
  return undefined;
}

/** A condition as compares. */
function comparesOf(key: Uint8Array, condition: Condition): Compare[] {
  if (condition === undefined) return [];
  if ("modifiedIndex" in condition) {
    return [compare.modRevision(key, "==", condition.modifiedIndex)];
  }
  if ("absent" in condition) return [compare.createRevision(key, "==", 0)];
  return [compare.createRevision(key, ">", 0)];
}

function entryOf(path: string, raw: pb.KeyValue): Entry {
  const bytes = raw.value;
  const entry: Entry = {
    path,
    // A copy of binary values: the message's bytes are a view of its frame.
    value: textOf(bytes) ?? bytes.slice(),
    createdIndex: raw.create_revision,
    modifiedIndex: raw.mod_revision,
    version: raw.version,
  };
  if (raw.lease !== 0n) entry.lease = leaseIdFrom(raw.lease)!;
  return entry;
}

/**
 * A batch of watch events as changes of the subtree; a change followed by
 * one of the same index (a transaction) has `more` set.
 */
function changesOf(batch: readonly WatchEvent[], base: V3Subtree): Change[] {
  const changes: Change[] = [];
  for (const event of batch) {
    const change = changeOf(event, base);
    if (change !== undefined) changes.push(change);
  }
  for (let i = 0; i < changes.length - 1; i++) {
    if (changes[i + 1]!.index === changes[i]!.index) changes[i]!.more = true;
  }
  return changes;
}

/**
 * A refusal of the keys below the subtree, saying which range the user's
 * roles must cover and how etcdctl grants it.
 */
function denied(
  error: unknown,
  base: V3Subtree,
  access: "read" | "readwrite",
): unknown {
  return deniedBelow(error, base.base, access);
}

/**
 * A refusal of the keys below `base` (a prefix's `PREFIX/`, empty for every
 * key) as one that names that range and the etcdctl grant; anything else as
 * it is. Internal; etcdmon, which watches by itself, says the same.
 */
export function deniedBelow(
  error: unknown,
  base: Uint8Array,
  access: "read" | "readwrite",
): unknown {
  if (!(error instanceof PermissionDenied) || error.cause !== undefined) {
    return error;
  }
  const prefix = new TextDecoder("utf-8", { ignoreBOM: true }).decode(base);
  const range = prefix === ""
    ? "every key"
    : `the keys under ${JSON.stringify(prefix)}`;
  const refused = new PermissionDenied(
    error.code,
    error.status,
    error.etcdMessage,
    range,
  );
  refused.message +=
    `; a role of the user must grant ${access} on that range: etcdctl role grant-permission --prefix=true ROLE ${access} ${
      shellWord(prefix)
    }`;
  refused.cause = error;
  return refused;
}

/** A word as a POSIX shell reads it back: quoted unless plain. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word)
    ? word
    : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A watch event as a change, if its key is a path of the subtree. */
function changeOf(event: WatchEvent, base: V3Subtree): Change | undefined {
  const path = base.pathOf(event.kv.keyBytes);
  if (path === undefined) return undefined;
  const entry = kvEntry(path, event.kv);
  const prev = event.prevKv;
  if (event.type === "delete") {
    const change: Change = {
      index: event.revision,
      type: "delete",
      expired: false,
      entry,
    };
    if (prev !== undefined) change.prev = kvEntry(path, prev);
    return change;
  }
  const change: Change = {
    index: event.revision,
    type: "put",
    expired: false,
    entry,
  };
  if (prev !== undefined) change.prev = kvEntry(path, prev);
  return change;
}

function kvEntry(path: string, kv: KeyValue): Entry {
  const bytes = kv.valueBytes;
  const entry: Entry = {
    path,
    createdIndex: kv.createRevision,
    modifiedIndex: kv.modRevision,
    version: kv.version,
  };
  if (kv.version > 0) entry.value = textOf(bytes) ?? bytes;
  const lease = kv.lease;
  if (lease !== undefined) entry.lease = lease;
  return entry;
}

/**
 * Whether a key lies below the subtree's prefix (path or not): `app/` is
 * below `app`, with no path of its own.
 */
function inside(key: Uint8Array, base: V3Subtree): boolean {
  return key.length >= base.base.length && startsWith(key, base.base);
}

function isPath(path: string): boolean {
  return path !== "";
}

function checkPath(path: string): string {
  if (typeof path !== "string" || !isPath(path) || !path.isWellFormed()) {
    throw new TypeError(
      `Invalid path ${
        JSON.stringify(path)
      }: expected the text of a key below the subtree, not empty`,
    );
  }
  return path;
}

function checkSegment(
  segment: unknown,
  prefix: readonly string[],
  what: string,
): string {
  if (typeof segment !== "string" || segment === "" || segment.includes("/")) {
    throw new TypeError(
      `Invalid ${what} ${
        JSON.stringify(prefix)
      }: every segment must be a non-empty string without "/"`,
    );
  }
  return segment;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
