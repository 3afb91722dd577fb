// etcd's Lease service: grant, revoke, keep alive (a bidirectional stream),
// time to live and the list of leases. Internal.

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
  int64,
  int64n,
  message,
  messages,
  MessageType,
  repeated,
  string,
} from "./message.ts";

/** etcdserverpb.LeaseGrantRequest (ID 0: the server picks one). */
export interface LeaseGrantRequest {
  TTL: number;
  ID: bigint;
}

/** etcdserverpb.LeaseGrantRequest. */
export const LeaseGrantRequest: MessageType<LeaseGrantRequest> =
  new MessageType("etcdserverpb.LeaseGrantRequest", {
    TTL: int64(1),
    ID: int64n(2),
  });

/** etcdserverpb.LeaseGrantResponse. */
export interface LeaseGrantResponse {
  header: ResponseHeader | undefined;
  ID: bigint;
  TTL: number;
  error: string;
}

/** etcdserverpb.LeaseGrantResponse. */
export const LeaseGrantResponse: MessageType<LeaseGrantResponse> =
  new MessageType("etcdserverpb.LeaseGrantResponse", {
    header: message(1, () => ResponseHeader),
    ID: int64n(2),
    TTL: int64(3),
    error: string(4),
  });

/** etcdserverpb.LeaseRevokeRequest. */
export interface LeaseRevokeRequest {
  ID: bigint;
}

/** etcdserverpb.LeaseRevokeRequest. */
export const LeaseRevokeRequest: MessageType<LeaseRevokeRequest> =
  new MessageType("etcdserverpb.LeaseRevokeRequest", { ID: int64n(1) });

/** etcdserverpb.LeaseRevokeResponse. */
export type LeaseRevokeResponse = HeaderOnly;
/** etcdserverpb.LeaseRevokeResponse. */
export const LeaseRevokeResponse: MessageType<LeaseRevokeResponse> = headerOnly(
  "etcdserverpb.LeaseRevokeResponse",
);

/** etcdserverpb.LeaseKeepAliveRequest. */
export interface LeaseKeepAliveRequest {
  ID: bigint;
}

/** etcdserverpb.LeaseKeepAliveRequest. */
export const LeaseKeepAliveRequest: MessageType<LeaseKeepAliveRequest> =
  new MessageType("etcdserverpb.LeaseKeepAliveRequest", { ID: int64n(1) });

/** etcdserverpb.LeaseKeepAliveResponse (TTL 0: the lease is gone). */
export interface LeaseKeepAliveResponse {
  header: ResponseHeader | undefined;
  ID: bigint;
  TTL: number;
}

/** etcdserverpb.LeaseKeepAliveResponse. */
export const LeaseKeepAliveResponse: MessageType<LeaseKeepAliveResponse> =
  new MessageType("etcdserverpb.LeaseKeepAliveResponse", {
    header: message(1, () => ResponseHeader),
    ID: int64n(2),
    TTL: int64(3),
  });

/** etcdserverpb.LeaseTimeToLiveRequest. */
export interface LeaseTimeToLiveRequest {
  ID: bigint;
  keys: boolean;
}

/** etcdserverpb.LeaseTimeToLiveRequest. */
export const LeaseTimeToLiveRequest: MessageType<LeaseTimeToLiveRequest> =
  new MessageType("etcdserverpb.LeaseTimeToLiveRequest", {
    ID: int64n(1),
    keys: bool(2),
  });

/** etcdserverpb.LeaseTimeToLiveResponse (TTL -1: the lease is gone). */
export interface LeaseTimeToLiveResponse {
  header: ResponseHeader | undefined;
  ID: bigint;
  TTL: number;
  grantedTTL: number;
  keys: Uint8Array[];
}

/** etcdserverpb.LeaseTimeToLiveResponse. */
export const LeaseTimeToLiveResponse: MessageType<LeaseTimeToLiveResponse> =
  new MessageType("etcdserverpb.LeaseTimeToLiveResponse", {
    header: message(1, () => ResponseHeader),
    ID: int64n(2),
    TTL: int64(3),
    grantedTTL: int64(4),
    keys: repeated(bytes(5)),
  });

/** etcdserverpb.LeaseLeasesRequest (no fields). */
export type LeaseLeasesRequest = Empty;

/** etcdserverpb.LeaseLeasesRequest. */
export const LeaseLeasesRequest: MessageType<LeaseLeasesRequest> = empty(
  "etcdserverpb.LeaseLeasesRequest",
);

/** etcdserverpb.LeaseStatus. */
export interface LeaseStatus {
  ID: bigint;
}

/** etcdserverpb.LeaseStatus. */
export const LeaseStatus: MessageType<LeaseStatus> = new MessageType(
  "etcdserverpb.LeaseStatus",
  { ID: int64n(1) },
);

/** etcdserverpb.LeaseLeasesResponse. */
export interface LeaseLeasesResponse {
  header: ResponseHeader | undefined;
  leases: LeaseStatus[];
}

/** etcdserverpb.LeaseLeasesResponse. */
export const LeaseLeasesResponse: MessageType<LeaseLeasesResponse> =
  new MessageType("etcdserverpb.LeaseLeasesResponse", {
    header: message(1, () => ResponseHeader),
    leases: messages(2, () => LeaseStatus),
  });
