// Software transactional memory on etcd v3: a function reads and writes
// keys as if alone; its writes commit as one transaction guarded by what
// it read, and on a conflict it runs again on fresh data, like Go's
// `concurrency.STM`. Public through v3/mod.ts.

import { type ErrorKind, KIND } from "../_core/kinds.ts";
import type { KeySpace } from "./_client.ts";
import { type Bytes, bytesOf, textOf } from "./_keys.ts";
import type { Compare, Operation } from "./_kv.ts";

/** Options of {@linkcode stm}. */
export interface StmOptions {
  /**
   * `"snapshot"` (the default, Go's `SerializableSnapshot`): every read is
   * of the revision of the first one, and the commit holds only if no key
   * read or written changed since. `"serializable"`: each read is of the
   * latest revision, and the commit holds only if no key read changed
   * since it was read.
   */
  isolation?: "snapshot" | "serializable";
  /** Runs at most this many times before giving up. Default: 20. */
  maxAttempts?: number;
  /** Stops retrying (a run in progress finishes first). */
  signal?: AbortSignal;
}

/** What a function run by {@linkcode stm} reads and writes through. */
export interface StmTransaction {
  /**
   * A key's value as text (what this run wrote, if it did).
   *
   * @throws {TypeError} When the value is not UTF-8 (use `getBytes`).
   */
  get(key: Bytes): Promise<string | undefined>;
  /** A key's value as bytes (what this run wrote, if it did). */
  getBytes(key: Bytes): Promise<Uint8Array | undefined>;
  /** Writes a key when the transaction commits. */
  put(key: Bytes, value: Bytes): void;
  /** Deletes a key when the transaction commits. */
  delete(key: Bytes): void;
}

/** What {@linkcode stm} did. */
export interface StmResult<T> {
  /** What the function returned in the run that committed. */
  value: T;
  /** The revision of the commit (with nothing to write: of the reads). */
  revision: number;
  /** How many runs it took. */
  attempts: number;
}

/** The function kept conflicting: others changed what it read each time. */
export class StmConflict extends Error {
  /**
   * Constructs the error.
   *
   * @param attempts How many runs were tried.
   */
  constructor(attempts: number) {
    super(
      `The transaction conflicted ${attempts} times in a row: keys it read kept changing; try again later, or with a larger maxAttempts`,
    );
    this.name = "StmConflict";
  }

  /** The kind, for `errorKind`: `"compare failed"`. */
  get [KIND](): ErrorKind {
    return "compare failed";
  }
}

/**
 * Runs `apply` as a transaction: its reads see one consistent state, its
 * writes commit together only if nothing it depends on changed meanwhile,
 * and otherwise it runs again on fresh data (so `apply` must do nothing
 * but read and write through the transaction).
 *
 * @example Usage
 * ```ts
 * import { Client, stm } from "@etcd-tree/etcd-tree";
 *
 * async function usage(client: Client) {
 *   // Move 10 from one account to another, whoever else is moving money.
 *   await stm(client, async (tx) => {
 *     const from = Number(await tx.get("accounts/alice") ?? 0);
 *     const to = Number(await tx.get("accounts/bob") ?? 0);
 *     tx.put("accounts/alice", String(from - 10));
 *     tx.put("accounts/bob", String(to + 10));
 *   });
 * }
 * ```
 *
 * @typeParam T What `apply` returns.
 * @param client The client (or a namespace of one).
 * @param apply Reads and writes through the transaction.
 * @param options The isolation, how many runs at most, a signal.
 * @returns What the committing run returned, its revision and how many runs it took.
 * @throws {StmConflict} When every run conflicted.
 */
export async function stm<T>(
  client: KeySpace,
  apply: (tx: StmTransaction) => Promise<T> | T,
  options: StmOptions = {},
): Promise<StmResult<T>> {
  const isolation = options.isolation ?? "snapshot";
  if (isolation !== "snapshot" && isolation !== "serializable") {
    throw new TypeError(
      `Invalid isolation ${
        JSON.stringify(isolation)
      }: expected "snapshot" or "serializable"`,
    );
  }
  const maxAttempts = options.maxAttempts ?? 20;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(
      `Invalid maxAttempts ${maxAttempts}: expected a whole number >= 1`,
    );
  }
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    options.signal?.throwIfAborted();
    const run = new Run(client, isolation, options.signal);
    const value = await apply(run);
    const revision = await run.commit();
    if (revision !== undefined) return { value, revision, attempts: attempt };
  }
  throw new StmConflict(maxAttempts);
}

/** What one run read (key -> mod revision) and wrote. */
class Run implements StmTransaction {
  readonly #client: KeySpace;
  readonly #isolation: "snapshot" | "serializable";
  readonly #signal: AbortSignal | undefined;
  /** The revision every read of a snapshot run is of. */
  #revision: number | undefined;
  readonly #reads = new Map<
    string,
    { key: Uint8Array; modRevision: number; value: Uint8Array | undefined }
  >();
  readonly #writes = new Map<
    string,
    { key: Uint8Array; value: Uint8Array | undefined }
  >();

  constructor(
    client: KeySpace,
    isolation: "snapshot" | "serializable",
    signal: AbortSignal | undefined,
  ) {
    this.#client = client;
    this.#isolation = isolation;
    this.#signal = signal;
  }

  async get(key: Bytes): Promise<string | undefined> {
    const bytes = await this.getBytes(key);
    if (bytes === undefined) return undefined;
    const text = textOf(bytes);
    if (text === undefined) {
      throw new TypeError(
        "Cannot give the value as text: it is not UTF-8; use getBytes",
      );
    }
    return text;
  }

  async getBytes(key: Bytes): Promise<Uint8Array | undefined> {
    const bytes = bytesOf(key, "key");
    const id = bytes.toHex();
    const written = this.#writes.get(id);
    if (written !== undefined) return written.value;
    const read = this.#reads.get(id);
    if (read !== undefined) return read.value;
    const range = await this.#client.range(bytes, {
      ...(this.#revision === undefined ? {} : { revision: this.#revision }),
      ...(this.#signal ? { signal: this.#signal } : {}),
    });
    if (this.#isolation === "snapshot") {
      this.#revision ??= range.header.revision;
    }
    const kv = range.kvs[0];
    this.#reads.set(id, {
      key: bytes,
      modRevision: kv?.modRevision ?? 0,
      value: kv?.valueBytes,
    });
    return kv?.valueBytes;
  }

  put(key: Bytes, value: Bytes): void {
    const bytes = bytesOf(key, "key");
    this.#writes.set(bytes.toHex(), {
      key: bytes,
      value: bytesOf(value, "value"),
    });
  }

  delete(key: Bytes): void {
    const bytes = bytesOf(key, "key");
    this.#writes.set(bytes.toHex(), { key: bytes, value: undefined });
  }

  /** Commits; the revision, or `undefined` on a conflict. */
  async commit(): Promise<number | undefined> {
    const compares: Compare[] = [];
    const since = this.#revision;
    if (this.#isolation === "snapshot" && since !== undefined) {
      // Nothing read or written changed after the snapshot.
      const keys = new Map<string, Uint8Array>();
      for (const [id, read] of this.#reads) keys.set(id, read.key);
      for (const [id, write] of this.#writes) keys.set(id, write.key);
      for (const key of keys.values()) {
        compares.push({ key, target: "mod", result: "<", operand: since + 1 });
      }
    } else {
      for (const read of this.#reads.values()) {
        compares.push({
          key: read.key,
          target: "mod",
          result: "==",
          operand: read.modRevision,
        });
      }
    }
    const success: Operation[] = [...this.#writes.values()].map((write) =>
      write.value === undefined
        ? { delete: write.key }
        : { put: write.key, value: write.value }
    );
    if (success.length === 0 && compares.length === 0) {
      return since ?? 0;
    }
    const result = await this.#client.txn(
      { compare: compares, success },
      this.#signal ? { signal: this.#signal } : {},
    );
    return result.succeeded ? result.revision : undefined;
  }
}
