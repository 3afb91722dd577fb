/**
 * The etcd v3 client, and what every client of this library shares.
 *
 * {@linkcode Client} speaks etcd's v3 API, the one every etcd serves (and
 * the only one from 3.6 on). Everything built on a client (`EtcdTree`,
 * `Lock`, `Election`, `keepAlive`, the command-line tools) takes any
 * {@linkcode EtcdClient}: this one, or the legacy v2 client from
 * `@etcd-tree/etcd-tree/v2`.
 *
 * @example Usage
 * ```ts
 * import { Client } from "@etcd-tree/etcd-tree/client";
 * import { startEtcd } from "@etcd-tree/etcd-tree/testing";
 * import assert from "node:assert/strict";
 *
 * await using etcd = await startEtcd({ version: "3.5" });
 * await using client = new Client({ endpoints: etcd.endpoint });
 * await client.put("app/port", "8080");
 * assert.equal((await client.get("app/port"))?.value, "8080");
 * ```
 *
 * @module
 */

export {
  Client,
  type ClientOptions,
  KeySpace,
  type PagesOptions,
  type TlsOptions,
  type VersionInfo,
} from "./v3/_client.ts";
export type { CallOptions } from "./v3/_call.ts";
export type { Bytes } from "./v3/_keys.ts";
export type { Key } from "./_core/paths.ts";

/**
 * Any client of this library, of either protocol: what `EtcdTree`, `Lock`,
 * `Election` and `keepAlive` are built on. Only this library's clients
 * qualify; anything else is refused with a `TypeError`.
 */
export interface EtcdClient extends AsyncDisposable {
  /** Closes the client. */
  close(): Promise<void>;
}
