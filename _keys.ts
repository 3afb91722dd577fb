// Key validation and encoding for the v2 key space. Internal.

/** A key: a string of segments joined by `/`, or the segments themselves. */
export type Key = string | readonly string[];

/**
 * Splits and checks a key, returning its segments (empty for the root).
 *
 * A leading `/` is optional. Empty, `.` and `..` segments are refused, since
 * etcd's HTTP server would redirect or rewrite them; so is a segment holding
 * `/` (possible only when segments are given as an array).
 */
export function keySegments(key: Key, what = "key"): string[] {
  let segments: string[];
  if (typeof key === "string") {
    if (key === "" || key === "/") return [];
    segments = (key.charCodeAt(0) === 47 ? key.slice(1) : key).split("/");
  } else if (Array.isArray(key)) {
    segments = [...key];
  } else {
    throw new TypeError(
      `Invalid ${what}: expected a string or an array of strings, got ${typeof key}`,
    );
  }
  for (const segment of segments) {
    if (typeof segment !== "string") {
      throw new TypeError(
        `Invalid ${what} ${
          JSON.stringify(key)
        }: every segment must be a string`,
      );
    }
    if (segment === "" || segment === "." || segment === "..") {
      throw new TypeError(
        `Invalid ${what} ${JSON.stringify(key)}: segment ${
          JSON.stringify(segment)
        } is not allowed; use non-empty names other than "." and ".."`,
      );
    }
    if (segment.includes("/")) {
      throw new TypeError(
        `Invalid ${what} ${JSON.stringify(key)}: segment ${
          JSON.stringify(segment)
        } contains "/"`,
      );
    }
  }
  return segments;
}

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
