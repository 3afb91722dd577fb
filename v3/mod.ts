/**
 * A client of etcd's v3 API through its JSON gateway, with no
 * dependencies: the API that every etcd since 3.0 serves by default (the
 * only one from 3.6 on) and that etcdctl, Kubernetes and every v3 client
 * write to.
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
 *   with a {@linkcode errorKind}, and the transport errors shared with the
 *   v2 client ({@linkcode ConnectionFailed}, {@linkcode RequestTimeout},
 *   ...).
 *
 * `EtcdTree`, the lock, the election and the command-line tools take this
 * client as they take the v2 one.
 *
 * @example Usage
 * ```ts
 * import { Client, compare, op } from "@etcd-tree/etcd-tree/v3";
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

export {
  Client,
  type ClientOptions,
  KeySpace,
  type PagesOptions,
  type TlsOptions,
  type VersionInfo,
} from "./client.ts";
export type { CallOptions } from "./call.ts";
export { KeyValue, type ResponseHeader } from "./decode.ts";
export type { Bytes } from "./keys.ts";
export {
  type Compare,
  compare,
  type DeleteOptions,
  type DeleteResult,
  type KeyRange,
  op,
  type Operation,
  type OperationResult,
  type PutOptions,
  type PutResult,
  type RangeOptions,
  type RangeResult,
  type TxnRequest,
  type TxnResult,
} from "./kv.ts";
export { Watcher, type WatchEvent, type WatchOptions } from "./watch.ts";
export {
  stm,
  StmConflict,
  type StmOptions,
  type StmResult,
  type StmTransaction,
} from "./stm.ts";
export {
  KeptLease,
  LeaseApi,
  type LeaseGrant,
  type LeaseInfo,
  LeaseLost,
} from "./lease.ts";
export {
  AuthApi,
  type AuthStatus,
  type Permission,
  type PermissionGrant,
} from "./auth.ts";
export {
  type Alarm,
  ClusterApi,
  MaintenanceApi,
  type Member,
  type Status,
} from "./cluster.ts";
export * from "./errors.ts";
export { type ErrorKind, errorKind } from "../_core/kinds.ts";
export * from "../_http/errors.ts";
