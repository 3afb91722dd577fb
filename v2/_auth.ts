/**
 * etcd's v2 authentication admin API: turning auth on and off, users and
 * roles. Reach it as `client.auth`; the client's `auth` option sends the
 * credentials (HTTP basic) with every request.
 *
 * @example Usage
 * ```ts
 * import { Client } from "@etcd-tree/etcd-tree/v2";
 *
 * async function usage() {
 *   await using admin = new Client();
 *   await admin.auth.users.create("root", "root-secret");
 *   await admin.auth.roles.create("reader", { read: ["/config/*"] });
 *   await admin.auth.users.create("app", "app-secret", { roles: ["reader"] });
 *   await admin.auth.enable();
 *
 *   await using app = new Client({ auth: { username: "app", password: "app-secret" } });
 *   console.log(await app.get("config/mode"));
 * }
 * ```
 *
 * @module
 */

import {
  describeRequest,
  type Dispatcher,
  type HttpRequest,
} from "../_http/dispatcher.ts";
import { parseObject, unexpected } from "./_decode.ts";

/** Key patterns a role may read and write (a trailing `*` is a prefix). */
export interface Permissions {
  /** Patterns that may be read, such as `"/config/*"`. */
  read: string[];
  /** Patterns that may be written. */
  write: string[];
}

/** A role and what it may do. */
export interface Role extends Permissions {
  /** The role's name. */
  name: string;
}

/** A user and the roles granted to it. */
export interface User {
  /** The user's name. */
  name: string;
  /** The names of its roles. */
  roles: string[];
}

/** What the calls of {@linkcode AuthApi} accept. */
export interface AuthCallOptions {
  /** Aborts the call. */
  signal?: AbortSignal;
}

/**
 * etcd refused an auth admin request (for example for want of root's
 * credentials, or because the user or role does not exist).
 *
 * @example Usage
 * ```ts
 * import { AuthError } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * const error = new AuthError("PUT /v2/auth/enable", 401, "Insufficient credentials");
 * assert.equal(error.message, "Cannot PUT /v2/auth/enable: Insufficient credentials (HTTP 401)");
 * ```
 */
export class AuthError extends Error {
  /** The HTTP status etcd answered with. */
  readonly status: number;
  /** etcd's own message. */
  readonly etcdMessage: string;

  /**
   * Constructs the error.
   *
   * @param request The request, such as `"PUT /v2/auth/enable"`.
   * @param status The HTTP status.
   * @param etcdMessage etcd's message.
   */
  constructor(request: string, status: number, etcdMessage: string) {
    super(`Cannot ${request}: ${etcdMessage} (HTTP ${status})`);
    this.name = "AuthError";
    this.status = status;
    this.etcdMessage = etcdMessage;
  }
}

interface RawRole {
  role?: string;
  permissions?: { kv?: { read?: string[] | null; write?: string[] | null } };
}

interface RawUser {
  user?: string;
  roles?: (string | RawRole)[] | null;
}

function roleFrom(raw: RawRole): Role {
  const kv = raw.permissions?.kv;
  return { name: raw.role ?? "", read: kv?.read ?? [], write: kv?.write ?? [] };
}

function userFrom(raw: RawUser): User {
  return {
    name: raw.user ?? "",
    roles: (raw.roles ?? []).map((role) =>
      typeof role === "string" ? role : role.role ?? ""
    ),
  };
}

function segment(name: string, what: string): string {
  if (typeof name !== "string" || name === "" || name.includes("/")) {
    throw new TypeError(
      `Invalid ${what} name ${
        JSON.stringify(name)
      }: expected a non-empty string without "/"`,
    );
  }
  return encodeURIComponent(name);
}

/**
 * The v2 auth admin API of a client (`client.auth`). Changing users, roles
 * or the auth switch needs root's credentials once auth is on.
 *
 * @example Usage
 * ```ts
 * import { Client } from "@etcd-tree/etcd-tree/v2";
 *
 * async function usage() {
 *   await using root = new Client({ auth: { username: "root", password: "secret" } });
 *   console.log(await root.auth.status(), await root.auth.users.list());
 * }
 * ```
 */
export class AuthApi {
  readonly #http: Dispatcher;

  /**
   * Users: list, get, create, change the password, grant and revoke roles,
   * delete.
   */
  readonly users: {
    /** Every user with its roles. */
    list(options?: AuthCallOptions): Promise<User[]>;
    /** One user. */
    get(name: string, options?: AuthCallOptions): Promise<User>;
    /** Creates a user (with roles). */
    create(
      name: string,
      password: string,
      options?: AuthCallOptions & { roles?: string[] },
    ): Promise<User>;
    /** Changes a user's password. */
    setPassword(
      name: string,
      password: string,
      options?: AuthCallOptions,
    ): Promise<User>;
    /** Grants roles to a user. */
    grant(
      name: string,
      roles: string[],
      options?: AuthCallOptions,
    ): Promise<User>;
    /** Revokes roles from a user. */
    revoke(
      name: string,
      roles: string[],
      options?: AuthCallOptions,
    ): Promise<User>;
    /** Deletes a user. */
    delete(name: string, options?: AuthCallOptions): Promise<void>;
  };

  /**
   * Roles: list, get, create, grant and revoke permissions, delete.
   */
  readonly roles: {
    /** Every role with its permissions. */
    list(options?: AuthCallOptions): Promise<Role[]>;
    /** One role. */
    get(name: string, options?: AuthCallOptions): Promise<Role>;
    /** Creates a role with permissions. */
    create(
      name: string,
      permissions?: Partial<Permissions>,
      options?: AuthCallOptions,
    ): Promise<Role>;
    /** Adds permissions to a role. */
    grant(
      name: string,
      permissions: Partial<Permissions>,
      options?: AuthCallOptions,
    ): Promise<Role>;
    /** Takes permissions from a role. */
    revoke(
      name: string,
      permissions: Partial<Permissions>,
      options?: AuthCallOptions,
    ): Promise<Role>;
    /** Deletes a role. */
    delete(name: string, options?: AuthCallOptions): Promise<void>;
  };

  /**
   * Makes the API for a client's transport. Use `client.auth` instead.
   *
   * @param http The client's transport.
   */
  constructor(http: Dispatcher) {
    this.#http = http;
    const user = (
      name: string,
      body: Record<string, unknown>,
      o?: AuthCallOptions,
    ) =>
      this.#call<RawUser>("PUT", `/users/${segment(name, "user")}`, o, {
        user: name,
        ...body,
      }).then(userFrom);
    const role = (
      name: string,
      body: Record<string, unknown>,
      o?: AuthCallOptions,
    ) =>
      this.#call<RawRole>("PUT", `/roles/${segment(name, "role")}`, o, {
        role: name,
        ...body,
      }).then(roleFrom);
    const kv = (permissions: Partial<Permissions>) => ({
      kv: { read: permissions.read ?? [], write: permissions.write ?? [] },
    });
    this.users = {
      list: async (o) =>
        ((await this.#call<{ users?: RawUser[] | null }>("GET", "/users", o))
          .users ?? []).map(userFrom),
      get: async (name, o) =>
        userFrom(
          await this.#call<RawUser>(
            "GET",
            `/users/${segment(name, "user")}`,
            o,
          ),
        ),
      create: (name, password, o = {}) =>
        user(name, { password, ...(o.roles ? { roles: o.roles } : {}) }, o),
      setPassword: (name, password, o) => user(name, { password }, o),
      grant: (name, roles, o) => user(name, { grant: roles }, o),
      revoke: (name, roles, o) => user(name, { revoke: roles }, o),
      delete: async (name, o) => {
        await this.#call("DELETE", `/users/${segment(name, "user")}`, o);
      },
    };
    this.roles = {
      list: async (o) =>
        ((await this.#call<{ roles?: RawRole[] | null }>("GET", "/roles", o))
          .roles ?? []).map(roleFrom),
      get: async (name, o) =>
        roleFrom(
          await this.#call<RawRole>(
            "GET",
            `/roles/${segment(name, "role")}`,
            o,
          ),
        ),
      create: (name, permissions = {}, o) =>
        role(name, { permissions: kv(permissions) }, o),
      grant: (name, permissions, o) =>
        role(name, { grant: kv(permissions) }, o),
      revoke: (name, permissions, o) =>
        role(name, { revoke: kv(permissions) }, o),
      delete: async (name, o) => {
        await this.#call("DELETE", `/roles/${segment(name, "role")}`, o);
      },
    };
  }

  /**
   * Whether auth is on.
   *
   * @param options A signal.
   * @returns `true` when etcd checks credentials.
   *
   * @example Usage
   * ```ts
   * import type { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(client: Client) {
   *   console.log(await client.auth.status());
   * }
   * ```
   */
  async status(options?: AuthCallOptions): Promise<boolean> {
    const body = await this.#call<{ enabled?: boolean }>(
      "GET",
      "/enable",
      options,
    );
    return body.enabled === true;
  }

  /**
   * Turns auth on. The `root` user must exist.
   *
   * @param options A signal.
   *
   * @example Usage
   * ```ts
   * import type { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage(client: Client) {
   *   await client.auth.users.create("root", "secret");
   *   await client.auth.enable();
   * }
   * ```
   */
  async enable(options?: AuthCallOptions): Promise<void> {
    await this.#call("PUT", "/enable", options);
  }

  /**
   * Turns auth off (with root's credentials).
   *
   * @param options A signal.
   *
   * @example Usage
   * ```ts
   * import type { Client } from "@etcd-tree/etcd-tree/v2";
   * async function usage(root: Client) {
   *   await root.auth.disable();
   * }
   * ```
   */
  async disable(options?: AuthCallOptions): Promise<void> {
    await this.#call("DELETE", "/enable", options);
  }

  async #call<T>(
    method: HttpRequest["method"],
    path: string,
    options: AuthCallOptions = {},
    body?: Record<string, unknown>,
  ): Promise<T> {
    const request: HttpRequest = {
      method,
      path: "/v2/auth" + path,
      signal: options.signal,
      kind: method === "GET" ? "read" : "write",
    };
    if (body !== undefined) {
      request.body = JSON.stringify(body);
      request.contentType = "application/json";
    }
    const response = await this.#http.request(request);
    if (response.status >= 200 && response.status < 300) {
      return (response.text === "" ? {} : parseObject(request, response)) as T;
    }
    let message: string | undefined;
    try {
      const parsed = JSON.parse(response.text);
      if (typeof parsed?.message === "string") message = parsed.message;
    } catch {
      // Not JSON.
    }
    if (message === undefined) throw unexpected(request, response);
    throw new AuthError(describeRequest(request), response.status, message);
  }
}
