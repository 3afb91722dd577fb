// What a dump records about itself: the subtree it was read from and the
// revision (v3) or index (v2) it was read at, so that yaml2etcd loading it
// back can tell a key changed since from one the file changes. YAML holds
// it in its first line, a comment; JSON in a member of the top object whose
// name is empty (which no key can have), which also holds PREFIX's own
// value where keys are below it too (elsewhere a mapping's empty name).
// Internal.

import { Failure } from "./_common.ts";
import { visible } from "./_escape.ts";

/** Where and when a dump was read. */
export interface Origin {
  /** The subtree's key, as etcd2yaml's PREFIX named it. */
  prefix: string;
  /** `"revision"` (v3) or `"index"` (v2): what `at` counts. */
  unit: "revision" | "index";
  /** The revision or index the dump shows. */
  at: number;
}

/**
 * What marks a view that `etcd2yaml --decode` wrote for reading: the first
 * line of its YAML, the `"view"` of its JSON's empty name. yaml2etcd refuses
 * such a file: its values are decoded objects, not what etcd held.
 */
export const VIEW_MARK = "etcd2yaml --decode";

function viewRefused(where: string): Failure {
  return new Failure(
    `Cannot load ${where}: it is a view that etcd2yaml --decode wrote for reading, not a dump (its values are decoded objects, not what etcd holds); dump without --decode to copy or restore; nothing was written`,
  );
}

/** Refuses a YAML view of `etcd2yaml --decode`, by its first line. */
export function refuseView(text: string, where: string): void {
  if (text.startsWith(`# ${VIEW_MARK}`)) throw viewRefused(where);
}

/** The unit of a protocol's snapshot index. */
export function unitOf(protocol: string): Origin["unit"] {
  return protocol === "v2" ? "index" : "revision";
}

/** The first line of a YAML dump. */
export function originComment(origin: Origin): string {
  return `# etcd2yaml: ${
    visible(JSON.stringify(origin.prefix))
  } at ${origin.unit} ${origin.at}\n`;
}

const COMMENT =
  /^# etcd2yaml: ("(?:[^"\\\n]|\\.)*") at (revision|index) (\d+)\r?\n/;

/** The origin a YAML dump's first line records, if it does. */
export function originOfComment(text: string): Origin | undefined {
  const match = COMMENT.exec(text);
  if (match === null) return undefined;
  const at = Number(match[3]);
  if (!Number.isSafeInteger(at)) return undefined;
  try {
    return {
      prefix: JSON.parse(match[1]!),
      unit: match[2] as Origin["unit"],
      at,
    };
  } catch {
    return undefined;
  }
}

/**
 * The member of a JSON dump's origin that holds PREFIX's own value when
 * keys are below it too (the top object's empty name being the origin).
 */
export const ORIGIN_VALUE = "value";

/**
 * The JSON member that opens a JSON dump's object; `own` is the JSON of
 * PREFIX's own value, when keys are below it too.
 */
export function originMember(origin: Origin, own?: string): string {
  return `"": {"prefix": ${
    JSON.stringify(origin.prefix)
  }, "${origin.unit}": ${origin.at}${
    own === undefined ? "" : `, "${ORIGIN_VALUE}": ${own}`
  }}`;
}

/**
 * The origin of the empty name's mapping at the top of a file (as read:
 * names to text); refuses anything else there, naming `where`.
 */
export function originOfFields(
  fields: ReadonlyMap<string, unknown>,
  where: string,
): Origin {
  if (fields.has("view")) throw viewRefused(where);
  const prefix = fields.get("prefix");
  const unit = fields.has("revision") ? "revision" : "index";
  const at = fields.get(unit);
  if (
    fields.size !== 2 || typeof prefix !== "string" ||
    typeof at !== "string" || !/^\d+$/.test(at) ||
    !Number.isSafeInteger(Number(at))
  ) {
    throw new Failure(
      `Cannot load ${where}: the empty name at the top is etcd2yaml's record of a dump, {"prefix": PREFIX, "revision": N} (v2: "index"; and "value": PREFIX's own value, where keys are below it too); remove it to load the rest as it is`,
    );
  }
  return { prefix, unit, at: Number(at) };
}
