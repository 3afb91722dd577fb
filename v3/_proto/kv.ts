// etcd's KV service (api/etcdserverpb/rpc.proto): ranges, puts, deletes,
// transactions and compaction. Internal.

import { ResponseHeader } from "./header.ts";
import {
  bool,
  bytes,
  enumOf,
  int64,
  int64n,
  message,
  messages,
  MessageType,
  oneof,
} from "./message.ts";
import { KeyValue } from "./mvccpb.ts";

/** RangeRequest.SortOrder. */
export const SortOrder = { NONE: 0, ASCEND: 1, DESCEND: 2 } as const;
/** RangeRequest.SortTarget. */
export const SortTarget = {
  KEY: 0,
  VERSION: 1,
  CREATE: 2,
  MOD: 3,
  VALUE: 4,
} as const;

/** etcdserverpb.RangeRequest: read a key or a range of keys. */
export interface RangeRequest {
  key: Uint8Array;
  range_end: Uint8Array;
  limit: number;
  revision: number;
  /** A `SortOrder`. */
  sort_order: number;
  /** A `SortTarget`. */
  sort_target: number;
  serializable: boolean;
  keys_only: boolean;
  count_only: boolean;
  min_mod_revision: number;
  max_mod_revision: number;
  min_create_revision: number;
  max_create_revision: number;
}

/** etcdserverpb.RangeRequest. */
export const RangeRequest: MessageType<RangeRequest> = new MessageType(
  "etcdserverpb.RangeRequest",
  {
    key: bytes(1),
    range_end: bytes(2),
    limit: int64(3),
    revision: int64(4),
    sort_order: enumOf(5, ["NONE", "ASCEND", "DESCEND"]),
    sort_target: enumOf(6, ["KEY", "VERSION", "CREATE", "MOD", "VALUE"]),
    serializable: bool(7),
    keys_only: bool(8),
    count_only: bool(9),
    min_mod_revision: int64(10),
    max_mod_revision: int64(11),
    min_create_revision: int64(12),
    max_create_revision: int64(13),
  },
);

/** etcdserverpb.RangeResponse. */
export interface RangeResponse {
  header: ResponseHeader | undefined;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

/** etcdserverpb.RangeResponse. */
export const RangeResponse: MessageType<RangeResponse> = new MessageType(
  "etcdserverpb.RangeResponse",
  {
    header: message(1, () => ResponseHeader),
    kvs: messages(2, () => KeyValue),
    more: bool(3),
    count: int64(4),
  },
);

/** etcdserverpb.PutRequest. */
export interface PutRequest {
  key: Uint8Array;
  value: Uint8Array;
  lease: bigint;
  prev_kv: boolean;
  ignore_value: boolean;
  ignore_lease: boolean;
}

/** etcdserverpb.PutRequest. */
export const PutRequest: MessageType<PutRequest> = new MessageType(
  "etcdserverpb.PutRequest",
  {
    key: bytes(1),
    value: bytes(2),
    lease: int64n(3),
    prev_kv: bool(4),
    ignore_value: bool(5),
    ignore_lease: bool(6),
  },
);

/** etcdserverpb.PutResponse. */
export interface PutResponse {
  header: ResponseHeader | undefined;
  prev_kv: KeyValue | undefined;
}

/** etcdserverpb.PutResponse. */
export const PutResponse: MessageType<PutResponse> = new MessageType(
  "etcdserverpb.PutResponse",
  {
    header: message(1, () => ResponseHeader),
    prev_kv: message(2, () => KeyValue),
  },
);

/** etcdserverpb.DeleteRangeRequest. */
export interface DeleteRangeRequest {
  key: Uint8Array;
  range_end: Uint8Array;
  prev_kv: boolean;
}

/** etcdserverpb.DeleteRangeRequest. */
export const DeleteRangeRequest: MessageType<DeleteRangeRequest> =
  new MessageType("etcdserverpb.DeleteRangeRequest", {
    key: bytes(1),
    range_end: bytes(2),
    prev_kv: bool(3),
  });

/** etcdserverpb.DeleteRangeResponse. */
export interface DeleteRangeResponse {
  header: ResponseHeader | undefined;
  deleted: number;
  prev_kvs: KeyValue[];
}

/** etcdserverpb.DeleteRangeResponse. */
export const DeleteRangeResponse: MessageType<DeleteRangeResponse> =
  new MessageType("etcdserverpb.DeleteRangeResponse", {
    header: message(1, () => ResponseHeader),
    deleted: int64(2),
    prev_kvs: messages(3, () => KeyValue),
  });

/** etcdserverpb.RequestOp: one operation of a transaction (one member set). */
export interface RequestOp {
  request_range: RangeRequest | undefined;
  request_put: PutRequest | undefined;
  request_delete_range: DeleteRangeRequest | undefined;
  request_txn: TxnRequest | undefined;
}

/** etcdserverpb.RequestOp. */
export const RequestOp: MessageType<RequestOp> = new MessageType(
  "etcdserverpb.RequestOp",
  {
    request_range: message(1, () => RangeRequest),
    request_put: message(2, () => PutRequest),
    request_delete_range: message(3, () => DeleteRangeRequest),
    request_txn: message(4, () => TxnRequest),
  },
);

/** etcdserverpb.ResponseOp: the answer to one operation (one member set). */
export interface ResponseOp {
  response_range: RangeResponse | undefined;
  response_put: PutResponse | undefined;
  response_delete_range: DeleteRangeResponse | undefined;
  response_txn: TxnResponse | undefined;
}

/** etcdserverpb.ResponseOp. */
export const ResponseOp: MessageType<ResponseOp> = new MessageType(
  "etcdserverpb.ResponseOp",
  {
    response_range: message(1, () => RangeResponse),
    response_put: message(2, () => PutResponse),
    response_delete_range: message(3, () => DeleteRangeResponse),
    response_txn: message(4, () => TxnResponse),
  },
);

/** Compare.CompareResult. */
export const CompareResult = {
  EQUAL: 0,
  GREATER: 1,
  LESS: 2,
  NOT_EQUAL: 3,
} as const;
/** Compare.CompareTarget. */
export const CompareTarget = {
  VERSION: 0,
  CREATE: 1,
  MOD: 2,
  VALUE: 3,
  LEASE: 4,
} as const;

/**
 * etcdserverpb.Compare: a condition of a transaction. Set the one operand
 * member that `target` names (sent even when zero).
 */
export interface Compare {
  /** A `CompareResult`. */
  result: number;
  /** A `CompareTarget`. */
  target: number;
  key: Uint8Array;
  version: number | undefined;
  create_revision: number | undefined;
  mod_revision: number | undefined;
  value: Uint8Array | undefined;
  lease: bigint | undefined;
  range_end: Uint8Array;
}

/** etcdserverpb.Compare. */
export const Compare: MessageType<Compare> = new MessageType(
  "etcdserverpb.Compare",
  {
    result: enumOf(1, ["EQUAL", "GREATER", "LESS", "NOT_EQUAL"]),
    target: enumOf(2, ["VERSION", "CREATE", "MOD", "VALUE", "LEASE"]),
    key: bytes(3),
    version: oneof(int64(4)),
    create_revision: oneof(int64(5)),
    mod_revision: oneof(int64(6)),
    value: oneof(bytes(7)),
    lease: oneof(int64n(8)),
    range_end: bytes(64),
  },
);

/** etcdserverpb.TxnRequest. */
export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

/** etcdserverpb.TxnRequest. */
export const TxnRequest: MessageType<TxnRequest> = new MessageType(
  "etcdserverpb.TxnRequest",
  {
    compare: messages(1, () => Compare),
    success: messages(2, () => RequestOp),
    failure: messages(3, () => RequestOp),
  },
);

/** etcdserverpb.TxnResponse. */
export interface TxnResponse {
  header: ResponseHeader | undefined;
  succeeded: boolean;
  responses: ResponseOp[];
}

/** etcdserverpb.TxnResponse. */
export const TxnResponse: MessageType<TxnResponse> = new MessageType(
  "etcdserverpb.TxnResponse",
  {
    header: message(1, () => ResponseHeader),
    succeeded: bool(2),
    responses: messages(3, () => ResponseOp),
  },
);

/** etcdserverpb.CompactionRequest. */
export interface CompactionRequest {
  revision: number;
  physical: boolean;
}

/** etcdserverpb.CompactionRequest. */
export const CompactionRequest: MessageType<CompactionRequest> =
  new MessageType("etcdserverpb.CompactionRequest", {
    revision: int64(1),
    physical: bool(2),
  });

/** etcdserverpb.CompactionResponse. */
export interface CompactionResponse {
  header: ResponseHeader | undefined;
}

/** etcdserverpb.CompactionResponse. */
export const CompactionResponse: MessageType<CompactionResponse> =
  new MessageType("etcdserverpb.CompactionResponse", {
    header: message(1, () => ResponseHeader),
  });
