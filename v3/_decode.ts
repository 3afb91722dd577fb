// Turning etcd's answers (decoded v3/_proto messages, whichever the wire)
// into results, and the gateway's error bodies into typed errors.
// Internal; the result types are public through v3/mod.ts.

import { describeRequest, type HttpResponse } from "../_http/dispatcher.ts";
import { UnexpectedResponse } from "../_http/errors.ts";
import type { ClusterPin } from "../_http/failover.ts";
import { Compacted, EtcdV3Error } from "./_errors.ts";
import { describeBytes, textOf } from "./_keys.ts";
import { leaseIdFrom } from "./_lease_id.ts";
import type * as pb from "./_proto/mod.ts";

/**
 * Pins the cluster of an answer from `endpoint` by its header (every etcd
 * answer has one; an answer without is let be).
 *
 * @throws {ClusterMismatch} When the answer is another cluster's.
 */
export function checkCluster(
  pin: ClusterPin,
  endpoint: string,
  answer: object,
): void {
  const cluster = (answer as { header?: pb.ResponseHeader }).header
    ?.cluster_id;
  if (cluster) pin.check(endpoint, cluster);
}

/** A revision, version or count: a JSON string of a 64-bit integer. */
export function int(text: string | number | undefined): number {
  if (text === undefined) return 0;
  const value = typeof text === "number" ? text : Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new TypeError(
      `Cannot read the number ${JSON.stringify(text)} from etcd exactly`,
    );
  }
  return value;
}

/** An ID (member, cluster): kept as the exact decimal string. */
export function id(value: bigint | string | number | undefined): string {
  if (value === undefined) return "0";
  return typeof value === "string" ? value : BigInt(value).toString();
}

/** What the store looked like when it answered. */
export interface ResponseHeader {
  /** The cluster's ID (decimal). */
  readonly clusterId: string;
  /** The answering member's ID (decimal). */
  readonly memberId: string;
  /** The store's revision when it answered (0 when not given). */
  readonly revision: number;
  /** The raft term. */
  readonly raftTerm: number;
}

/** The header of an answer. */
export function header(
  message: pb.ResponseHeader | undefined,
): ResponseHeader {
  if (message === undefined) return NO_HEADER;
  return {
    clusterId: message.cluster_id.toString(),
    memberId: message.member_id.toString(),
    revision: message.revision,
    raftTerm: message.raft_term,
  };
}

const NO_HEADER: ResponseHeader = Object.freeze({
  clusterId: "0",
  memberId: "0",
  revision: 0,
  raftTerm: 0,
});

/** A key-value pair as etcd sends it (`mvccpb.KeyValue`). */
export interface KeyValueMessage {
  /** The key. */
  readonly key: Uint8Array;
  /** The value. */
  readonly value: Uint8Array;
  /** The revision of the key's last creation. */
  readonly create_revision: number;
  /** The revision of the key's last change. */
  readonly mod_revision: number;
  /** Writes since creation. */
  readonly version: number;
  /** The lease's ID, `0n` for none. */
  readonly lease: bigint;
}

/**
 * One key with its value and metadata. Keys and values are bytes
 * (`keyBytes`, `valueBytes`); `key` and `value` give them as text, and
 * throw a `TypeError` when they are not UTF-8 (nothing is lossy).
 *
 * @example Usage
 * ```ts
 * import { KeyValue } from "@etcd-tree/etcd-tree";
 * import assert from "node:assert/strict";
 *
 * const bytes = (text: string) => new TextEncoder().encode(text);
 * const kv = new KeyValue({
 *   key: bytes("a/1"),
 *   value: bytes("x"),
 *   create_revision: 2,
 *   mod_revision: 2,
 *   version: 1,
 *   lease: 0n,
 * });
 * assert.equal(kv.key, "a/1");
 * assert.equal(kv.value, "x");
 * assert.equal(kv.modRevision, 2);
 * ```
 */
export class KeyValue {
  readonly #message: KeyValueMessage;
  readonly #strip: number;

  /**
   * Wraps a key-value pair as etcd sends it.
   *
   * @param message The decoded `mvccpb.KeyValue`.
   * @param strip Bytes to leave off the key's start (a namespace's).
   */
  constructor(message: KeyValueMessage, strip = 0) {
    this.#message = message;
    this.#strip = strip;
  }

  /** The key's bytes (relative to the namespace, in a namespace). */
  get keyBytes(): Uint8Array {
    const key = this.#message.key;
    return this.#strip === 0 ? key : key.subarray(this.#strip);
  }

  /** The value's bytes (empty for a deleted key). */
  get valueBytes(): Uint8Array {
    return this.#message.value;
  }

  /**
   * The key as text.
   *
   * @throws {TypeError} When the key is not UTF-8 (use `keyBytes`).
   */
  get key(): string {
    return text(this.keyBytes, "key");
  }

  /**
   * The value as text.
   *
   * @throws {TypeError} When the value is not UTF-8 (use `valueBytes`).
   */
  get value(): string {
    // The key is described only when the value is refused (a hot path).
    return text(
      this.valueBytes,
      () => `value of ${describeBytes(this.keyBytes)}`,
    );
  }

  /** The revision that created the key (since it last did not exist). */
  get createRevision(): number {
    return this.#message.create_revision;
  }

  /** The revision that last changed the key. */
  get modRevision(): number {
    return this.#message.mod_revision;
  }

  /** How many times the key was written since it was created. */
  get version(): number {
    return this.#message.version;
  }

  /**
   * The ID of the lease the key is attached to, in 16 hex digits as
   * etcdctl prints it; `undefined` for none.
   */
  get lease(): string | undefined {
    const lease = this.#message.lease;
    return lease === 0n ? undefined : leaseIdFrom(lease);
  }

  /** The pair as plain data, for JSON and logs. */
  toJSON(): Record<string, unknown> {
    const key = textOf(this.keyBytes);
    const value = textOf(this.valueBytes);
    return {
      key: key ?? { base64: this.keyBytes.toBase64() },
      value: value ?? { base64: this.valueBytes.toBase64() },
      createRevision: this.createRevision,
      modRevision: this.modRevision,
      version: this.version,
      lease: this.lease,
    };
  }
}

function text(bytes: Uint8Array, what: string | (() => string)): string {
  const decoded = textOf(bytes);
  if (decoded === undefined) {
    const named = typeof what === "string" ? what : what();
    throw new TypeError(
      `Cannot give the ${named} as text: it is not UTF-8; use ${
        named === "key" ? "keyBytes" : "valueBytes"
      }`,
    );
  }
  return decoded;
}

/** The key-value pairs of an answer. */
export function keyValues(
  messages: readonly KeyValueMessage[],
  strip = 0,
): KeyValue[] {
  const out = new Array<KeyValue>(messages.length);
  for (let i = 0; i < messages.length; i++) {
    out[i] = new KeyValue(messages[i]!, strip);
  }
  return out;
}

/** A JSON object from an answer's text; anything else is unexpected. */
export function parseBody(
  request: { method: string; path: string },
  response: HttpResponse,
): Record<string, unknown> {
  let body: unknown;
  try {
    body = response.text === "" ? {} : JSON.parse(response.text);
  } catch {
    throw new UnexpectedResponse(
      describeRequest(request),
      response.status,
      response.text,
      `HTTP ${response.status} with a body that is not JSON${
        response.status === 404
          ? ` (${response.endpoint} serves no etcd v3 JSON gateway here)`
          : ""
      }`,
    );
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new UnexpectedResponse(
      describeRequest(request),
      response.status,
      response.text,
    );
  }
  return body as Record<string, unknown>;
}

/** The error of a failed answer, by the gateway's body (3.4 or 3.5 shape). */
export function errorOf(
  body: Record<string, unknown>,
  status: number,
  context?: string,
  tls = false,
): EtcdV3Error | undefined {
  // 3.5: {code, message}; 3.4: {error, message, code}; in streams: {error:
  // {code | grpc_code, message, ...}}.
  const inner = typeof body.error === "object" && body.error !== null
    ? body.error as Record<string, unknown>
    : body;
  const code = inner.code ?? inner.grpc_code;
  const message = inner.message ?? inner.error;
  if (typeof code !== "number" && typeof message !== "string") return undefined;
  let text = typeof message === "string" ? message : "";
  if (tls && code === 14 && GATEWAY_DIAL.test(text)) text += EKU_HINT;
  return EtcdV3Error.from(
    typeof code === "number" ? code : 2,
    status,
    text,
    context,
  );
}

// The gateway dials etcd's own gRPC port presenting the server's
// certificate: with --trusted-ca-file that needs EKU clientAuth. etcd words
// the refusal as it happens to see it: a bad certificate, a closed
// connection, or a preface it could not write (the peer reset it).
const GATEWAY_DIAL =
  /bad certificate|^connection closed$|failed to write client preface/;
const EKU_HINT =
  " (etcd's gateway could not reach its own gRPC port: when etcd has --trusted-ca-file, its server certificate must allow extended key usage clientAuth as well as serverAuth)";

/**
 * Decodes an answer: the body on success, the typed error otherwise.
 * `context` names what the call was about, for messages.
 */
export function decodeAnswer(
  request: { method: string; path: string },
  response: HttpResponse,
  context?: string,
): Record<string, unknown> {
  const body = parseBody(request, response);
  if (response.status === 200) return body;
  const error = errorOf(
    body,
    response.status,
    context,
    response.endpoint.startsWith("https:"),
  );
  if (error !== undefined) throw error;
  throw new UnexpectedResponse(
    describeRequest(request),
    response.status,
    response.text,
  );
}

/** A watch's cancel message as the error it stands for. */
export function watchCancel(
  response: pb.WatchResponse,
  context: string,
): EtcdV3Error {
  if (response.compact_revision !== 0) {
    const error = new Compacted(
      11,
      0,
      "etcdserver: mvcc: required revision has been compacted",
      context,
    );
    error.compactRevision = response.compact_revision;
    return error;
  }
  const reason = response.cancel_reason || "the watch was canceled";
  // "rpc error: code = PermissionDenied desc = etcdserver: permission denied"
  const match = /code = (\w+) desc = (.*)$/.exec(reason);
  const code = match ? CODE_OF_NAME[match[1]!] ?? 2 : 1;
  return EtcdV3Error.from(code, 0, match ? match[2]! : reason, context);
}

const CODE_OF_NAME: Readonly<Record<string, number>> = {
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  OutOfRange: 11,
  Unimplemented: 12,
  Unavailable: 14,
  Unauthenticated: 16,
};
