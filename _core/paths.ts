// Paths as the layers above the protocols see them: segments joined by
// "/". Internal; `Key` is public through client.ts.

/** A key: a string of segments joined by `/`, or the segments themselves. */
export type Key = string | readonly string[];

/**
 * Splits and checks a key, returning its segments (empty for the root).
 *
 * A leading `/` is optional. Empty, `.` and `..` segments are refused (v2's
 * HTTP server would redirect or rewrite them, and a tree cannot name them);
 * so is a segment holding `/` (possible only when segments are given as an
 * array).
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
    if (!segment.isWellFormed()) {
      throw new TypeError(
        `Invalid ${what} ${JSON.stringify(key)}: segment ${
          JSON.stringify(segment)
        } holds a lone surrogate (an unpaired UTF-16 half), which is not text`,
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

/**
 * The names of a store path (v3: a key below its prefix, any text; v2:
 * segments): split at each `/` between two other characters, so that an
 * empty segment stays in a name (`/registry/a` is `/registry`, `a`; `a//b`
 * and `dir/` are one name each). Joined with `/` they give the path back,
 * and no name is empty: the empty name is free for what a node holds
 * itself. On paths without empty segments, this is `split("/")`.
 */
export function namesOf(path: string): string[] {
  if (path === "") return [];
  return hasEmptySegment(path) ? path.split(NAME_BREAK) : path.split("/");
}

/** Whether a path has an empty segment: a leading, trailing or double `/`. */
export function hasEmptySegment(path: string): boolean {
  return path.startsWith("/") || path.endsWith("/") || path.includes("//");
}

/** A `/` with another character on either side. */
const NAME_BREAK = /(?<=[^/])\/(?=[^/])/;

/** The path above a path's last name, and that name (`""` for the root). */
export function lastName(path: string): { above: string; name: string } {
  if (!hasEmptySegment(path)) {
    const slash = path.lastIndexOf("/");
    return {
      above: slash < 0 ? "" : path.slice(0, slash),
      name: path.slice(slash + 1),
    };
  }
  const names = namesOf(path);
  const name = names.pop() ?? "";
  return { above: names.join("/"), name };
}
