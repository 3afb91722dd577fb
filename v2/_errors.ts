// The errors of etcd's v2 API: one class per error code, grouped as etcd
// groups them, each with its kind. Public through errors.ts.

import { type ErrorKind, KIND } from "../_core/kinds.ts";
import { UnexpectedResponse } from "../_http/errors.ts";

/** The JSON body etcd sends with a v2 key-space error. */
export interface EtcdErrorBody {
  /** The numeric etcd error code, such as `100` for "Key not found". */
  errorCode: number;
  /** etcd's short description of the code. */
  message: string;
  /** What the error is about, often the key (`"/a/b"`) or `"[given != actual]"`. */
  cause?: string;
  /** The store index at which etcd found the error. */
  index?: number;
}

/**
 * An error reported by etcd with an `errorCode`.
 *
 * Use {@linkcode EtcdError.from} to get the subclass for a code; an unknown
 * code gives this base class.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, KeyNotFound } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * const error = EtcdError.from({
 *   errorCode: 100,
 *   message: "Key not found",
 *   cause: "/a",
 *   index: 7,
 * });
 * assert.ok(error instanceof KeyNotFound);
 * assert.equal(error.message, 'Key not found: "/a" (etcd error 100 at index 7)');
 * ```
 */
export class EtcdError extends Error {
  /** The etcd error code. */
  readonly errorCode: number;
  /** etcd's own description of the code, without the cause. */
  readonly etcdMessage: string;
  /** What the error is about (etcd's `cause` field), if etcd said. */
  override readonly cause: string | undefined;
  /** The store index etcd reported in the error body (`0` if absent). */
  readonly index: number;
  /** The `X-Etcd-Index` header of the response (`0` if absent). */
  readonly etcdIndex: number;
  /** The key the request was about, when the client knows it. */
  readonly key: string | undefined;

  /**
   * Constructs an error from etcd's error body.
   *
   * @param body The parsed error body.
   * @param etcdIndex The response's `X-Etcd-Index` header, if any.
   * @param key The key the request was about, if known.
   */
  constructor(body: EtcdErrorBody, etcdIndex = 0, key?: string) {
    const index = body.index ?? 0;
    const cause = body.cause === "" ? undefined : body.cause;
    const subject = brief(key ?? cause);
    let detail = `etcd error ${body.errorCode} at index ${index}`;
    if (cause !== undefined && cause !== (key ?? cause)) {
      detail += `, cause ${JSON.stringify(brief(cause))}`;
    }
    super(
      subject === undefined
        ? `${body.message} (${detail})`
        : `${body.message}: ${JSON.stringify(subject)} (${detail})`,
    );
    this.name = new.target.name;
    this.errorCode = body.errorCode;
    this.etcdMessage = body.message;
    this.cause = cause;
    this.index = index;
    this.etcdIndex = etcdIndex;
    this.key = key;
  }

  /**
   * Creates the error class for `body.errorCode`, or the base class for a
   * code this library does not know.
   *
   * @param body The parsed error body.
   * @param etcdIndex The response's `X-Etcd-Index` header, if any.
   * @param key The key the request was about, if known.
   * @returns The typed error.
   *
   * @example Usage
   * ```ts
   * import { EtcdError, NodeExists } from "@etcd-tree/etcd-tree/v2";
   * import assert from "node:assert/strict";
   *
   * const error = EtcdError.from({ errorCode: 105, message: "Key already exists" });
   * assert.ok(error instanceof NodeExists);
   * ```
   */
  static from(body: EtcdErrorBody, etcdIndex = 0, key?: string): EtcdError {
    const Class = ERROR_CLASSES.get(body.errorCode) ?? EtcdError;
    return new Class(body, etcdIndex, key);
  }

  /** What kind of failure this is (see {@linkcode ErrorKind}). */
  get kind(): ErrorKind {
    return V2_KINDS.get(this.errorCode) ??
      (this.errorCode >= 200 && this.errorCode < 300 ? "invalid" : "unknown");
  }

  /** The kind, for {@linkcode errorKind}. */
  get [KIND](): ErrorKind {
    return this.kind;
  }
}

/**
 * Group of the 1xx "command" errors: problems with the key, its kind, or a
 * condition on it.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, KeyError } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 102, message: "Not a file" }) instanceof KeyError);
 * ```
 */
export class KeyError extends EtcdError {}

/**
 * Group of the 2xx errors: etcd rejected the request's parameters.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, FormError } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 209, message: "Invalid field" }) instanceof FormError);
 * ```
 */
export class FormError extends EtcdError {}

/**
 * Group of the 3xx errors and legacy cluster errors: the cluster could not
 * serve the request (no quorum, leader election). Another member or a retry
 * may succeed.
 *
 * @example Usage
 * ```ts
 * import { ClusterError, EtcdError } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 300, message: "Raft Internal Error" }) instanceof ClusterError);
 * ```
 */
export class ClusterError extends EtcdError {}

/**
 * Group of the 4xx errors about watches and their history.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, WatchError } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * const error = EtcdError.from({ errorCode: 401, message: "The event in requested index is outdated and cleared" });
 * assert.ok(error instanceof WatchError);
 * ```
 */
export class WatchError extends EtcdError {}

/**
 * Error 100: the key does not exist.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, KeyNotFound } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 100, message: "Key not found" }) instanceof KeyNotFound);
 * ```
 */
export class KeyNotFound extends KeyError {}

/**
 * Error 101: a `prevValue` or `prevIndex` condition did not hold. The
 * `cause` says `[given != actual]`.
 *
 * @example Usage
 * ```ts
 * import { CompareFailed, EtcdError } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * const error = EtcdError.from({ errorCode: 101, message: "Compare failed", cause: "[1 != 2]" });
 * assert.ok(error instanceof CompareFailed);
 * ```
 */
export class CompareFailed extends KeyError {}

/**
 * Error 102: the key is a directory where a value was needed.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, NotAFile } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 102, message: "Not a file" }) instanceof NotAFile);
 * ```
 */
export class NotAFile extends KeyError {}

/**
 * Error 103: the cluster reached its maximum number of peers (legacy).
 *
 * @example Usage
 * ```ts
 * import { EtcdError, NoMorePeer } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 103, message: "Reached the max number of peers in the cluster" }) instanceof NoMorePeer);
 * ```
 */
export class NoMorePeer extends KeyError {}

/**
 * Error 104: a path segment is a value where a directory was needed.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, NotADirectory } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 104, message: "Not a directory" }) instanceof NotADirectory);
 * ```
 */
export class NotADirectory extends KeyError {}

/**
 * Error 105: the key exists although the request required it not to.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, NodeExists } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 105, message: "Key already exists" }) instanceof NodeExists);
 * ```
 */
export class NodeExists extends KeyError {}

/**
 * Error 106: the key's first segment is reserved by etcd.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, KeyIsPreserved } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 106, message: "The prefix of given key is a keyword in etcd" }) instanceof KeyIsPreserved);
 * ```
 */
export class KeyIsPreserved extends KeyError {}

/**
 * Error 107: the root directory cannot be written or deleted.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, RootReadOnly } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 107, message: "Root is read only" }) instanceof RootReadOnly);
 * ```
 */
export class RootReadOnly extends KeyError {}

/**
 * Error 108: a non-empty directory was deleted without `recursive`.
 *
 * @example Usage
 * ```ts
 * import { DirectoryNotEmpty, EtcdError } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 108, message: "Directory not empty" }) instanceof DirectoryNotEmpty);
 * ```
 */
export class DirectoryNotEmpty extends KeyError {}

/**
 * Error 109: a peer with this address already exists (legacy).
 *
 * @example Usage
 * ```ts
 * import { EtcdError, ExistingPeerAddress } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 109, message: "Peer address has existed" }) instanceof ExistingPeerAddress);
 * ```
 */
export class ExistingPeerAddress extends KeyError {}

/**
 * Error 110: the credentials may not perform this operation.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, Unauthorized } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 110, message: "The request requires user authentication" }) instanceof Unauthorized);
 * ```
 */
export class Unauthorized extends KeyError {}

/**
 * Error 200: a value is required.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, ValueRequired } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 200, message: "Value is Required in POST form" }) instanceof ValueRequired);
 * ```
 */
export class ValueRequired extends FormError {}

/**
 * Error 201: `prevValue` was given but empty.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, PrevValueRequired } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 201, message: "PrevValue is Required in POST form" }) instanceof PrevValueRequired);
 * ```
 */
export class PrevValueRequired extends FormError {}

/**
 * Error 202: `ttl` is not a number.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, TtlNaN } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 202, message: "The given TTL in POST form is not a number" }) instanceof TtlNaN);
 * ```
 */
export class TtlNaN extends FormError {}

/**
 * Error 203: an index (`prevIndex`, `waitIndex`) is not a number.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, IndexNaN } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 203, message: "The given index in POST form is not a number" }) instanceof IndexNaN);
 * ```
 */
export class IndexNaN extends FormError {}

/**
 * Error 204: a value or a TTL is required.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, ValueOrTtlRequired } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 204, message: "Value or TTL is required in POST form" }) instanceof ValueOrTtlRequired);
 * ```
 */
export class ValueOrTtlRequired extends FormError {}

/**
 * Error 205: a timeout is not a number.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, TimeoutNaN } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 205, message: "The given timeout in POST form is not a number" }) instanceof TimeoutNaN);
 * ```
 */
export class TimeoutNaN extends FormError {}

/**
 * Error 206: a name is required.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, NameRequired } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 206, message: "Name is required in POST form" }) instanceof NameRequired);
 * ```
 */
export class NameRequired extends FormError {}

/**
 * Error 207: an index or a value is required.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, IndexOrValueRequired } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 207, message: "Index or value is required" }) instanceof IndexOrValueRequired);
 * ```
 */
export class IndexOrValueRequired extends FormError {}

/**
 * Error 208: an index and a value were both given where they exclude each other.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, IndexValueMutex } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 208, message: "Index and value cannot both be specified" }) instanceof IndexValueMutex);
 * ```
 */
export class IndexValueMutex extends FormError {}

/**
 * Error 209: a parameter has an invalid value (for example a boolean that is
 * not `true` or `false`).
 *
 * @example Usage
 * ```ts
 * import { EtcdError, InvalidField } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 209, message: "Invalid field" }) instanceof InvalidField);
 * ```
 */
export class InvalidField extends FormError {}

/**
 * Error 210: the request form could not be parsed.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, InvalidForm } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 210, message: "Invalid POST form" }) instanceof InvalidForm);
 * ```
 */
export class InvalidForm extends FormError {}

/**
 * Error 211: a value was given with `refresh`.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, RefreshValue } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 211, message: "Value provided on refresh" }) instanceof RefreshValue);
 * ```
 */
export class RefreshValue extends FormError {}

/**
 * Error 212: `refresh` was requested without a TTL.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, RefreshTtlRequired } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 212, message: "A TTL must be provided on refresh" }) instanceof RefreshTtlRequired);
 * ```
 */
export class RefreshTtlRequired extends FormError {}

/**
 * Error 300: raft failed internally, typically because the cluster has no
 * quorum.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, RaftInternal } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 300, message: "Raft Internal Error" }) instanceof RaftInternal);
 * ```
 */
export class RaftInternal extends ClusterError {}

/**
 * Error 301: the cluster is electing a leader.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, LeaderElect } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 301, message: "During Leader Election" }) instanceof LeaderElect);
 * ```
 */
export class LeaderElect extends ClusterError {}

/**
 * Error 402: internal standby error (legacy).
 *
 * @example Usage
 * ```ts
 * import { EtcdError, StandbyInternal } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 402, message: "Standby Internal Error" }) instanceof StandbyInternal);
 * ```
 */
export class StandbyInternal extends ClusterError {}

/**
 * Error 403: invalid active cluster size (legacy).
 *
 * @example Usage
 * ```ts
 * import { EtcdError, InvalidActiveSize } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 403, message: "Invalid active size" }) instanceof InvalidActiveSize);
 * ```
 */
export class InvalidActiveSize extends ClusterError {}

/**
 * Error 404: invalid standby remove delay (legacy).
 *
 * @example Usage
 * ```ts
 * import { EtcdError, InvalidRemoveDelay } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 404, message: "Standby remove delay" }) instanceof InvalidRemoveDelay);
 * ```
 */
export class InvalidRemoveDelay extends ClusterError {}

/**
 * Error 400: etcd dropped the watcher (its buffer overflowed).
 *
 * @example Usage
 * ```ts
 * import { EtcdError, WatcherCleared } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EtcdError.from({ errorCode: 400, message: "watcher is cleared due to etcd recovery" }) instanceof WatcherCleared);
 * ```
 */
export class WatcherCleared extends WatchError {}

/**
 * Error 401: the requested `waitIndex` is older than etcd's 1000-event
 * history. Re-read the data and continue from {@linkcode EventIndexCleared.resumeIndex}.
 *
 * etcd sends this with HTTP status 400. Its `cause` reads
 * `[oldest/requested]`, parsed into {@linkcode EventIndexCleared.oldestIndex}
 * and {@linkcode EventIndexCleared.requestedIndex}.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, EventIndexCleared } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * const error = EtcdError.from({
 *   errorCode: 401,
 *   message: "The event in requested index is outdated and cleared",
 *   cause: "the requested history has been cleared [1008/7]",
 *   index: 2007,
 * });
 * assert.ok(error instanceof EventIndexCleared);
 * assert.equal(error.oldestIndex, 1008);
 * assert.equal(error.requestedIndex, 7);
 * ```
 */
export class EventIndexCleared extends WatchError {
  /** The oldest index etcd still holds in its history (`0` if unknown). */
  readonly oldestIndex: number;
  /** The index that was asked for (`0` if unknown). */
  readonly requestedIndex: number;
  /**
   * Where to go on: after a fresh read of the data, watch from that read's
   * `etcdIndex + 1`. Until such a read, this is the error's store index
   * plus one: the first index whose events are not yet known to be lost.
   */
  resumeIndex: number;

  /**
   * Constructs the error from etcd's error body.
   *
   * @param body The parsed error body.
   * @param etcdIndex The response's `X-Etcd-Index` header, if any.
   * @param key The key the request was about, if known.
   */
  constructor(body: EtcdErrorBody, etcdIndex = 0, key?: string) {
    super(body, etcdIndex, key);
    const match = /\[(\d+)\/(\d+)\]/.exec(body.cause ?? "");
    this.oldestIndex = match ? Number(match[1]) : 0;
    this.requestedIndex = match ? Number(match[2]) : 0;
    this.resumeIndex = Math.max(this.index, etcdIndex) + 1;
  }
}

const ERROR_CLASSES: ReadonlyMap<number, typeof EtcdError> = new Map<
  number,
  typeof EtcdError
>([
  [100, KeyNotFound],
  [101, CompareFailed],
  [102, NotAFile],
  [103, NoMorePeer],
  [104, NotADirectory],
  [105, NodeExists],
  [106, KeyIsPreserved],
  [107, RootReadOnly],
  [108, DirectoryNotEmpty],
  [109, ExistingPeerAddress],
  [110, Unauthorized],
  [200, ValueRequired],
  [201, PrevValueRequired],
  [202, TtlNaN],
  [203, IndexNaN],
  [204, ValueOrTtlRequired],
  [205, TimeoutNaN],
  [206, NameRequired],
  [207, IndexOrValueRequired],
  [208, IndexValueMutex],
  [209, InvalidField],
  [210, InvalidForm],
  [211, RefreshValue],
  [212, RefreshTtlRequired],
  [300, RaftInternal],
  [301, LeaderElect],
  [400, WatcherCleared],
  [401, EventIndexCleared],
  [402, StandbyInternal],
  [403, InvalidActiveSize],
  [404, InvalidRemoveDelay],
]);

/** The kind of each v2 error code that is not `"invalid"` (2xx) or unknown. */
const V2_KINDS: ReadonlyMap<number, ErrorKind> = new Map<number, ErrorKind>([
  [100, "not found"],
  [101, "compare failed"],
  [102, "wrong type"],
  [104, "wrong type"],
  [105, "exists"],
  [106, "invalid"],
  [107, "invalid"],
  [108, "not empty"],
  [109, "exists"],
  [110, "unauthorized"],
  [300, "unavailable"],
  [301, "unavailable"],
  [400, "unavailable"],
  [401, "history lost"],
  [402, "unavailable"],
  [403, "unavailable"],
  [404, "unavailable"],
]);

/**
 * The server answers, but not the v2 API: it serves v3, which the package
 * root's client speaks. etcd 3.4 and 3.5 serve v2 only with
 * `--enable-v2=true`, and etcd 3.6 has no v2 API at all.
 *
 * @example Usage
 * ```ts
 * import { V2Disabled } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * const error = new V2Disabled("GET /v2/keys/a", "http://127.0.0.1:2379", "404 page not found");
 * assert.match(error.message, /serves etcd's v3 API/);
 * ```
 */
export class V2Disabled extends UnexpectedResponse {
  /**
   * Constructs the error.
   *
   * @param request What was being requested.
   * @param endpoint The endpoint that answered.
   * @param body The response body.
   */
  constructor(request: string, endpoint: string, body: string) {
    super(
      request,
      404,
      body,
      `${endpoint} serves etcd's v3 API but not v2: use the v3 client (import { Client } from "@etcd-tree/etcd-tree"); only etcd 3.4 and 3.5 started with --enable-v2=true serve v2, and etcd 3.6 removed it`,
    );
  }

  /** Always `"unsupported"`. */
  override get kind(): ErrorKind {
    return "unsupported";
  }
}

/** A key for a message: long ones shortened. */
function brief(text: string | undefined): string | undefined {
  if (text === undefined || text.length <= 200) return text;
  return `${text.slice(0, 120)}...(${text.length} characters)`;
}
