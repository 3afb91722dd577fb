/**
 * etcd-tree: an etcd client for Deno.
 *
 * - {@linkcode Client}: the etcd v2 HTTP API, every key-space option, typed
 *   results and one error class per etcd error code.
 * - Results ({@linkcode Got}, {@linkcode Set}, {@linkcode Deleted}, ...) with
 *   {@linkcode Value} and {@linkcode Directory} nodes.
 * - Errors ({@linkcode KeyNotFound}, {@linkcode CompareFailed}, ...) grouped
 *   as {@linkcode KeyError}, {@linkcode FormError}, {@linkcode ClusterError}
 *   and {@linkcode WatchError}, and transport errors such as
 *   {@linkcode ConnectionFailed}.
 * - Coordination: {@linkcode Lock}, {@linkcode Election} and
 *   {@linkcode keepAlive}.
 * - {@linkcode AuthApi} (`client.auth`): etcd's v2 users, roles and auth
 *   switch.
 * - {@linkcode Watcher}, from `client.watch()`: every change of a key or
 *   subtree, once and in order, as an async iterable.
 * - {@linkcode EtcdTree}: a live, typed mirror of a subtree that writes back
 *   with compare-and-swap and shows your own writes when they resolve, with
 *   {@linkcode codecs} for typed values.
 *
 * @example Usage
 * ```ts
 * import { Client, Directory } from "@etcd-tree/etcd-tree";
 * import { startEtcd } from "@etcd-tree/etcd-tree/testing";
 * import assert from "node:assert/strict";
 *
 * await using etcd = await startEtcd(); // a throwaway etcd for the example
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

export * from "./client.ts";
export * from "./results.ts";
export * from "./errors.ts";
export * from "./v2/watch.ts";
export * from "./codec.ts";
export * from "./tree.ts";
export * from "./v2/auth.ts";
export * from "./lock.ts";
export * from "./election.ts";
export * from "./keepalive.ts";
