/**
 * Errors raised by the etcd client.
 *
 * Every error etcd reports with an `errorCode` becomes an {@linkcode EtcdError}
 * subclass named after that code ({@linkcode KeyNotFound} for 100,
 * {@linkcode CompareFailed} for 101, ...). The codes are grouped as etcd groups
 * them, so a caller can catch a whole family at once:
 * {@linkcode KeyError} (1xx), {@linkcode FormError} (2xx),
 * {@linkcode ClusterError} (3xx) and {@linkcode WatchError} (4xx).
 *
 * Problems below the etcd protocol are {@linkcode TransportError}s:
 * {@linkcode ConnectionFailed}, {@linkcode RequestTimeout},
 * {@linkcode UnexpectedResponse} and {@linkcode V2Disabled}.
 *
 * @example Usage
 * ```ts
 * import { Client, KeyNotFound } from "@etcd-tree/etcd-tree";
 *
 * async function readOr(client: Client, key: string, fallback: string) {
 *   try {
 *     const { node } = await client.get(key);
 *     return "value" in node ? node.value : fallback;
 *   } catch (error) {
 *     if (error instanceof KeyNotFound) return fallback;
 *     throw error;
 *   }
 * }
 * ```
 *
 * @module
 */

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
 * import { EtcdError, KeyNotFound } from "@etcd-tree/etcd-tree/errors";
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
    const subject = key ?? cause;
    let detail = `etcd error ${body.errorCode} at index ${index}`;
    if (cause !== undefined && cause !== subject) {
      detail += `, cause ${JSON.stringify(cause)}`;
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
   * import { EtcdError, NodeExists } from "@etcd-tree/etcd-tree/errors";
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
}

/**
 * Group of the 1xx "command" errors: problems with the key, its kind, or a
 * condition on it.
 *
 * @example Usage
 * ```ts
 * import { EtcdError, KeyError } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, FormError } from "@etcd-tree/etcd-tree/errors";
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
 * import { ClusterError, EtcdError } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, WatchError } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, KeyNotFound } from "@etcd-tree/etcd-tree/errors";
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
 * import { CompareFailed, EtcdError } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, NotAFile } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, NoMorePeer } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, NotADirectory } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, NodeExists } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, KeyIsPreserved } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, RootReadOnly } from "@etcd-tree/etcd-tree/errors";
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
 * import { DirectoryNotEmpty, EtcdError } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, ExistingPeerAddress } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, Unauthorized } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, ValueRequired } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, PrevValueRequired } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, TtlNaN } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, IndexNaN } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, ValueOrTtlRequired } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, TimeoutNaN } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, NameRequired } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, IndexOrValueRequired } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, IndexValueMutex } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, InvalidField } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, InvalidForm } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, RefreshValue } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, RefreshTtlRequired } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, RaftInternal } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, LeaderElect } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, StandbyInternal } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, InvalidActiveSize } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, InvalidRemoveDelay } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, WatcherCleared } from "@etcd-tree/etcd-tree/errors";
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
 * import { EtcdError, EventIndexCleared } from "@etcd-tree/etcd-tree/errors";
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

/**
 * Base class of the errors below etcd's protocol: the request did not get an
 * etcd answer at all.
 *
 * @example Usage
 * ```ts
 * import { Client, TransportError } from "@etcd-tree/etcd-tree";
 *
 * async function reachable(client: Client): Promise<boolean> {
 *   try {
 *     await client.version();
 *     return true;
 *   } catch (error) {
 *     if (error instanceof TransportError) return false;
 *     throw error;
 *   }
 * }
 * ```
 */
export class TransportError extends Error {
  /**
   * Constructs the error.
   *
   * @param message What failed, then the detail after a colon.
   * @param options The underlying cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One endpoint a request tried, and why it failed. */
export interface EndpointFailure {
  /** The endpoint's base URL. */
  endpoint: string;
  /** What went wrong there. */
  error: unknown;
}

/**
 * No endpoint could be reached. The message names every endpoint tried and
 * why it failed; {@linkcode ConnectionFailed.failures} has the details.
 *
 * @example Usage
 * ```ts
 * import { ConnectionFailed } from "@etcd-tree/etcd-tree/errors";
 * import assert from "node:assert/strict";
 *
 * const error = new ConnectionFailed("GET /v2/keys/a", [
 *   { endpoint: "http://127.0.0.1:1", error: new Error("Connection refused") },
 * ]);
 * assert.match(error.message, /127\.0\.0\.1:1: Connection refused/);
 * ```
 */
export class ConnectionFailed extends TransportError {
  /** Each endpoint tried, in order, with its error. */
  readonly failures: readonly EndpointFailure[];
  /**
   * Whether the request was a write that reached a member before the
   * connection broke: etcd may have applied it.
   */
  readonly mayHaveBeenApplied: boolean;

  /**
   * Constructs the error.
   *
   * @param request What was being requested, such as `"GET /v2/keys/a"`.
   * @param failures Each endpoint tried and its error.
   * @param mayHaveBeenApplied Whether a write reached a member first.
   */
  constructor(
    request: string,
    failures: readonly EndpointFailure[],
    mayHaveBeenApplied = false,
  ) {
    const detail = failures.map(({ endpoint, error }) =>
      `${endpoint}: ${describe(error)}`
    ).join("; ");
    super(
      `Cannot reach etcd for ${request}: ${detail}` +
        (mayHaveBeenApplied ? MAY_HAVE_BEEN_APPLIED : ""),
      { cause: failures.at(-1)?.error },
    );
    this.failures = failures;
    this.mayHaveBeenApplied = mayHaveBeenApplied;
  }
}

const MAY_HAVE_BEEN_APPLIED =
  "; the write may have been applied; read the key before retrying";

/**
 * The request did not finish within the client's `timeout`.
 *
 * For a write, {@linkcode RequestTimeout.mayHaveBeenApplied} is `true`: etcd
 * may still apply it after the client gave up, so read the key before
 * retrying a non-idempotent write.
 *
 * @example Usage
 * ```ts
 * import { RequestTimeout } from "@etcd-tree/etcd-tree/errors";
 * import assert from "node:assert/strict";
 *
 * const error = new RequestTimeout("PUT /v2/keys/a", "http://127.0.0.1:2379", 5000, true);
 * assert.ok(error.mayHaveBeenApplied);
 * assert.match(error.message, /may have been applied/);
 * ```
 */
export class RequestTimeout extends TransportError {
  /** The timeout that elapsed, in milliseconds. */
  readonly timeout: number;
  /** Whether the request was a write that etcd may still apply. */
  readonly mayHaveBeenApplied: boolean;

  /**
   * Constructs the error.
   *
   * @param request What was being requested, such as `"PUT /v2/keys/a"`.
   * @param endpoint The endpoint that did not answer in time.
   * @param timeout The timeout in milliseconds.
   * @param mayHaveBeenApplied Whether the request was a write.
   */
  constructor(
    request: string,
    endpoint: string,
    timeout: number,
    mayHaveBeenApplied: boolean,
  ) {
    super(
      `Timed out after ${timeout} ms for ${request} at ${endpoint}` +
        (mayHaveBeenApplied ? MAY_HAVE_BEEN_APPLIED : ""),
    );
    this.timeout = timeout;
    this.mayHaveBeenApplied = mayHaveBeenApplied;
  }
}

/**
 * The server answered with something that is not an etcd v2 answer: an
 * unexpected status, a redirect, or a body that is not the expected JSON.
 *
 * @example Usage
 * ```ts
 * import { UnexpectedResponse } from "@etcd-tree/etcd-tree/errors";
 * import assert from "node:assert/strict";
 *
 * const error = new UnexpectedResponse("GET /v2/keys/a", 502, "<html>Bad gateway</html>");
 * assert.equal(error.status, 502);
 * assert.match(error.message, /HTTP 502/);
 * ```
 */
export class UnexpectedResponse extends TransportError {
  /** The HTTP status code. */
  readonly status: number;
  /** The start of the response body (at most 200 characters). */
  readonly excerpt: string;
  /**
   * Whether the request was a write that a member may have applied before
   * this answer (a gateway's 5xx, say, after forwarding it).
   */
  readonly mayHaveBeenApplied: boolean;

  /**
   * Constructs the error.
   *
   * @param request What was being requested, such as `"GET /v2/keys/a"`.
   * @param status The HTTP status.
   * @param body The response body (shortened in the message).
   * @param detail What was wrong with the answer, if more is known.
   * @param mayHaveBeenApplied Whether a write may have been applied.
   */
  constructor(
    request: string,
    status: number,
    body: string,
    detail?: string,
    mayHaveBeenApplied = false,
  ) {
    const excerpt = body.length > 200 ? `${body.slice(0, 200)}...` : body;
    super(
      `Unexpected answer from etcd for ${request}: ${
        detail ?? `HTTP ${status}`
      }: ${JSON.stringify(excerpt)}` +
        (mayHaveBeenApplied ? MAY_HAVE_BEEN_APPLIED : ""),
    );
    this.status = status;
    this.excerpt = excerpt;
    this.mayHaveBeenApplied = mayHaveBeenApplied;
  }
}

/**
 * The server answers, but not the v2 API: etcd 3.4 and 3.5 need
 * `--enable-v2=true`, and etcd 3.6 has no v2 API at all.
 *
 * @example Usage
 * ```ts
 * import { V2Disabled } from "@etcd-tree/etcd-tree/errors";
 * import assert from "node:assert/strict";
 *
 * const error = new V2Disabled("GET /v2/keys/a", "http://127.0.0.1:2379", "404 page not found");
 * assert.match(error.message, /--enable-v2=true/);
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
      `${endpoint} does not serve the etcd v2 API; start etcd with --enable-v2=true (etcd 3.4 or 3.5)`,
    );
  }
}

/**
 * An endpoint answered for another etcd cluster than the one the client
 * first talked to (`X-Etcd-Cluster-Id` differs): its answer is not used.
 *
 * @example Usage
 * ```ts
 * import { ClusterMismatch } from "@etcd-tree/etcd-tree/errors";
 * import assert from "node:assert/strict";
 *
 * const error = new ClusterMismatch("http://10.0.0.9:2379", "cdf818194e3a8c32", "48276a8f75b6a87");
 * assert.match(error.message, /belongs to cluster 48276a8f75b6a87, not cdf818194e3a8c32/);
 * ```
 */
export class ClusterMismatch extends TransportError {
  /** The endpoint that answered. */
  readonly endpoint: string;
  /** The cluster id the client is pinned to. */
  readonly expected: string;
  /** The cluster id the endpoint answered with. */
  readonly actual: string;

  /**
   * Constructs the error.
   *
   * @param endpoint The endpoint that answered.
   * @param expected The cluster id the client is pinned to.
   * @param actual The cluster id in the answer.
   */
  constructor(endpoint: string, expected: string, actual: string) {
    super(
      `Cannot use the answer of ${endpoint}: it belongs to cluster ${actual}, not ${expected}`,
    );
    this.endpoint = endpoint;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * The client was closed; no request can be made with it.
 *
 * @example Usage
 * ```ts
 * import { Client, ClientClosed } from "@etcd-tree/etcd-tree";
 * import assert from "node:assert/strict";
 *
 * const client = new Client();
 * await client.close();
 * await assert.rejects(client.get("a"), ClientClosed);
 * ```
 */
export class ClientClosed extends Error {
  /** Constructs the error. */
  constructor() {
    super("Cannot use the etcd client: it is closed");
    this.name = "ClientClosed";
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Deno's fetch wraps the OS error: "error sending request for url (...):
  // client error (Connect): tcp connect error: Connection refused ..." (or
  // "error sending request from A for URL (B): ...").
  let message = error.message;
  let cause: unknown = error.cause;
  while (cause instanceof Error && !message.startsWith("TLS: ")) {
    message = cause.message;
    cause = cause.cause;
  }
  if (message.startsWith("TLS: ")) return message;
  message = message.replace(/^error sending request .*? \([^)]*\): /, "");
  return explainTls(message) ?? message;
}

/** Says in words which TLS problem a message from the TLS library means. */
function explainTls(message: string): string | undefined {
  const known: [RegExp, string][] = [
    [
      /UnknownIssuer|unknown ?ca|self.signed/i,
      "TLS: the server's certificate is not signed by a trusted CA (give the CA with caCert / --cacert)",
    ],
    [
      /NotValidForName|not valid for name|hostname/i,
      "TLS: the server's certificate is not valid for this host name",
    ],
    [
      /CertificateRequired|certificate required|HandshakeFailure|BadCertificate|bad certificate/i,
      "TLS: the server requires a client certificate it accepts (give cert and key / --cert and --key)",
    ],
    [
      /Expired/i,
      "TLS: the server's certificate has expired",
    ],
    [
      /InvalidContentType|CorruptMessage|wrong version number/i,
      "TLS: the server does not speak TLS here (use http://) or speaks only TLS (use https://)",
    ],
  ];
  for (const [pattern, text] of known) {
    if (pattern.test(message)) return `${text}: ${message}`;
  }
  return undefined;
}
