// etcdserverpb.ResponseHeader, which every answer carries. Internal.

import { int64, message, MessageType, uint64, uint64n } from "./message.ts";

/** etcdserverpb.ResponseHeader: who answered, at which revision. */
export interface ResponseHeader {
  /** The cluster's ID. */
  cluster_id: bigint;
  /** The answering member's ID. */
  member_id: bigint;
  /** The store's revision when it answered. */
  revision: number;
  /** The raft term. */
  raft_term: number;
}

/** etcdserverpb.ResponseHeader. */
export const ResponseHeader: MessageType<ResponseHeader> = new MessageType(
  "etcdserverpb.ResponseHeader",
  {
    cluster_id: uint64n(1),
    member_id: uint64n(2),
    revision: int64(3),
    raft_term: uint64(4),
  },
);

/** An answer that is only a header (LeaseRevokeResponse and many more). */
export interface HeaderOnly {
  header: ResponseHeader | undefined;
}

/** The type of an answer that is only a header. */
export function headerOnly(name: string): MessageType<HeaderOnly> {
  return new MessageType(name, { header: message(1, () => ResponseHeader) });
}

/**
 * The header of any answer, the rest of it skipped (every etcd answer
 * carries its header as field 1).
 */
export const AnyAnswer: MessageType<HeaderOnly> = headerOnly(
  "etcdserverpb.*Response",
);

/** A request without fields (StatusRequest and many more). */
export type Empty = Record<never, never>;

/** The type of a request without fields. */
export function empty(name: string): MessageType<Empty> {
  return new MessageType(name, {});
}
