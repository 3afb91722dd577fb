/**
 * Typed results of etcd's v3 API: what each call of the
 * {@linkcode https://jsr.io/@etcd-tree/etcd-tree/doc/client/~/Client | Client}
 * answers.
 *
 * A {@linkcode KeyValue} is one key with its value and metadata (keys and
 * values are bytes, with text getters that refuse what is not UTF-8); every
 * answer carries a {@linkcode ResponseHeader} with the revision etcd
 * answered at.
 *
 * @example Usage
 * ```ts
 * import { Client, type RangeResult } from "@etcd-tree/etcd-tree";
 * import { startEtcd } from "@etcd-tree/etcd-tree/testing";
 * import assert from "node:assert/strict";
 *
 * await using etcd = await startEtcd({ version: "3.5" });
 * await using client = new Client({ endpoints: etcd.endpoint });
 * await client.put("app/a", "1");
 * const result: RangeResult = await client.range("app/", { prefix: true });
 * assert.equal(result.kvs[0]?.modRevision, result.header.revision);
 * ```
 *
 * @module
 */

export { KeyValue, type ResponseHeader } from "./v3/_decode.ts";
export type {
  DeleteResult,
  OperationResult,
  PutResult,
  RangeResult,
  TxnResult,
} from "./v3/_kv.ts";
export type { WatchEvent } from "./v3/_watch.ts";
export type { LeaseGrant, LeaseInfo } from "./v3/_lease.ts";
export type { StmResult } from "./v3/_stm.ts";
export type { AuthStatus, Permission } from "./v3/_auth.ts";
export type { Alarm, Member, Status } from "./v3/_cluster.ts";
