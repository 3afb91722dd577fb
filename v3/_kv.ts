// The v3 key-value calls as messages of v3/_proto: ranges, puts, deletes,
// transactions and their compares, and what etcd answers. Internal; the types are public
// through v3/mod.ts.

import {
  header,
  id,
  type KeyValue,
  keyValues,
  type ResponseHeader,
} from "./_decode.ts";
import { type Bytes, bytesOf, concat, prefixEnd, ZERO } from "./_keys.ts";
import { leaseId, parseLeaseId } from "./_lease_id.ts";
import type * as pb from "./_proto/mod.ts";
import type { Init } from "./_proto/mod.ts";

/** Which keys a call is about, besides its key. */
export interface KeyRange {
  /** Every key that starts with the key. */
  prefix?: boolean;
  /** Every key from the key on. */
  fromKey?: boolean;
  /** Every key from the key up to this one (not included). */
  end?: Bytes;
}

/** Options of `range()` (and of a `get` in a transaction). */
export interface RangeOptions extends KeyRange {
  /** At most this many keys (`more` tells whether there are more). */
  limit?: number;
  /** The order of the keys. */
  sortOrder?: "none" | "ascend" | "descend";
  /** What to sort by. */
  sortTarget?: "key" | "version" | "create" | "mod" | "value";
  /** Keys only, no values. */
  keysOnly?: boolean;
  /** Only how many keys there are. */
  countOnly?: boolean;
  /** Read as of this revision (the past); default: now. */
  revision?: number;
  /** Answer from the member's own state, without the leader: faster, maybe stale. */
  serializable?: boolean;
  /** Only keys last changed at this revision or later. */
  minModRevision?: number;
  /** Only keys last changed at this revision or earlier. */
  maxModRevision?: number;
  /** Only keys created at this revision or later. */
  minCreateRevision?: number;
  /** Only keys created at this revision or earlier. */
  maxCreateRevision?: number;
}

/** What a range read found. */
export interface RangeResult {
  /** The keys found, in the order asked for. */
  readonly kvs: KeyValue[];
  /** Whether more keys matched than `limit` let through. */
  readonly more: boolean;
  /**
   * How many keys are in the range, `limit` aside (the min/max revision
   * filters do not narrow it: etcd counts before filtering).
   */
  readonly count: number;
  /** The store's header; `header.revision` is the revision read at. */
  readonly header: ResponseHeader;
}

/** Options of `put()`. */
export interface PutOptions {
  /**
   * Attach the key to this lease: its ID as etcdctl prints it (16 hex
   * digits), `0x` and hex, a decimal of 17 to 19 digits, or a bigint.
   */
  lease?: string | bigint;
  /** Answer with the key as it was before. */
  prevKv?: boolean;
  /** Keep the value (a new revision for the key; it must exist). */
  ignoreValue?: boolean;
  /** Keep the lease (it must exist). */
  ignoreLease?: boolean;
}

/** What a put did. */
export interface PutResult {
  /** The revision of the write. */
  readonly revision: number;
  /** The key before, when asked and it existed. */
  readonly prevKv: KeyValue | undefined;
  /** The store's header. */
  readonly header: ResponseHeader;
}

/** Options of `delete()`. */
export interface DeleteOptions extends KeyRange {
  /** Answer with the keys as they were. */
  prevKv?: boolean;
}

/** What a delete did. */
export interface DeleteResult {
  /** The revision of the delete (unchanged if nothing was deleted). */
  readonly revision: number;
  /** How many keys were deleted. */
  readonly deleted: number;
  /** The keys as they were, when asked. */
  readonly prevKvs: KeyValue[];
  /** The store's header. */
  readonly header: ResponseHeader;
}

/** A transaction's compare: one key's target against a value. */
export interface Compare {
  /** The key (with `end` or `prefix`, a range of keys: all must match). */
  readonly key: Bytes;
  /** The end of the range of keys compared. */
  readonly end?: Bytes;
  /** Compare every key that starts with `key`. */
  readonly prefix?: boolean;
  /** What is compared. */
  readonly target: "value" | "version" | "create" | "mod" | "lease";
  /** How. */
  readonly result: "==" | "!=" | ">" | "<";
  /**
   * With what: bytes for `value`, a number for revisions and versions, a
   * lease ID (`undefined`: no lease).
   */
  readonly operand: Bytes | number | bigint | undefined;
}

/** The compares of a transaction, named by what they compare. */
export const compare: {
  /** The key's value. */
  value(key: Bytes, result: Compare["result"], value: Bytes): Compare;
  /** The key's version (0: it does not exist). */
  version(key: Bytes, result: Compare["result"], version: number): Compare;
  /** The key's create revision (0: it does not exist). */
  createRevision(
    key: Bytes,
    result: Compare["result"],
    revision: number,
  ): Compare;
  /** The key's mod revision. */
  modRevision(key: Bytes, result: Compare["result"], revision: number): Compare;
  /**
   * The key's lease ID (`undefined`: none), in any form a lease ID is
   * taken in.
   */
  lease(
    key: Bytes,
    result: Compare["result"],
    lease: string | bigint | undefined,
  ): Compare;
  /**
   * Holds while a lock (or an election's leadership) is still held: its
   * key still has the create revision it was created with. Put it in a
   * transaction to write only as the holder.
   *
   * @throws {TypeError} When the lock is not held now.
   */
  held(
    holder: {
      readonly key?: string | undefined;
      readonly fencingToken?: number | undefined;
    },
  ): Compare;
} = {
  value: (key, result, value) => ({
    key,
    target: "value",
    result,
    operand: value,
  }),
  version: (key, result, version) => ({
    key,
    target: "version",
    result,
    operand: version,
  }),
  createRevision: (key, result, revision) => ({
    key,
    target: "create",
    result,
    operand: revision,
  }),
  modRevision: (key, result, revision) => ({
    key,
    target: "mod",
    result,
    operand: revision,
  }),
  lease: (key, result, lease) => ({
    key,
    target: "lease",
    result,
    operand: lease,
  }),
  held: (holder) => {
    const { key, fencingToken } = holder;
    if (key === undefined || fencingToken === undefined) {
      throw new TypeError(
        "Invalid compare.held(): the lock is not held (no key and fencing token)",
      );
    }
    return { key, target: "create", result: "==", operand: fencingToken };
  },
};

/** One operation of a transaction. */
export type Operation =
  | { readonly get: Bytes; readonly options?: RangeOptions }
  | {
    readonly put: Bytes;
    readonly value: Bytes;
    readonly options?: PutOptions;
  }
  | { readonly delete: Bytes; readonly options?: DeleteOptions }
  | { readonly txn: TxnRequest };

/** The operations of a transaction. */
export const op: {
  /** Reads a key or range. */
  get(key: Bytes, options?: RangeOptions): Operation;
  /** Writes a key. */
  put(key: Bytes, value: Bytes, options?: PutOptions): Operation;
  /** Deletes a key or range. */
  delete(key: Bytes, options?: DeleteOptions): Operation;
  /** A transaction inside the transaction. */
  txn(request: TxnRequest): Operation;
} = {
  get: (key, options) => options ? { get: key, options } : { get: key },
  put: (key, value, options) =>
    options ? { put: key, value, options } : { put: key, value },
  delete: (key, options) =>
    options ? { delete: key, options } : { delete: key },
  txn: (request) => ({ txn: request }),
};

/** A transaction: if every compare holds, `success`, else `failure`. */
export interface TxnRequest {
  /** What must hold (all of it) for `success` to run. */
  compare?: readonly Compare[];
  /** The operations run when every compare holds. */
  success?: readonly Operation[];
  /** The operations run otherwise. */
  failure?: readonly Operation[];
}

/** What one operation of a transaction did. */
export type OperationResult =
  | { readonly type: "get"; readonly result: RangeResult }
  | { readonly type: "put"; readonly result: PutResult }
  | { readonly type: "delete"; readonly result: DeleteResult }
  | { readonly type: "txn"; readonly result: TxnResult };

/** What a transaction did. */
export interface TxnResult {
  /** Whether every compare held (and `success` ran). */
  readonly succeeded: boolean;
  /** The store's revision after it. */
  readonly revision: number;
  /** What each operation of the branch that ran did, in order. */
  readonly responses: OperationResult[];
  /** The store's header. */
  readonly header: ResponseHeader;
}

/** Keys are relative to a namespace: bytes put before every key. */
export type Namespace = Uint8Array;

const SORT_ORDER = { none: 0, ascend: 1, descend: 2 } as const;
const SORT_TARGET = {
  key: 0,
  version: 1,
  create: 2,
  mod: 3,
  value: 4,
} as const;
const TARGET = { version: 0, create: 1, mod: 2, value: 3, lease: 4 } as const;
const RESULT = { "==": 0, ">": 1, "<": 2, "!=": 3 } as const;

/** A key's bytes within a namespace. */
export function fullKey(
  key: Bytes,
  namespace: Namespace,
  what = "key",
): Uint8Array {
  return concat(namespace, bytesOf(key, what));
}

/** A key and its range end, as a request has them. */
export function keyRange(
  key: Bytes,
  range: KeyRange,
  namespace: Namespace,
): { key: Uint8Array; range_end?: Uint8Array } {
  const start = fullKey(key, namespace);
  const given = [range.prefix, range.fromKey, range.end !== undefined].filter(
    Boolean,
  ).length;
  if (given > 1) {
    throw new TypeError(
      "Invalid range: give one of prefix, fromKey and end",
    );
  }
  if (start.length === 0 && !range.prefix && !range.fromKey) {
    throw new TypeError(
      'Invalid key: it is empty; etcd needs a key (use { prefix: true } with "" for every key)',
    );
  }
  let end: Uint8Array | undefined;
  if (range.prefix) {
    end = start.length === 0 ? ZERO : prefixEnd(start);
  } else if (range.fromKey) {
    end = namespace.length === 0 ? ZERO : prefixEnd(namespace);
  } else if (range.end !== undefined) {
    end = fullKey(range.end, namespace, "range end");
  }
  // The empty key means "every key": the byte 0 stands for it.
  const fields: { key: Uint8Array; range_end?: Uint8Array } = {
    key: start.length === 0 ? ZERO : start,
  };
  if (end !== undefined) fields.range_end = end;
  return fields;
}

function checkRevision(
  revision: number | undefined,
  what: string,
): number | undefined {
  if (revision === undefined) return undefined;
  if (!Number.isSafeInteger(revision) || revision < 0) {
    throw new RangeError(
      `Invalid ${what} ${revision}: expected a revision, a whole number >= 0`,
    );
  }
  return revision;
}

/** A range request. */
export function rangeRequest(
  key: Bytes,
  options: RangeOptions,
  namespace: Namespace,
): Init<pb.RangeRequest> {
  const body: Init<pb.RangeRequest> = keyRange(key, options, namespace);
  if (options.limit !== undefined) {
    if (!Number.isSafeInteger(options.limit) || options.limit < 0) {
      throw new RangeError(
        `Invalid limit ${options.limit}: expected a whole number >= 0 (0: none)`,
      );
    }
    body.limit = options.limit;
  }
  if (options.sortOrder !== undefined) {
    const order = SORT_ORDER[options.sortOrder];
    if (order === undefined) {
      throw new TypeError(
        `Invalid sortOrder ${
          JSON.stringify(options.sortOrder)
        }: expected "none", "ascend" or "descend"`,
      );
    }
    body.sort_order = order;
  }
  if (options.sortTarget !== undefined) {
    const target = SORT_TARGET[options.sortTarget];
    if (target === undefined) {
      throw new TypeError(
        `Invalid sortTarget ${
          JSON.stringify(options.sortTarget)
        }: expected "key", "version", "create", "mod" or "value"`,
      );
    }
    body.sort_target = target;
  }
  if (options.keysOnly) body.keys_only = true;
  if (options.countOnly) body.count_only = true;
  if (options.serializable) body.serializable = true;
  const revisions: [keyof RangeOptions, keyof pb.RangeRequest & string][] = [
    ["revision", "revision"],
    ["minModRevision", "min_mod_revision"],
    ["maxModRevision", "max_mod_revision"],
    ["minCreateRevision", "min_create_revision"],
    ["maxCreateRevision", "max_create_revision"],
  ];
  for (const [option, field] of revisions) {
    const value = checkRevision(options[option] as number | undefined, option);
    if (value !== undefined) (body as Record<string, number>)[field] = value;
  }
  return body;
}

/** A range answer. */
export function rangeResult(
  answer: pb.RangeResponse,
  strip: number,
): RangeResult {
  return {
    kvs: keyValues(answer.kvs, strip),
    more: answer.more,
    count: answer.count,
    header: header(answer.header),
  };
}

/** A put request. */
export function putRequest(
  key: Bytes,
  value: Bytes,
  options: PutOptions,
  namespace: Namespace,
): Init<pb.PutRequest> {
  const body: Init<pb.PutRequest> = {
    key: requireKey(fullKey(key, namespace)),
  };
  if (!options.ignoreValue) body.value = bytesOf(value, "value");
  if (options.lease !== undefined) {
    body.lease = parseLeaseId(options.lease, "lease");
  }
  if (options.prevKv) body.prev_kv = true;
  if (options.ignoreValue) body.ignore_value = true;
  if (options.ignoreLease) body.ignore_lease = true;
  return body;
}

function requireKey(key: Uint8Array): Uint8Array {
  if (key.length === 0) {
    throw new TypeError("Invalid key: it is empty; etcd needs a key");
  }
  return key;
}

/** A put answer. */
export function putResult(answer: pb.PutResponse, strip: number): PutResult {
  const head = header(answer.header);
  const prev = answer.prev_kv;
  return {
    revision: head.revision,
    prevKv: prev === undefined ? undefined : keyValues([prev], strip)[0],
    header: head,
  };
}

/** A delete request. */
export function deleteRequest(
  key: Bytes,
  options: DeleteOptions,
  namespace: Namespace,
): Init<pb.DeleteRangeRequest> {
  const body: Init<pb.DeleteRangeRequest> = keyRange(key, options, namespace);
  if (options.prevKv) body.prev_kv = true;
  return body;
}

/** A delete answer. */
export function deleteResult(
  answer: pb.DeleteRangeResponse,
  strip: number,
): DeleteResult {
  const head = header(answer.header);
  return {
    revision: head.revision,
    deleted: answer.deleted,
    prevKvs: keyValues(answer.prev_kvs, strip),
    header: head,
  };
}

function compareMessage(
  item: Compare,
  namespace: Namespace,
): Init<pb.Compare> {
  const target = TARGET[item.target];
  const result = RESULT[item.result];
  if (target === undefined) {
    throw new TypeError(
      `Invalid compare target ${
        JSON.stringify(item.target)
      }: expected "value", "version", "create", "mod" or "lease"`,
    );
  }
  if (result === undefined) {
    throw new TypeError(
      `Invalid compare ${
        JSON.stringify(item.result)
      }: expected "==", "!=", ">" or "<"`,
    );
  }
  const range: KeyRange = {};
  if (item.prefix) range.prefix = true;
  if (item.end !== undefined) range.end = item.end;
  const message: Init<pb.Compare> = {
    ...keyRange(item.key, range, namespace),
    target,
    result,
  };
  const operand = item.operand;
  switch (item.target) {
    case "value":
      message.value = bytesOf(operand as Bytes, "compared value");
      break;
    case "lease":
      message.lease = operand === undefined
        ? 0n
        : parseLeaseId(operand as string | bigint, "compared lease");
      break;
    default: {
      if (typeof operand !== "number" || !Number.isSafeInteger(operand)) {
        throw new TypeError(
          `Invalid compare of ${item.target}: expected a whole number, got ${
            String(operand)
          }`,
        );
      }
      if (item.target === "version") message.version = operand;
      else if (item.target === "create") message.create_revision = operand;
      else message.mod_revision = operand;
    }
  }
  return message;
}

function operationMessage(
  item: Operation,
  namespace: Namespace,
): Init<pb.RequestOp> {
  if ("get" in item) {
    return {
      request_range: rangeRequest(item.get, item.options ?? {}, namespace),
    };
  }
  if ("put" in item) {
    return {
      request_put: putRequest(
        item.put,
        item.value,
        item.options ?? {},
        namespace,
      ),
    };
  }
  if ("delete" in item) {
    return {
      request_delete_range: deleteRequest(
        item.delete,
        item.options ?? {},
        namespace,
      ),
    };
  }
  if ("txn" in item) return { request_txn: txnRequest(item.txn, namespace) };
  throw new TypeError(
    "Invalid operation: use op.get, op.put, op.delete or op.txn",
  );
}

/** A transaction request. */
export function txnRequest(
  request: TxnRequest,
  namespace: Namespace,
): Init<pb.TxnRequest> {
  return {
    compare: (request.compare ?? []).map((item) =>
      compareMessage(item, namespace)
    ),
    success: (request.success ?? []).map((item) =>
      operationMessage(item, namespace)
    ),
    failure: (request.failure ?? []).map((item) =>
      operationMessage(item, namespace)
    ),
  };
}

/** A transaction answer. */
export function txnResult(answer: pb.TxnResponse, strip: number): TxnResult {
  const head = header(answer.header);
  const responses = answer.responses.map((response): OperationResult => {
    if (response.response_range !== undefined) {
      return {
        type: "get",
        result: rangeResult(response.response_range, strip),
      };
    }
    if (response.response_put !== undefined) {
      return {
        type: "put",
        result: putResult(response.response_put, strip),
      };
    }
    if (response.response_delete_range !== undefined) {
      return {
        type: "delete",
        result: deleteResult(response.response_delete_range, strip),
      };
    }
    return {
      type: "txn",
      result: txnResult(
        response.response_txn ??
          { header: undefined, succeeded: false, responses: [] },
        strip,
      ),
    };
  });
  return {
    succeeded: answer.succeeded,
    revision: head.revision,
    responses,
    header: head,
  };
}

/** A lease ID as a decimal string. */
export { leaseId };

/** IDs in answers. */
export { id };
