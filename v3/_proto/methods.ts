// Every v3 call the client makes: its gRPC path, its gateway path, its
// message types and whether it streams. Internal.

import * as auth from "./auth.ts";
import * as cluster from "./cluster.ts";
import * as kv from "./kv.ts";
import * as lease from "./lease.ts";
import * as maintenance from "./maintenance.ts";
import type { MessageType } from "./message.ts";
import * as watch from "./watch.ts";

/** How a call's messages flow. */
export type Streaming = "unary" | "server" | "bidi";

/** One v3 call. */
export interface Method<Q extends object, A extends object> {
  /** The gRPC path, such as `/etcdserverpb.KV/Range`. */
  readonly path: string;
  /** The JSON gateway's path, such as `/v3/kv/range`. */
  readonly gateway: string;
  /** The request's type. */
  readonly request: MessageType<Q>;
  /** The answer's type. */
  readonly response: MessageType<A>;
  /** Whether requests or answers are streams. */
  readonly streaming: Streaming;
}

function method<Q extends object, A extends object>(
  service: string,
  name: string,
  gateway: string,
  request: MessageType<Q>,
  response: MessageType<A>,
  streaming: Streaming = "unary",
): Method<Q, A> {
  return {
    path: `/etcdserverpb.${service}/${name}`,
    gateway,
    request,
    response,
    streaming,
  };
}

/** The v3 calls' types, by service and name. */
export interface Methods {
  readonly kv: {
    readonly range: Method<kv.RangeRequest, kv.RangeResponse>;
    readonly put: Method<kv.PutRequest, kv.PutResponse>;
    readonly deleteRange: Method<kv.DeleteRangeRequest, kv.DeleteRangeResponse>;
    readonly txn: Method<kv.TxnRequest, kv.TxnResponse>;
    readonly compact: Method<kv.CompactionRequest, kv.CompactionResponse>;
  };
  readonly watch: {
    readonly watch: Method<watch.WatchRequest, watch.WatchResponse>;
  };
  readonly lease: {
    readonly grant: Method<lease.LeaseGrantRequest, lease.LeaseGrantResponse>;
    readonly revoke: Method<
      lease.LeaseRevokeRequest,
      lease.LeaseRevokeResponse
    >;
    readonly keepAlive: Method<
      lease.LeaseKeepAliveRequest,
      lease.LeaseKeepAliveResponse
    >;
    readonly timeToLive: Method<
      lease.LeaseTimeToLiveRequest,
      lease.LeaseTimeToLiveResponse
    >;
    readonly leases: Method<
      lease.LeaseLeasesRequest,
      lease.LeaseLeasesResponse
    >;
  };
  readonly cluster: {
    readonly memberAdd: Method<
      cluster.MemberAddRequest,
      cluster.MemberAddResponse
    >;
    readonly memberRemove: Method<
      cluster.MemberRemoveRequest,
      cluster.MemberRemoveResponse
    >;
    readonly memberUpdate: Method<
      cluster.MemberUpdateRequest,
      cluster.MemberUpdateResponse
    >;
    readonly memberList: Method<
      cluster.MemberListRequest,
      cluster.MemberListResponse
    >;
    readonly memberPromote: Method<
      cluster.MemberPromoteRequest,
      cluster.MemberPromoteResponse
    >;
  };
  readonly maintenance: {
    readonly alarm: Method<maintenance.AlarmRequest, maintenance.AlarmResponse>;
    readonly status: Method<
      maintenance.StatusRequest,
      maintenance.StatusResponse
    >;
    readonly defragment: Method<
      maintenance.DefragmentRequest,
      maintenance.DefragmentResponse
    >;
    readonly hash: Method<maintenance.HashRequest, maintenance.HashResponse>;
    readonly hashKV: Method<
      maintenance.HashKVRequest,
      maintenance.HashKVResponse
    >;
    readonly snapshot: Method<
      maintenance.SnapshotRequest,
      maintenance.SnapshotResponse
    >;
    readonly moveLeader: Method<
      maintenance.MoveLeaderRequest,
      maintenance.MoveLeaderResponse
    >;
  };
  readonly auth: {
    readonly enable: Method<auth.AuthEnableRequest, auth.AuthEnableResponse>;
    readonly disable: Method<auth.AuthDisableRequest, auth.AuthDisableResponse>;
    readonly status: Method<auth.AuthStatusRequest, auth.AuthStatusResponse>;
    readonly authenticate: Method<
      auth.AuthenticateRequest,
      auth.AuthenticateResponse
    >;
    readonly userAdd: Method<auth.AuthUserAddRequest, auth.AuthUserAddResponse>;
    readonly userGet: Method<auth.AuthUserGetRequest, auth.AuthUserGetResponse>;
    readonly userList: Method<
      auth.AuthUserListRequest,
      auth.AuthUserListResponse
    >;
    readonly userDelete: Method<
      auth.AuthUserDeleteRequest,
      auth.AuthUserDeleteResponse
    >;
    readonly userChangePassword: Method<
      auth.AuthUserChangePasswordRequest,
      auth.AuthUserChangePasswordResponse
    >;
    readonly userGrantRole: Method<
      auth.AuthUserGrantRoleRequest,
      auth.AuthUserGrantRoleResponse
    >;
    readonly userRevokeRole: Method<
      auth.AuthUserRevokeRoleRequest,
      auth.AuthUserRevokeRoleResponse
    >;
    readonly roleAdd: Method<auth.AuthRoleAddRequest, auth.AuthRoleAddResponse>;
    readonly roleGet: Method<auth.AuthRoleGetRequest, auth.AuthRoleGetResponse>;
    readonly roleList: Method<
      auth.AuthRoleListRequest,
      auth.AuthRoleListResponse
    >;
    readonly roleDelete: Method<
      auth.AuthRoleDeleteRequest,
      auth.AuthRoleDeleteResponse
    >;
    readonly roleGrantPermission: Method<
      auth.AuthRoleGrantPermissionRequest,
      auth.AuthRoleGrantPermissionResponse
    >;
    readonly roleRevokePermission: Method<
      auth.AuthRoleRevokePermissionRequest,
      auth.AuthRoleRevokePermissionResponse
    >;
  };
}

/** The v3 calls by service and name, typed by their messages. */
export const METHODS: Methods = {
  kv: {
    range: method(
      "KV",
      "Range",
      "/v3/kv/range",
      kv.RangeRequest,
      kv.RangeResponse,
    ),
    put: method("KV", "Put", "/v3/kv/put", kv.PutRequest, kv.PutResponse),
    deleteRange: method(
      "KV",
      "DeleteRange",
      "/v3/kv/deleterange",
      kv.DeleteRangeRequest,
      kv.DeleteRangeResponse,
    ),
    txn: method("KV", "Txn", "/v3/kv/txn", kv.TxnRequest, kv.TxnResponse),
    compact: method(
      "KV",
      "Compact",
      "/v3/kv/compaction",
      kv.CompactionRequest,
      kv.CompactionResponse,
    ),
  },
  watch: {
    watch: method(
      "Watch",
      "Watch",
      "/v3/watch",
      watch.WatchRequest,
      watch.WatchResponse,
      "bidi",
    ),
  },
  lease: {
    grant: method(
      "Lease",
      "LeaseGrant",
      "/v3/lease/grant",
      lease.LeaseGrantRequest,
      lease.LeaseGrantResponse,
    ),
    revoke: method(
      "Lease",
      "LeaseRevoke",
      "/v3/lease/revoke",
      lease.LeaseRevokeRequest,
      lease.LeaseRevokeResponse,
    ),
    keepAlive: method(
      "Lease",
      "LeaseKeepAlive",
      "/v3/lease/keepalive",
      lease.LeaseKeepAliveRequest,
      lease.LeaseKeepAliveResponse,
      "bidi",
    ),
    timeToLive: method(
      "Lease",
      "LeaseTimeToLive",
      "/v3/lease/timetolive",
      lease.LeaseTimeToLiveRequest,
      lease.LeaseTimeToLiveResponse,
    ),
    leases: method(
      "Lease",
      "LeaseLeases",
      "/v3/lease/leases",
      lease.LeaseLeasesRequest,
      lease.LeaseLeasesResponse,
    ),
  },
  cluster: {
    memberAdd: method(
      "Cluster",
      "MemberAdd",
      "/v3/cluster/member/add",
      cluster.MemberAddRequest,
      cluster.MemberAddResponse,
    ),
    memberRemove: method(
      "Cluster",
      "MemberRemove",
      "/v3/cluster/member/remove",
      cluster.MemberRemoveRequest,
      cluster.MemberRemoveResponse,
    ),
    memberUpdate: method(
      "Cluster",
      "MemberUpdate",
      "/v3/cluster/member/update",
      cluster.MemberUpdateRequest,
      cluster.MemberUpdateResponse,
    ),
    memberList: method(
      "Cluster",
      "MemberList",
      "/v3/cluster/member/list",
      cluster.MemberListRequest,
      cluster.MemberListResponse,
    ),
    memberPromote: method(
      "Cluster",
      "MemberPromote",
      "/v3/cluster/member/promote",
      cluster.MemberPromoteRequest,
      cluster.MemberPromoteResponse,
    ),
  },
  maintenance: {
    alarm: method(
      "Maintenance",
      "Alarm",
      "/v3/maintenance/alarm",
      maintenance.AlarmRequest,
      maintenance.AlarmResponse,
    ),
    status: method(
      "Maintenance",
      "Status",
      "/v3/maintenance/status",
      maintenance.StatusRequest,
      maintenance.StatusResponse,
    ),
    defragment: method(
      "Maintenance",
      "Defragment",
      "/v3/maintenance/defragment",
      maintenance.DefragmentRequest,
      maintenance.DefragmentResponse,
    ),
    hash: method(
      "Maintenance",
      "Hash",
      "/v3/maintenance/hash",
      maintenance.HashRequest,
      maintenance.HashResponse,
    ),
    hashKV: method(
      "Maintenance",
      "HashKV",
      "/v3/maintenance/hashkv",
      maintenance.HashKVRequest,
      maintenance.HashKVResponse,
    ),
    snapshot: method(
      "Maintenance",
      "Snapshot",
      "/v3/maintenance/snapshot",
      maintenance.SnapshotRequest,
      maintenance.SnapshotResponse,
      "server",
    ),
    moveLeader: method(
      "Maintenance",
      "MoveLeader",
      "/v3/maintenance/transfer-leadership",
      maintenance.MoveLeaderRequest,
      maintenance.MoveLeaderResponse,
    ),
  },
  auth: {
    enable: method(
      "Auth",
      "AuthEnable",
      "/v3/auth/enable",
      auth.AuthEnableRequest,
      auth.AuthEnableResponse,
    ),
    disable: method(
      "Auth",
      "AuthDisable",
      "/v3/auth/disable",
      auth.AuthDisableRequest,
      auth.AuthDisableResponse,
    ),
    status: method(
      "Auth",
      "AuthStatus",
      "/v3/auth/status",
      auth.AuthStatusRequest,
      auth.AuthStatusResponse,
    ),
    authenticate: method(
      "Auth",
      "Authenticate",
      "/v3/auth/authenticate",
      auth.AuthenticateRequest,
      auth.AuthenticateResponse,
    ),
    userAdd: method(
      "Auth",
      "UserAdd",
      "/v3/auth/user/add",
      auth.AuthUserAddRequest,
      auth.AuthUserAddResponse,
    ),
    userGet: method(
      "Auth",
      "UserGet",
      "/v3/auth/user/get",
      auth.AuthUserGetRequest,
      auth.AuthUserGetResponse,
    ),
    userList: method(
      "Auth",
      "UserList",
      "/v3/auth/user/list",
      auth.AuthUserListRequest,
      auth.AuthUserListResponse,
    ),
    userDelete: method(
      "Auth",
      "UserDelete",
      "/v3/auth/user/delete",
      auth.AuthUserDeleteRequest,
      auth.AuthUserDeleteResponse,
    ),
    userChangePassword: method(
      "Auth",
      "UserChangePassword",
      "/v3/auth/user/changepw",
      auth.AuthUserChangePasswordRequest,
      auth.AuthUserChangePasswordResponse,
    ),
    userGrantRole: method(
      "Auth",
      "UserGrantRole",
      "/v3/auth/user/grant",
      auth.AuthUserGrantRoleRequest,
      auth.AuthUserGrantRoleResponse,
    ),
    userRevokeRole: method(
      "Auth",
      "UserRevokeRole",
      "/v3/auth/user/revoke",
      auth.AuthUserRevokeRoleRequest,
      auth.AuthUserRevokeRoleResponse,
    ),
    roleAdd: method(
      "Auth",
      "RoleAdd",
      "/v3/auth/role/add",
      auth.AuthRoleAddRequest,
      auth.AuthRoleAddResponse,
    ),
    roleGet: method(
      "Auth",
      "RoleGet",
      "/v3/auth/role/get",
      auth.AuthRoleGetRequest,
      auth.AuthRoleGetResponse,
    ),
    roleList: method(
      "Auth",
      "RoleList",
      "/v3/auth/role/list",
      auth.AuthRoleListRequest,
      auth.AuthRoleListResponse,
    ),
    roleDelete: method(
      "Auth",
      "RoleDelete",
      "/v3/auth/role/delete",
      auth.AuthRoleDeleteRequest,
      auth.AuthRoleDeleteResponse,
    ),
    roleGrantPermission: method(
      "Auth",
      "RoleGrantPermission",
      "/v3/auth/role/grant",
      auth.AuthRoleGrantPermissionRequest,
      auth.AuthRoleGrantPermissionResponse,
    ),
    roleRevokePermission: method(
      "Auth",
      "RoleRevokePermission",
      "/v3/auth/role/revoke",
      auth.AuthRoleRevokePermissionRequest,
      auth.AuthRoleRevokePermissionResponse,
    ),
  },
};
