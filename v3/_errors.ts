// The errors of etcd's v3 API: one class per error etcd reports, found by
// its gRPC code and message (the gateway's bodies differ between 3.4 and
// 3.5), each with its kind. Public through v3/mod.ts.

import { type ErrorKind, KIND } from "../_core/kinds.ts";

/** gRPC status codes, as the gateway reports them. */
const GRPC_NAMES: Readonly<Record<number, string>> = {
  1: "Canceled",
  2: "Unknown",
  3: "InvalidArgument",
  4: "DeadlineExceeded",
  5: "NotFound",
  6: "AlreadyExists",
  7: "PermissionDenied",
  8: "ResourceExhausted",
  9: "FailedPrecondition",
  10: "Aborted",
  11: "OutOfRange",
  12: "Unimplemented",
  13: "Internal",
  14: "Unavailable",
  15: "DataLoss",
  16: "Unauthenticated",
};

/**
 * An error etcd's v3 API reported: its gRPC code, the HTTP status the
 * gateway gave, and etcd's message. {@linkcode EtcdV3Error.from} makes the
 * subclass for a code and message.
 *
 * @example Usage
 * ```ts
 * import { EtcdV3Error, PermissionDenied } from "@etcd-tree/etcd-tree";
 * import assert from "node:assert/strict";
 *
 * const error = EtcdV3Error.from(7, 403, "etcdserver: permission denied");
 * assert.ok(error instanceof PermissionDenied);
 * assert.equal(error.kind, "unauthorized");
 * ```
 */
export class EtcdV3Error extends Error {
  /** The gRPC status code, such as `7` (PermissionDenied). */
  readonly code: number;
  /** The HTTP status of the gateway's answer (`0` inside a stream). */
  readonly status: number;
  /** etcd's own message, without its `etcdserver: ` prefix. */
  readonly etcdMessage: string;

  /**
   * Constructs the error.
   *
   * @param code The gRPC status code.
   * @param status The HTTP status.
   * @param message etcd's message.
   * @param context What the request was about, for the message.
   */
  constructor(code: number, status: number, message: string, context?: string) {
    const bare = message.replace(/^etcdserver: /, "");
    super(
      `${context === undefined ? "" : `${context}: `}${bare} (etcd v3 error ${
        GRPC_NAMES[code] ?? code
      })`,
    );
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.etcdMessage = bare;
  }

  /** The gRPC code's name, such as `"PermissionDenied"`. */
  get grpcName(): string {
    return GRPC_NAMES[this.code] ?? String(this.code);
  }

  /** What kind of failure this is. */
  get kind(): ErrorKind {
    return KIND_OF_CODE[this.code] ?? "unknown";
  }

  /** The kind, for `errorKind`. */
  get [KIND](): ErrorKind {
    return this.kind;
  }

  /**
   * The error class for a code and message (the base class when none
   * fits).
   *
   * @param code The gRPC status code.
   * @param status The HTTP status.
   * @param message etcd's message.
   * @param context What the request was about.
   * @returns The error.
   */
  static from(
    code: number,
    status: number,
    message: string,
    context?: string,
  ): EtcdV3Error {
    const bare = message.replace(/^etcdserver: /, "");
    for (const [pattern, Class] of BY_MESSAGE) {
      if (pattern.test(bare)) return new Class(code, status, message, context);
    }
    const Class = BY_CODE.get(code) ?? EtcdV3Error;
    return new Class(code, status, message, context);
  }
}

const KIND_OF_CODE: Readonly<Record<number, ErrorKind>> = {
  3: "invalid",
  4: "unavailable",
  5: "not found",
  6: "exists",
  7: "unauthorized",
  8: "too large",
  9: "invalid",
  11: "invalid",
  12: "unsupported",
  14: "unavailable",
  16: "unauthorized",
};

/**
 * The revision asked for is older than the last compaction: the history
 * it needs is gone. A watch that starts there carries the compaction
 * revision: read afresh, then watch from the read's revision + 1.
 *
 * @example Usage
 * ```ts
 * import { Compacted } from "@etcd-tree/etcd-tree";
 * import assert from "node:assert/strict";
 *
 * const error = new Compacted(11, 400, "etcdserver: mvcc: required revision has been compacted");
 * assert.equal(error.kind, "history lost");
 * ```
 */
export class Compacted extends EtcdV3Error {
  /** The compaction revision, when etcd said (watches do). */
  compactRevision = 0;

  /** Always `"history lost"`. */
  override get kind(): ErrorKind {
    return "history lost";
  }
}

/** The revision asked for is newer than the store's. */
export class FutureRevision extends EtcdV3Error {}

/** The lease does not exist (it expired, or was revoked). */
export class LeaseNotFound extends EtcdV3Error {
  /** Always `"not found"`. */
  override get kind(): ErrorKind {
    return "not found";
  }
}

/** A lease with that ID exists already. */
export class LeaseExists extends EtcdV3Error {
  /** Always `"exists"`. */
  override get kind(): ErrorKind {
    return "exists";
  }
}

/** The lease's TTL is over etcd's maximum. */
export class LeaseTtlTooLarge extends EtcdV3Error {}

/** The user lacks the permission for the key range. */
export class PermissionDenied extends EtcdV3Error {
  /** Always `"unauthorized"`. */
  override get kind(): ErrorKind {
    return "unauthorized";
  }
}

/** The auth token is not valid (expired, or auth was re-enabled). */
export class InvalidAuthToken extends EtcdV3Error {
  /** Always `"unauthorized"`. */
  override get kind(): ErrorKind {
    return "unauthorized";
  }
}

/** The user name or password is wrong. */
export class AuthFailed extends EtcdV3Error {
  /** Always `"unauthorized"`. */
  override get kind(): ErrorKind {
    return "unauthorized";
  }
}

/** Auth is enabled and the request carried no user. */
export class UserRequired extends EtcdV3Error {
  /**
   * Constructs the error.
   *
   * @param code The gRPC status code.
   * @param status The HTTP status.
   * @param message etcd's message.
   * @param context What the request was about, for the message.
   */
  constructor(
    code: number,
    status: number,
    message: string,
    context?: string,
  ) {
    super(code, status, message, context);
    this.message +=
      ": etcd has authentication on and needs a user; give the client's auth option ({ username, password })";
  }

  /** Always `"unauthorized"`. */
  override get kind(): ErrorKind {
    return "unauthorized";
  }
}

/** Authentication was asked for, but auth is not enabled. */
export class AuthNotEnabled extends EtcdV3Error {}

/** Auth cannot be enabled: there is no root user with the root role. */
export class RootUserMissing extends EtcdV3Error {}

/** A user or role of that name exists already. */
export class AlreadyExists extends EtcdV3Error {
  /** Always `"exists"`. */
  override get kind(): ErrorKind {
    return "exists";
  }
}

/** No user, role, permission or member of that name or ID. */
export class NotFound extends EtcdV3Error {
  /** Always `"not found"`. */
  override get kind(): ErrorKind {
    return "not found";
  }
}

/** The transaction has more compares or operations than etcd allows. */
export class TooManyTxnOps extends EtcdV3Error {
  /** Always `"too large"`. */
  override get kind(): ErrorKind {
    return "too large";
  }
}

/** The transaction writes the same key twice. */
export class DuplicateKey extends EtcdV3Error {}

/** The request is larger than etcd's request limit. */
export class RequestTooLarge extends EtcdV3Error {
  /** Always `"too large"`. */
  override get kind(): ErrorKind {
    return "too large";
  }
}

/** The database is over its space quota: writes fail until space is freed. */
export class NoSpace extends EtcdV3Error {
  /** Always `"too large"`. */
  override get kind(): ErrorKind {
    return "too large";
  }
}

/** The member has no leader (an election, or quorum lost). */
export class NoLeader extends EtcdV3Error {
  /** Always `"unavailable"`. */
  override get kind(): ErrorKind {
    return "unavailable";
  }
}

/** etcd did not finish in time (no leader, or a slow cluster). */
export class ServerTimeout extends EtcdV3Error {
  /** Always `"unavailable"`. */
  override get kind(): ErrorKind {
    return "unavailable";
  }
}

/** The member cannot serve now. */
export class Unavailable extends EtcdV3Error {
  /** Always `"unavailable"`. */
  override get kind(): ErrorKind {
    return "unavailable";
  }
}

/** etcd refused the request's arguments. */
export class InvalidArgument extends EtcdV3Error {
  /** Always `"invalid"`. */
  override get kind(): ErrorKind {
    return "invalid";
  }
}

/** The request needs a state it is not in (a learner not yet in sync, ...). */
export class FailedPrecondition extends EtcdV3Error {}

/** The gateway does not serve this call. */
export class Unimplemented extends EtcdV3Error {
  /** Always `"unsupported"`. */
  override get kind(): ErrorKind {
    return "unsupported";
  }
}

/**
 * A write's condition did not hold: the key changed since the revision
 * given (`"compare failed"`), it exists where it must not (`"exists"`), or
 * it is gone (`"not found"`). Thrown by the layers that write with a
 * compare (the tree, the tools), where a transaction's failure is an
 * error; `client.txn()` itself reports `succeeded: false`.
 */
export class ConditionFailed extends EtcdV3Error {
  readonly #kind: ErrorKind;

  /**
   * Constructs the error.
   *
   * @param kind Which condition failed.
   * @param key The key, for the message.
   */
  constructor(kind: "compare failed" | "exists" | "not found", key: string) {
    super(
      9,
      200,
      kind === "exists"
        ? "the key exists"
        : kind === "not found"
        ? "the key does not exist"
        : "the key changed since the revision compared with",
      key,
    );
    this.#kind = kind;
    // Not etcd's message: the transaction itself succeeded.
    this.message = `${key}: ${this.etcdMessage}`;
  }

  /** Which condition failed. */
  override get kind(): ErrorKind {
    return this.#kind;
  }
}

type ErrorClass = new (
  code: number,
  status: number,
  message: string,
  context?: string,
) => EtcdV3Error;

const BY_MESSAGE: readonly [RegExp, ErrorClass][] = [
  [/required revision has been compacted/, Compacted],
  [/required revision is a future revision/, FutureRevision],
  [/requested lease not found/, LeaseNotFound],
  [/lease already exists/, LeaseExists],
  [/too large lease TTL/, LeaseTtlTooLarge],
  [/permission denied/, PermissionDenied],
  [/invalid auth token/, InvalidAuthToken],
  [/authentication failed/, AuthFailed],
  [/user name is empty/, UserRequired],
  [/authentication is not enabled/, AuthNotEnabled],
  [/root user does not (exist|have root role)/, RootUserMissing],
  [/(user|role) name already exists/, AlreadyExists],
  [/(user|role|permission|member) (name )?not (found|granted)/, NotFound],
  [/too many operations in txn request/, TooManyTxnOps],
  [/duplicate key given in txn request/, DuplicateKey],
  [/request is too large|received message larger than max/, RequestTooLarge],
  [/database space exceeded/, NoSpace],
  [/no leader/, NoLeader],
  [/request timed out|context deadline exceeded/, ServerTimeout],
  [/can only promote a learner member/, FailedPrecondition],
];

const BY_CODE: ReadonlyMap<number, ErrorClass> = new Map<number, ErrorClass>([
  [3, InvalidArgument],
  [4, ServerTimeout],
  [5, NotFound],
  [6, AlreadyExists],
  [7, PermissionDenied],
  [9, FailedPrecondition],
  [12, Unimplemented],
  [14, Unavailable],
  [16, InvalidAuthToken],
]);
