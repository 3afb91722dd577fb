// What kind of failure an error is, for the layers above the protocol
// backends: they ask "is this a conflict?" rather than import a backend's
// error classes. Internal; `ErrorKind` and `errorKind` are public through
// errors.ts.

/**
 * What kind of failure an error of this library is, whatever protocol
 * reported it:
 *
 * - `"compare failed"`: a condition of a write did not hold.
 * - `"exists"`: a write that must create found the key.
 * - `"not found"`: the key does not exist.
 * - `"wrong type"`: a value where a directory is needed, or the reverse.
 * - `"not empty"`: a directory still holds keys.
 * - `"history lost"`: the changes asked for are no longer kept.
 * - `"unavailable"`: the cluster or a member cannot serve now; trying again
 *   (or another member) may succeed.
 * - `"unauthorized"`: authentication failed or permission is missing.
 * - `"invalid"`: etcd refused the request as malformed.
 * - `"too large"`: the request is over one of etcd's limits.
 * - `"unsupported"`: the server or protocol cannot do this.
 * - `"closed"`: the client is closed.
 * - `"unknown"`: anything else etcd reported.
 */
export type ErrorKind =
  | "compare failed"
  | "exists"
  | "not found"
  | "wrong type"
  | "not empty"
  | "history lost"
  | "unavailable"
  | "unauthorized"
  | "invalid"
  | "too large"
  | "unsupported"
  | "closed"
  | "unknown";

/** The key under which the library's errors say their kind. */
export const KIND: unique symbol = Symbol.for("etcd-tree.errorKind");

/**
 * The kind of an error of this library, or `undefined` for any other value
 * (an `AbortError`, a `TypeError` for bad arguments, ...).
 *
 * @param error Anything caught.
 * @returns Its kind.
 */
export function errorKind(error: unknown): ErrorKind | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  return (error as { [KIND]?: ErrorKind })[KIND];
}

/** Whether trying again later, or elsewhere, may succeed. */
export function retryable(error: unknown): boolean {
  return errorKind(error) === "unavailable";
}

/**
 * Whether a conditional write failed because the key is not as the writer
 * last saw it: a compare that failed, a create that found the key, an
 * update that found it gone, or a change of type.
 */
export function isConflict(error: unknown): boolean {
  const kind = errorKind(error);
  return kind === "compare failed" || kind === "exists" ||
    kind === "not found" || kind === "wrong type";
}
