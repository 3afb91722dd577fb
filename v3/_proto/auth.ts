// etcd's Auth service: enabling auth, tokens, users and roles. Internal.

import { Permission, UserAddOptions } from "./authpb.ts";
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
  message,
  messages,
  MessageType,
  repeated,
  string,
  uint64,
} from "./message.ts";

/** etcdserverpb.AuthEnableRequest. */
export type AuthEnableRequest = Empty;
/** etcdserverpb.AuthEnableRequest. */
export const AuthEnableRequest: MessageType<AuthEnableRequest> = empty(
  "etcdserverpb.AuthEnableRequest",
);
/** etcdserverpb.AuthEnableResponse. */
export type AuthEnableResponse = HeaderOnly;
/** etcdserverpb.AuthEnableResponse. */
export const AuthEnableResponse: MessageType<AuthEnableResponse> = headerOnly(
  "etcdserverpb.AuthEnableResponse",
);

/** etcdserverpb.AuthDisableRequest. */
export type AuthDisableRequest = Empty;
/** etcdserverpb.AuthDisableRequest. */
export const AuthDisableRequest: MessageType<AuthDisableRequest> = empty(
  "etcdserverpb.AuthDisableRequest",
);
/** etcdserverpb.AuthDisableResponse. */
export type AuthDisableResponse = HeaderOnly;
/** etcdserverpb.AuthDisableResponse. */
export const AuthDisableResponse: MessageType<AuthDisableResponse> = headerOnly(
  "etcdserverpb.AuthDisableResponse",
);

/** etcdserverpb.AuthStatusRequest. */
export type AuthStatusRequest = Empty;
/** etcdserverpb.AuthStatusRequest. */
export const AuthStatusRequest: MessageType<AuthStatusRequest> = empty(
  "etcdserverpb.AuthStatusRequest",
);

/** etcdserverpb.AuthStatusResponse. */
export interface AuthStatusResponse {
  header: ResponseHeader | undefined;
  enabled: boolean;
  authRevision: number;
}

/** etcdserverpb.AuthStatusResponse. */
export const AuthStatusResponse: MessageType<AuthStatusResponse> =
  new MessageType("etcdserverpb.AuthStatusResponse", {
    header: message(1, () => ResponseHeader),
    enabled: bool(2),
    authRevision: uint64(3),
  });

/** etcdserverpb.AuthenticateRequest. */
export interface AuthenticateRequest {
  name: string;
  password: string;
}

/** etcdserverpb.AuthenticateRequest. */
export const AuthenticateRequest: MessageType<AuthenticateRequest> =
  new MessageType("etcdserverpb.AuthenticateRequest", {
    name: string(1),
    password: string(2),
  });

/** etcdserverpb.AuthenticateResponse. */
export interface AuthenticateResponse {
  header: ResponseHeader | undefined;
  /** The token to send as `token` metadata (gRPC) or `Authorization` (gateway). */
  token: string;
}

/** etcdserverpb.AuthenticateResponse. */
export const AuthenticateResponse: MessageType<AuthenticateResponse> =
  new MessageType("etcdserverpb.AuthenticateResponse", {
    header: message(1, () => ResponseHeader),
    token: string(2),
  });

/** etcdserverpb.AuthUserAddRequest. */
export interface AuthUserAddRequest {
  name: string;
  password: string;
  options: UserAddOptions | undefined;
  hashedPassword: string;
}

/** etcdserverpb.AuthUserAddRequest. */
export const AuthUserAddRequest: MessageType<AuthUserAddRequest> =
  new MessageType("etcdserverpb.AuthUserAddRequest", {
    name: string(1),
    password: string(2),
    options: message(3, () => UserAddOptions),
    hashedPassword: string(4),
  });

/** etcdserverpb.AuthUserGetRequest. */
export interface AuthUserGetRequest {
  name: string;
}

/** etcdserverpb.AuthUserGetRequest. */
export const AuthUserGetRequest: MessageType<AuthUserGetRequest> =
  new MessageType("etcdserverpb.AuthUserGetRequest", { name: string(1) });

/** etcdserverpb.AuthUserGetResponse. */
export interface AuthUserGetResponse {
  header: ResponseHeader | undefined;
  roles: string[];
}

/** etcdserverpb.AuthUserGetResponse. */
export const AuthUserGetResponse: MessageType<AuthUserGetResponse> =
  new MessageType("etcdserverpb.AuthUserGetResponse", {
    header: message(1, () => ResponseHeader),
    roles: repeated(string(2)),
  });

/** etcdserverpb.AuthUserDeleteRequest. */
export interface AuthUserDeleteRequest {
  name: string;
}

/** etcdserverpb.AuthUserDeleteRequest. */
export const AuthUserDeleteRequest: MessageType<AuthUserDeleteRequest> =
  new MessageType("etcdserverpb.AuthUserDeleteRequest", { name: string(1) });

/** etcdserverpb.AuthUserChangePasswordRequest. */
export interface AuthUserChangePasswordRequest {
  name: string;
  password: string;
  hashedPassword: string;
}

/** etcdserverpb.AuthUserChangePasswordRequest. */
export const AuthUserChangePasswordRequest: MessageType<
  AuthUserChangePasswordRequest
> = new MessageType("etcdserverpb.AuthUserChangePasswordRequest", {
  name: string(1),
  password: string(2),
  hashedPassword: string(3),
});

/** etcdserverpb.AuthUserGrantRoleRequest. */
export interface AuthUserGrantRoleRequest {
  user: string;
  role: string;
}

/** etcdserverpb.AuthUserGrantRoleRequest. */
export const AuthUserGrantRoleRequest: MessageType<AuthUserGrantRoleRequest> =
  new MessageType("etcdserverpb.AuthUserGrantRoleRequest", {
    user: string(1),
    role: string(2),
  });

/** etcdserverpb.AuthUserRevokeRoleRequest. */
export interface AuthUserRevokeRoleRequest {
  name: string;
  role: string;
}

/** etcdserverpb.AuthUserRevokeRoleRequest. */
export const AuthUserRevokeRoleRequest: MessageType<
  AuthUserRevokeRoleRequest
> = new MessageType("etcdserverpb.AuthUserRevokeRoleRequest", {
  name: string(1),
  role: string(2),
});

/** etcdserverpb.AuthUserListRequest. */
export type AuthUserListRequest = Empty;
/** etcdserverpb.AuthUserListRequest. */
export const AuthUserListRequest: MessageType<AuthUserListRequest> = empty(
  "etcdserverpb.AuthUserListRequest",
);

/** etcdserverpb.AuthUserListResponse. */
export interface AuthUserListResponse {
  header: ResponseHeader | undefined;
  users: string[];
}

/** etcdserverpb.AuthUserListResponse. */
export const AuthUserListResponse: MessageType<AuthUserListResponse> =
  new MessageType("etcdserverpb.AuthUserListResponse", {
    header: message(1, () => ResponseHeader),
    users: repeated(string(2)),
  });

/** etcdserverpb.AuthRoleAddRequest. */
export interface AuthRoleAddRequest {
  name: string;
}

/** etcdserverpb.AuthRoleAddRequest. */
export const AuthRoleAddRequest: MessageType<AuthRoleAddRequest> =
  new MessageType("etcdserverpb.AuthRoleAddRequest", { name: string(1) });

/** etcdserverpb.AuthRoleGetRequest. */
export interface AuthRoleGetRequest {
  role: string;
}

/** etcdserverpb.AuthRoleGetRequest. */
export const AuthRoleGetRequest: MessageType<AuthRoleGetRequest> =
  new MessageType("etcdserverpb.AuthRoleGetRequest", { role: string(1) });

/** etcdserverpb.AuthRoleGetResponse. */
export interface AuthRoleGetResponse {
  header: ResponseHeader | undefined;
  perm: Permission[];
}

/** etcdserverpb.AuthRoleGetResponse. */
export const AuthRoleGetResponse: MessageType<AuthRoleGetResponse> =
  new MessageType("etcdserverpb.AuthRoleGetResponse", {
    header: message(1, () => ResponseHeader),
    perm: messages(2, () => Permission),
  });

/** etcdserverpb.AuthRoleListRequest. */
export type AuthRoleListRequest = Empty;
/** etcdserverpb.AuthRoleListRequest. */
export const AuthRoleListRequest: MessageType<AuthRoleListRequest> = empty(
  "etcdserverpb.AuthRoleListRequest",
);

/** etcdserverpb.AuthRoleListResponse. */
export interface AuthRoleListResponse {
  header: ResponseHeader | undefined;
  roles: string[];
}

/** etcdserverpb.AuthRoleListResponse. */
export const AuthRoleListResponse: MessageType<AuthRoleListResponse> =
  new MessageType("etcdserverpb.AuthRoleListResponse", {
    header: message(1, () => ResponseHeader),
    roles: repeated(string(2)),
  });

/** etcdserverpb.AuthRoleDeleteRequest. */
export interface AuthRoleDeleteRequest {
  role: string;
}

/** etcdserverpb.AuthRoleDeleteRequest. */
export const AuthRoleDeleteRequest: MessageType<AuthRoleDeleteRequest> =
  new MessageType("etcdserverpb.AuthRoleDeleteRequest", { role: string(1) });

/** etcdserverpb.AuthRoleGrantPermissionRequest. */
export interface AuthRoleGrantPermissionRequest {
  name: string;
  perm: Permission | undefined;
}

/** etcdserverpb.AuthRoleGrantPermissionRequest. */
export const AuthRoleGrantPermissionRequest: MessageType<
  AuthRoleGrantPermissionRequest
> = new MessageType("etcdserverpb.AuthRoleGrantPermissionRequest", {
  name: string(1),
  perm: message(2, () => Permission),
});

/** etcdserverpb.AuthRoleRevokePermissionRequest. */
export interface AuthRoleRevokePermissionRequest {
  role: string;
  key: Uint8Array;
  range_end: Uint8Array;
}

/** etcdserverpb.AuthRoleRevokePermissionRequest. */
export const AuthRoleRevokePermissionRequest: MessageType<
  AuthRoleRevokePermissionRequest
> = new MessageType("etcdserverpb.AuthRoleRevokePermissionRequest", {
  role: string(1),
  key: bytes(2),
  range_end: bytes(3),
});

/** etcdserverpb.AuthUserAddResponse. */
export type AuthUserAddResponse = HeaderOnly;
/** etcdserverpb.AuthUserAddResponse. */
export const AuthUserAddResponse: MessageType<HeaderOnly> = headerOnly(
  "etcdserverpb.AuthUserAddResponse",
);
/** etcdserverpb.AuthUserDeleteResponse. */
export type AuthUserDeleteResponse = HeaderOnly;
/** etcdserverpb.AuthUserDeleteResponse. */
export const AuthUserDeleteResponse: MessageType<HeaderOnly> = headerOnly(
  "etcdserverpb.AuthUserDeleteResponse",
);
/** etcdserverpb.AuthUserChangePasswordResponse. */
export type AuthUserChangePasswordResponse = HeaderOnly;
/** etcdserverpb.AuthUserChangePasswordResponse. */
export const AuthUserChangePasswordResponse: MessageType<HeaderOnly> =
  headerOnly("etcdserverpb.AuthUserChangePasswordResponse");
/** etcdserverpb.AuthUserGrantRoleResponse. */
export type AuthUserGrantRoleResponse = HeaderOnly;
/** etcdserverpb.AuthUserGrantRoleResponse. */
export const AuthUserGrantRoleResponse: MessageType<HeaderOnly> = headerOnly(
  "etcdserverpb.AuthUserGrantRoleResponse",
);
/** etcdserverpb.AuthUserRevokeRoleResponse. */
export type AuthUserRevokeRoleResponse = HeaderOnly;
/** etcdserverpb.AuthUserRevokeRoleResponse. */
export const AuthUserRevokeRoleResponse: MessageType<HeaderOnly> = headerOnly(
  "etcdserverpb.AuthUserRevokeRoleResponse",
);
/** etcdserverpb.AuthRoleAddResponse. */
export type AuthRoleAddResponse = HeaderOnly;
/** etcdserverpb.AuthRoleAddResponse. */
export const AuthRoleAddResponse: MessageType<HeaderOnly> = headerOnly(
  "etcdserverpb.AuthRoleAddResponse",
);
/** etcdserverpb.AuthRoleDeleteResponse. */
export type AuthRoleDeleteResponse = HeaderOnly;
/** etcdserverpb.AuthRoleDeleteResponse. */
export const AuthRoleDeleteResponse: MessageType<HeaderOnly> = headerOnly(
  "etcdserverpb.AuthRoleDeleteResponse",
);
/** etcdserverpb.AuthRoleGrantPermissionResponse. */
export type AuthRoleGrantPermissionResponse = HeaderOnly;
/** etcdserverpb.AuthRoleGrantPermissionResponse. */
export const AuthRoleGrantPermissionResponse: MessageType<HeaderOnly> =
  headerOnly("etcdserverpb.AuthRoleGrantPermissionResponse");
/** etcdserverpb.AuthRoleRevokePermissionResponse. */
export type AuthRoleRevokePermissionResponse = HeaderOnly;
/** etcdserverpb.AuthRoleRevokePermissionResponse. */
export const AuthRoleRevokePermissionResponse: MessageType<HeaderOnly> =
  headerOnly("etcdserverpb.AuthRoleRevokePermissionResponse");
