/**
 * etcd-tree: an etcd client for Deno, with no dependencies.
 *
 * The package root is etcd's v3 API, the one every etcd serves by default
 * (and the only one from 3.6 on), the API etcdctl, Kubernetes and every v3
 * client write to:
 *
 * - {@linkcode Client}: reads, ranges and pages at a pinned revision,
 *   writes, deletes, transactions ({@linkcode compare}, {@linkcode op}),
 *   compaction, namespaces; keys and values as bytes or text.
 * - {@linkcode Watcher}, from `client.watch()`: every change once, in
 *   revision order, through disconnects, restarts and member failures.
 * - {@linkcode LeaseApi} (`client.lease`): grant, revoke, time to live,
 *   and {@linkcode KeptLease}s refreshed in the background. Lease IDs are
 *   given as etcdctl prints them, 16 hex digits (`kv.lease` is `undefined`
 *   for no lease), and taken as 16 hex digits, `0x` and hex, a decimal of
 *   17 to 19 digits, or a bigint; any other form is refused.
 * - {@linkcode stm}: a function's reads and writes as one transaction,
 *   run again on a conflict.
 * - {@linkcode AuthApi} (`client.auth`), {@linkcode ClusterApi}
 *   (`client.cluster`) and {@linkcode MaintenanceApi}
 *   (`client.maintenance`).
 * - One error class per etcd error ({@linkcode Compacted},
 *   {@linkcode LeaseNotFound}, {@linkcode PermissionDenied}, ...), each
 *   with a {@linkcode errorKind}, and the transport errors
 *   ({@linkcode ConnectionFailed}, {@linkcode RequestTimeout}, ...).
 * - {@linkcode EtcdTree}: a live, typed mirror of a subtree that writes back
 *   with compare-and-swap in transactions and shows your own writes when
 *   they resolve, with {@linkcode codecs} for typed values.
 * - Coordination: {@linkcode Lock}, {@linkcode Election} and
 *   {@linkcode keepAlive}, interoperable with etcdctl's and Go's.
 *
 * etcd's legacy v2 API (etcd 3.4 and 3.5 with `--enable-v2`) has its own
 * entry point, `@etcd-tree/etcd-tree/v2`; `EtcdTree` and the recipes take
 * either client.
 *
 * @example Usage
 * ```ts
 * import { Client, compare, op } from "@etcd-tree/etcd-tree";
 * import { startEtcd } from "@etcd-tree/etcd-tree/testing";
 * import assert from "node:assert/strict";
 *
 * await using etcd = await startEtcd({ version: "3.5" });
 * await using client = new Client({ endpoints: etcd.endpoint });
 * const { revision } = await client.put("app/port", "8080");
 * // Change it only if nobody else did since.
 * const result = await client.txn({
 *   compare: [compare.modRevision("app/port", "==", revision)],
 *   success: [op.put("app/port", "8081")],
 * });
 * assert.ok(result.succeeded);
 * assert.equal((await client.get("app/port"))?.value, "8081");
 * ```
 *
 * @module
 */

export * from "./client.ts";
export * from "./results.ts";
export * from "./errors.ts";
export {
  type Compare,
  compare,
  type DeleteOptions,
  type KeyRange,
  op,
  type Operation,
  type PutOptions,
  type RangeOptions,
  type TxnRequest,
} from "./v3/_kv.ts";
export { Watcher, type WatchOptions } from "./v3/_watch.ts";
export {
  stm,
  StmConflict,
  type StmOptions,
  type StmTransaction,
} from "./v3/_stm.ts";
export { KeptLease, LeaseApi, LeaseLost } from "./v3/_lease.ts";
export { AuthApi, type PermissionGrant } from "./v3/_auth.ts";
export { ClusterApi, MaintenanceApi } from "./v3/_cluster.ts";
export * from "./codec.ts";
export * from "./tree.ts";
export * from "./lock.ts";
export * from "./election.ts";
export * from "./keepalive.ts";
