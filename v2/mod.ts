/**
 * etcd's legacy v2 API: for etcd 3.4 and 3.5 started with
 * `--enable-v2=true` (etcd 3.6 removed it). Keys written through v2 are
 * invisible to v3 and the other way round; for any etcd you run today, use
 * the package root (`@etcd-tree/etcd-tree`), the v3 client.
 *
 * - {@linkcode Client}: the etcd v2 HTTP API, every key-space option, typed
 *   results and one error class per etcd error code.
 * - Results ({@linkcode Got}, {@linkcode Set}, {@linkcode Deleted}, ...) with
 *   {@linkcode Value} and {@linkcode Directory} nodes.
 * - Errors ({@linkcode KeyNotFound}, {@linkcode CompareFailed}, ...) grouped
 *   as {@linkcode KeyError}, {@linkcode FormError}, {@linkcode ClusterError}
 *   and {@linkcode WatchError}, and transport errors such as
 *   {@linkcode ConnectionFailed}.
 * - {@linkcode AuthApi} (`client.auth`): etcd's v2 users, roles and auth
 *   switch.
 * - {@linkcode Watcher}, from `client.watch()`: every change of a key or
 *   subtree, once and in order, as an async iterable.
 * - Everything protocol-neutral is here too, so a v2 program imports from
 *   one place: {@linkcode EtcdTree} with {@linkcode codecs},
 *   {@linkcode Lock}, {@linkcode Election} and {@linkcode keepAlive}.
 *
 * @example Usage
 * ```ts
 * import { Client, Directory } from "@etcd-tree/etcd-tree/v2";
 * import { startEtcd } from "@etcd-tree/etcd-tree/testing";
 * import assert from "node:assert/strict";
 *
 * await using etcd = await startEtcd(); // a throwaway etcd 3.4 with v2 on
 * await using client = new Client({ endpoints: etcd.endpoint });
 * await client.set("app/db/host", "db.internal");
 * await client.set("app/db/port", "5432");
 * const { node } = await client.get("app", { recursive: true, sorted: true });
 * assert.ok(node instanceof Directory);
 * assert.deepEqual(
 *   [...node.leaves()].map((leaf) => `${leaf.key}=${leaf.value}`),
 *   ["/app/db/host=db.internal", "/app/db/port=5432"],
 * );
 * ```
 *
 * @module
 */

export * from "./_client.ts";
export * from "./_results.ts";
export * from "./_errors.ts";
export * from "./_watch.ts";
export * from "./_auth.ts";
export type { EtcdClient } from "../client.ts";
export { type ErrorKind, errorKind } from "../_core/kinds.ts";
export * from "../_http/errors.ts";
export * from "../codec.ts";
export * from "../tree.ts";
export * from "../lock.ts";
export * from "../election.ts";
export * from "../keepalive.ts";
