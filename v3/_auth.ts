// etcd's v3 authentication admin API: auth on and off, users, roles and
// their permissions on key ranges. Public through v3/mod.ts as
// `client.auth`.

import type { Caller, CallOptions } from "./_call.ts";
import { type Init, type Method, METHODS } from "./_proto/mod.ts";
import { type KeyRange, keyRange, type Namespace } from "./_kv.ts";
import type { Bytes } from "./_keys.ts";

/** What a role may do with a range of keys. */
export interface Permission {
  /** `read`, `write`, or `readwrite`. */
  readonly type: "read" | "write" | "readwrite";
  /** The first key. */
  readonly key: Uint8Array;
  /** The end of the range (empty for the one key; the byte 0: to the end). */
  readonly end: Uint8Array;
}

/** A permission to grant: a key, or a range of keys. */
export interface PermissionGrant extends KeyRange {
  /** What the role may do with the keys. */
  readonly type: "read" | "write" | "readwrite";
  /** The key (with `prefix`, `fromKey` or `end`: the start of a range). */
  readonly key: Bytes;
}

const PERM_TYPE = { read: 0, write: 1, readwrite: 2 } as const;
const PERM_NAME = ["read", "write", "readwrite"] as const;

/** Auth status. */
export interface AuthStatus {
  /** Whether authentication is on. */
  readonly enabled: boolean;
  /** The revision of the auth store (users, roles). */
  readonly authRevision: number;
}

/** The auth admin calls, as `client.auth`. */
export class AuthApi {
  readonly #caller: Caller;
  readonly #namespace: Namespace;

  /**
   * Users, as `client.auth.users`.
   */
  readonly users: {
    /** Every user's name. */
    list(options?: CallOptions): Promise<string[]>;
    /** A user's roles. */
    get(name: string, options?: CallOptions): Promise<{ roles: string[] }>;
    /** Adds a user with a password. */
    add(name: string, password: string, options?: CallOptions): Promise<void>;
    /** Deletes a user. */
    delete(name: string, options?: CallOptions): Promise<void>;
    /** Sets a user's password. */
    changePassword(
      name: string,
      password: string,
      options?: CallOptions,
    ): Promise<void>;
    /** Gives a user a role. */
    grant(name: string, role: string, options?: CallOptions): Promise<void>;
    /** Takes a role from a user. */
    revoke(name: string, role: string, options?: CallOptions): Promise<void>;
  };

  /**
   * Roles, as `client.auth.roles`.
   */
  readonly roles: {
    /** Every role's name. */
    list(options?: CallOptions): Promise<string[]>;
    /** A role's permissions. */
    get(
      name: string,
      options?: CallOptions,
    ): Promise<{ permissions: Permission[] }>;
    /** Adds a role. */
    add(name: string, options?: CallOptions): Promise<void>;
    /** Deletes a role. */
    delete(name: string, options?: CallOptions): Promise<void>;
    /** Lets a role read or write a key or range. */
    grant(
      name: string,
      permission: PermissionGrant,
      options?: CallOptions,
    ): Promise<void>;
    /** Takes a permission on a key or range from a role. */
    revoke(
      name: string,
      permission: { key: Bytes } & KeyRange,
      options?: CallOptions,
    ): Promise<void>;
  };

  /**
   * Makes the API. Use `client.auth`.
   *
   * @param caller How calls travel.
   * @param namespace The client's namespace (permissions are on full keys).
   */
  constructor(caller: Caller, namespace: Namespace) {
    this.#caller = caller;
    this.#namespace = namespace;
    const call = <Q extends object, A extends object>(
      method: Method<Q, A>,
      request: Init<Q>,
      options?: CallOptions,
    ): Promise<A> => this.#call(method, request, options);
    const auth = METHODS.auth;
    this.users = {
      list: async (options) => (await call(auth.userList, {}, options)).users,
      get: async (name, options) => ({
        roles:
          (await call(auth.userGet, { name: checkName(name, "user") }, options))
            .roles,
      }),
      add: async (name, password, options) => {
        checkPassword(password);
        await call(
          auth.userAdd,
          { name: checkName(name, "user"), password },
          options,
        );
      },
      delete: async (name, options) => {
        await call(auth.userDelete, { name: checkName(name, "user") }, options);
      },
      changePassword: async (name, password, options) => {
        checkPassword(password);
        await call(
          auth.userChangePassword,
          { name: checkName(name, "user"), password },
          options,
        );
      },
      grant: async (name, role, options) => {
        await call(
          auth.userGrantRole,
          { user: checkName(name, "user"), role: checkName(role, "role") },
          options,
        );
      },
      revoke: async (name, role, options) => {
        await call(
          auth.userRevokeRole,
          { name: checkName(name, "user"), role: checkName(role, "role") },
          options,
        );
      },
    };
    this.roles = {
      list: async (options) => (await call(auth.roleList, {}, options)).roles,
      get: async (name, options) => ({
        permissions:
          (await call(auth.roleGet, { role: checkName(name, "role") }, options))
            .perm.map((perm) => ({
              type: PERM_NAME[perm.permType] ?? "read",
              key: perm.key,
              end: perm.range_end,
            })),
      }),
      add: async (name, options) => {
        await call(auth.roleAdd, { name: checkName(name, "role") }, options);
      },
      delete: async (name, options) => {
        await call(auth.roleDelete, { role: checkName(name, "role") }, options);
      },
      grant: async (name, permission, options) => {
        const type = PERM_TYPE[permission.type];
        if (type === undefined) {
          throw new TypeError(
            `Invalid permission type ${
              JSON.stringify(permission.type)
            }: expected "read", "write" or "readwrite"`,
          );
        }
        const range = keyRange(permission.key, permission, this.#namespace);
        await call(auth.roleGrantPermission, {
          name: checkName(name, "role"),
          perm: {
            permType: type,
            key: range.key,
            range_end: range.range_end ?? new Uint8Array(0),
          },
        }, options);
      },
      revoke: async (name, permission, options) => {
        const range = keyRange(permission.key, permission, this.#namespace);
        await call(auth.roleRevokePermission, {
          role: checkName(name, "role"),
          key: range.key,
          range_end: range.range_end ?? new Uint8Array(0),
        }, options);
      },
    };
  }

  /**
   * Turns authentication on (a `root` user with the `root` role must
   * exist).
   *
   * @param options A signal.
   */
  async enable(options?: CallOptions): Promise<void> {
    await this.#call(METHODS.auth.enable, {}, options);
  }

  /**
   * Turns authentication off (as root).
   *
   * @param options A signal.
   */
  async disable(options?: CallOptions): Promise<void> {
    await this.#call(METHODS.auth.disable, {}, options);
  }

  /**
   * Whether auth is on (etcd 3.5 and later; root only).
   *
   * @param options A signal.
   * @returns The status.
   */
  async status(options?: CallOptions): Promise<AuthStatus> {
    const answer = await this.#call(METHODS.auth.status, {}, options);
    return { enabled: answer.enabled, authRevision: answer.authRevision };
  }

  #call<Q extends object, A extends object>(
    method: Method<Q, A>,
    request: Init<Q>,
    options: CallOptions = {},
  ): Promise<A> {
    return this.#caller.call(
      method,
      request,
      "write",
      (answer) => answer,
      options,
    );
  }
}

function checkName(name: string, what: string): string {
  if (typeof name !== "string" || name === "") {
    throw new TypeError(`Invalid ${what} name: expected a non-empty string`);
  }
  return name;
}

function checkPassword(password: string): void {
  if (typeof password !== "string") {
    throw new TypeError("Invalid password: expected a string");
  }
}
