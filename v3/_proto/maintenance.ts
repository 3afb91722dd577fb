// etcd's Maintenance service: alarms, status, defragmentation, hashes,
// snapshots (a server stream) and leadership transfer. Internal.

import {
  type Empty,
  empty,
  type HeaderOnly,
  headerOnly,
  ResponseHeader,
} from "./header.ts";
import {
  bool,
  bytes,
  enumOf,
  int64,
  message,
  messages,
  MessageType,
  repeated,
  string,
  uint32,
  uint64,
  uint64n,
} from "./message.ts";

/** etcdserverpb.AlarmType. */
export const AlarmType = { NONE: 0, NOSPACE: 1, CORRUPT: 2 } as const;
const ALARM_TYPES = ["NONE", "NOSPACE", "CORRUPT"];
/** AlarmRequest.AlarmAction. */
export const AlarmAction = { GET: 0, ACTIVATE: 1, DEACTIVATE: 2 } as const;

/** etcdserverpb.AlarmRequest. */
export interface AlarmRequest {
  /** An `AlarmAction`. */
  action: number;
  memberID: bigint;
  /** An `AlarmType`. */
  alarm: number;
}

/** etcdserverpb.AlarmRequest. */
export const AlarmRequest: MessageType<AlarmRequest> = new MessageType(
  "etcdserverpb.AlarmRequest",
  {
    action: enumOf(1, ["GET", "ACTIVATE", "DEACTIVATE"]),
    memberID: uint64n(2),
    alarm: enumOf(3, ALARM_TYPES),
  },
);

/** etcdserverpb.AlarmMember. */
export interface AlarmMember {
  memberID: bigint;
  /** An `AlarmType`. */
  alarm: number;
}

/** etcdserverpb.AlarmMember. */
export const AlarmMember: MessageType<AlarmMember> = new MessageType(
  "etcdserverpb.AlarmMember",
  { memberID: uint64n(1), alarm: enumOf(2, ALARM_TYPES) },
);

/** etcdserverpb.AlarmResponse. */
export interface AlarmResponse {
  header: ResponseHeader | undefined;
  alarms: AlarmMember[];
}

/** etcdserverpb.AlarmResponse. */
export const AlarmResponse: MessageType<AlarmResponse> = new MessageType(
  "etcdserverpb.AlarmResponse",
  {
    header: message(1, () => ResponseHeader),
    alarms: messages(2, () => AlarmMember),
  },
);

/** etcdserverpb.StatusRequest. */
export type StatusRequest = Empty;
/** etcdserverpb.StatusRequest. */
export const StatusRequest: MessageType<StatusRequest> = empty(
  "etcdserverpb.StatusRequest",
);

/** etcdserverpb.StatusResponse. */
export interface StatusResponse {
  header: ResponseHeader | undefined;
  version: string;
  dbSize: number;
  leader: bigint;
  raftIndex: number;
  raftTerm: number;
  raftAppliedIndex: number;
  errors: string[];
  dbSizeInUse: number;
  isLearner: boolean;
}

/** etcdserverpb.StatusResponse. */
export const StatusResponse: MessageType<StatusResponse> = new MessageType(
  "etcdserverpb.StatusResponse",
  {
    header: message(1, () => ResponseHeader),
    version: string(2),
    dbSize: int64(3),
    leader: uint64n(4),
    raftIndex: uint64(5),
    raftTerm: uint64(6),
    raftAppliedIndex: uint64(7),
    errors: repeated(string(8)),
    dbSizeInUse: int64(9),
    isLearner: bool(10),
  },
);

/** etcdserverpb.DefragmentRequest. */
export type DefragmentRequest = Empty;
/** etcdserverpb.DefragmentRequest. */
export const DefragmentRequest: MessageType<DefragmentRequest> = empty(
  "etcdserverpb.DefragmentRequest",
);
/** etcdserverpb.DefragmentResponse. */
export type DefragmentResponse = HeaderOnly;
/** etcdserverpb.DefragmentResponse. */
export const DefragmentResponse: MessageType<DefragmentResponse> = headerOnly(
  "etcdserverpb.DefragmentResponse",
);

/** etcdserverpb.HashRequest. */
export type HashRequest = Empty;
/** etcdserverpb.HashRequest. */
export const HashRequest: MessageType<HashRequest> = empty(
  "etcdserverpb.HashRequest",
);

/** etcdserverpb.HashResponse. */
export interface HashResponse {
  header: ResponseHeader | undefined;
  hash: number;
}

/** etcdserverpb.HashResponse. */
export const HashResponse: MessageType<HashResponse> = new MessageType(
  "etcdserverpb.HashResponse",
  { header: message(1, () => ResponseHeader), hash: uint32(2) },
);

/** etcdserverpb.HashKVRequest. */
export interface HashKVRequest {
  revision: number;
}

/** etcdserverpb.HashKVRequest. */
export const HashKVRequest: MessageType<HashKVRequest> = new MessageType(
  "etcdserverpb.HashKVRequest",
  { revision: int64(1) },
);

/** etcdserverpb.HashKVResponse. */
export interface HashKVResponse {
  header: ResponseHeader | undefined;
  hash: number;
  compact_revision: number;
}

/** etcdserverpb.HashKVResponse. */
export const HashKVResponse: MessageType<HashKVResponse> = new MessageType(
  "etcdserverpb.HashKVResponse",
  {
    header: message(1, () => ResponseHeader),
    hash: uint32(2),
    compact_revision: int64(3),
  },
);

/** etcdserverpb.SnapshotRequest. */
export type SnapshotRequest = Empty;
/** etcdserverpb.SnapshotRequest. */
export const SnapshotRequest: MessageType<SnapshotRequest> = empty(
  "etcdserverpb.SnapshotRequest",
);

/** etcdserverpb.SnapshotResponse: one chunk of the snapshot. */
export interface SnapshotResponse {
  header: ResponseHeader | undefined;
  remaining_bytes: number;
  blob: Uint8Array;
}

/** etcdserverpb.SnapshotResponse. */
export const SnapshotResponse: MessageType<SnapshotResponse> = new MessageType(
  "etcdserverpb.SnapshotResponse",
  {
    header: message(1, () => ResponseHeader),
    remaining_bytes: uint64(2),
    blob: bytes(3),
  },
);

/** etcdserverpb.MoveLeaderRequest. */
export interface MoveLeaderRequest {
  targetID: bigint;
}

/** etcdserverpb.MoveLeaderRequest. */
export const MoveLeaderRequest: MessageType<MoveLeaderRequest> =
  new MessageType("etcdserverpb.MoveLeaderRequest", { targetID: uint64n(1) });
/** etcdserverpb.MoveLeaderResponse. */
export type MoveLeaderResponse = HeaderOnly;
/** etcdserverpb.MoveLeaderResponse. */
export const MoveLeaderResponse: MessageType<MoveLeaderResponse> = headerOnly(
  "etcdserverpb.MoveLeaderResponse",
);
