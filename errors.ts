/**
 * Errors raised by the etcd v3 client.
 *
 * Every error etcd reports becomes an {@linkcode EtcdV3Error} subclass named
 * after what happened ({@linkcode Compacted}, {@linkcode LeaseNotFound},
 * {@linkcode PermissionDenied}, ...). Problems below etcd's protocol are
 * {@linkcode TransportError}s: {@linkcode ConnectionFailed},
 * {@linkcode RequestTimeout}, {@linkcode UnexpectedResponse}, ...
 *
 * Every error of this library also says what kind of failure it is,
 * whatever protocol reported it: `error.kind` (or {@linkcode errorKind} for
 * anything caught) is `"compare failed"`, `"not found"`, `"history lost"`,
 * `"unavailable"`, ... (see {@linkcode ErrorKind}).
 *
 * @example Usage
 * ```ts
 * import { Client, Compacted, errorKind } from "@etcd-tree/etcd-tree";
 *
 * async function readAt(client: Client, key: string, revision: number) {
 *   try {
 *     return await client.get(key, { revision });
 *   } catch (error) {
 *     if (error instanceof Compacted) return undefined; // history is gone
 *     if (errorKind(error) === "unavailable") return undefined;
 *     throw error;
 *   }
 * }
 * ```
 *
 * @module
 */

export * from "./v3/_errors.ts";
export { type ErrorKind, errorKind } from "./_core/kinds.ts";
export * from "./_http/errors.ts";
