// etcd's v3 authentication admin API: auth on and off, users, roles and
// their permissions on key ranges. Public through v3/mod.ts as
// `client.auth`.

import type { Caller, CallOptions } from "./_call.ts";
import { header, int, type RawHeader } from "./_decode.ts";
import { fromBase64 } from "./_keys.ts";
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
    const call = (
      path: string,
      body: Record<string, unknown>,
      options?: CallOptions,
    ) => this.#call(path, body, options);
    this.users = {
      list: async (options) =>
        ((await call("user/list", {}, options)).users as
          | string[]
          | undefined) ?? [],
      get: async (name, options) => ({
        roles:
          ((await call("user/get", { name: checkName(name, "user") }, options))
            .roles as string[] | undefined) ?? [],
      }),
      add: async (name, password, options) => {
        checkPassword(password);
        await call(
          "user/add",
          { name: checkName(name, "user"), password },
          options,
        );
      },
      delete: async (name, options) => {
        await call("user/delete", { name: checkName(name, "user") }, options);
      },
      changePassword: async (name, password, options) => {
        checkPassword(password);
        await call(
          "user/changepw",
          { name: checkName(name, "user"), password },
          options,
        );
      },
      grant: async (name, role, options) => {
        await call(
          "user/grant",
          { user: checkName(name, "user"), role: checkName(role, "role") },
          options,
        );
      },
      revoke: async (name, role, options) => {
        await call(
          "user/revoke",
          { name: checkName(name, "user"), role: checkName(role, "role") },
          options,
        );
      },
    };
    this.roles = {
      list: async (options) =>
        ((await call("role/list", {}, options)).roles as
          | string[]
          | undefined) ?? [],
      get: async (name, options) => ({
        permissions:
          (((await call("role/get", { role: checkName(name, "role") }, options))
            .perm as {
              permType?: string | number;
              key?: string;
              range_end?: string;
            }[] | undefined) ?? [])
            .map((perm) => ({
              type: typeof perm.permType === "number"
                ? PERM_NAME[perm.permType] ?? "read"
                : (perm.permType?.toLowerCase() ?? "read") as Permission[
                  "type"
                ],
              key: fromBase64(perm.key),
              end: fromBase64(perm.range_end),
            })),
      }),
      add: async (name, options) => {
        await call("role/add", { name: checkName(name, "role") }, options);
      },
      delete: async (name, options) => {
        await call("role/delete", { role: checkName(name, "role") }, options);
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
        await call("role/grant", {
          name: checkName(name, "role"),
          perm: { permType: type, key: range.key, range_end: range.range_end },
        }, options);
      },
      revoke: async (name, permission, options) => {
        const range = keyRange(permission.key, permission, this.#namespace);
        await call("role/revoke", {
          role: checkName(name, "role"),
          key: range.key,
          range_end: range.range_end ?? "",
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
    await this.#call("enable", {}, options);
  }

  /**
   * Turns authentication off (as root).
   *
   * @param options A signal.
   */
  async disable(options?: CallOptions): Promise<void> {
    await this.#call("disable", {}, options);
  }

  /**
   * Whether auth is on (etcd 3.5 and later; root only).
   *
   * @param options A signal.
   * @returns The status.
   */
  async status(options?: CallOptions): Promise<AuthStatus> {
    const body = await this.#call("status", {}, options);
    void header(body.header as RawHeader | undefined);
    return {
      enabled: body.enabled === true,
      authRevision: int(body.authRevision as string | undefined),
    };
  }

  #call(
    path: string,
    body: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<Record<string, unknown>> {
    return this.#caller.call(
      `auth/${path}`,
      body,
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
