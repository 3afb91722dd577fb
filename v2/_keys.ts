// Key encoding for the v2 key space. Internal.

export { type Key, keySegments } from "../_core/paths.ts";

/** The key as etcd spells it: `/a/b`, or `/` for the root. */
export function keyString(segments: readonly string[]): string {
  return "/" + segments.join("/");
}

/** The key's URL path below `/v2/keys`: `/a%20b/c`, or `/` for the root. */
export function keyPath(segments: readonly string[]): string {
  if (segments.length === 0) return "/";
  let path = "";
  for (const segment of segments) path += "/" + encodeURIComponent(segment);
  return path;
}

/**
 * Whether `key` is hidden from a recursive watch on `watched`: a segment
 * below `watched` starts with `_`. etcd hides such events from live watches
 * but not from answers out of its history, so the client checks itself.
 */
export function isHiddenBelow(watched: string, key: string): boolean {
  const base = watched === "/" ? 0 : watched.length;
  return key.indexOf("/_", base) !== -1;
}
