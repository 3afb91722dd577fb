/**
 * Errors raised by the etcd client.
 *
 * Every error etcd reports with an `errorCode` becomes an {@linkcode EtcdError}
 * subclass named after that code ({@linkcode KeyNotFound} for 100,
 * {@linkcode CompareFailed} for 101, ...). The codes are grouped as etcd groups
 * them, so a caller can catch a whole family at once:
 * {@linkcode KeyError} (1xx), {@linkcode FormError} (2xx),
 * {@linkcode ClusterError} (3xx) and {@linkcode WatchError} (4xx).
 *
 * Problems below the etcd protocol are {@linkcode TransportError}s:
 * {@linkcode ConnectionFailed}, {@linkcode RequestTimeout},
 * {@linkcode UnexpectedResponse} and {@linkcode V2Disabled}.
 *
 * @example Usage
 * ```ts
 * import { Client, KeyNotFound } from "@etcd-tree/etcd-tree";
 *
 * async function readOr(client: Client, key: string, fallback: string) {
 *   try {
 *     const { node } = await client.get(key);
 *     return "value" in node ? node.value : fallback;
 *   } catch (error) {
 *     if (error instanceof KeyNotFound) return fallback;
 *     throw error;
 *   }
 * }
 * ```
 *
 * Every error of this library also says what kind of failure it is,
 * whatever protocol reported it: `error.kind` (or {@linkcode errorKind} for
 * anything caught) is `"compare failed"`, `"not found"`, `"history lost"`,
 * `"unavailable"`, ... (see {@linkcode ErrorKind}).
 *
 * @module
 */

export { type ErrorKind, errorKind } from "./_core/kinds.ts";
export * from "./_http/errors.ts";
export * from "./v2/errors.ts";
