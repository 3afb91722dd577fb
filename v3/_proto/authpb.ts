// etcd's api/authpb/auth.proto: what the Auth service's messages hold.
// Internal.

import { bool, bytes, enumOf, MessageType } from "./message.ts";

/** authpb.UserAddOptions. */
export interface UserAddOptions {
  no_password: boolean;
}

/** authpb.UserAddOptions. */
export const UserAddOptions: MessageType<UserAddOptions> = new MessageType(
  "authpb.UserAddOptions",
  { no_password: bool(1) },
);

/** authpb.Permission.Type. */
export const PermissionType = { READ: 0, WRITE: 1, READWRITE: 2 } as const;

/** authpb.Permission: a role's access to a key or range of keys. */
export interface Permission {
  /** A `PermissionType`. */
  permType: number;
  key: Uint8Array;
  range_end: Uint8Array;
}

/** authpb.Permission. */
export const Permission: MessageType<Permission> = new MessageType(
  "authpb.Permission",
  {
    permType: enumOf(1, ["READ", "WRITE", "READWRITE"]),
    key: bytes(2),
    range_end: bytes(3),
  },
);
