// `--decode k8s` for etcd2yaml and etcdmon: Kubernetes objects shown
// decoded (cli/_k8s.ts), for reading. Internal.
//
// etcd2yaml's decoded view is deliberately not a dump: a flat mapping from
// whole etcd keys ("/registry/pods/default/web") to the decoded objects,
// which yaml2etcd refuses (a name with "/" is not a key it loads), so that
// a decoded view can never be loaded back in place of the bytes. Secrets'
// data is hidden; a plain dump holds the stored bytes.

import type { Entry, Subtree } from "../_core/store.ts";
import { UsageError } from "./_common.ts";
import {
  decodeK8s,
  type DecodeOptions,
  type K8sObject,
  type K8sValue,
} from "./_k8s.ts";
import { showValue, visible } from "./_escape.ts";
import { BINARY_NAME, scalar, scalarValue } from "./_yaml.ts";
import { VIEW_MARK } from "./_origin.ts";

/** The help line of `--decode`. */
export const DECODE_HELP =
  `  --decode k8s    show Kubernetes objects decoded (apiVersion, kind,
                  metadata, spec, ...); Secrets' data hidden`;

/** The --decode flag: "k8s", or undefined when not given. */
export function decodeFlag(given: string | undefined): "k8s" | undefined {
  if (given === undefined || given === "k8s") return given;
  throw new UsageError(
    `Invalid --decode ${JSON.stringify(given)}: expected k8s`,
  );
}

const encoder = new TextEncoder();

/** The Kubernetes object a value holds, if it holds one. */
export function decodeValue(
  value: string | Uint8Array | undefined,
  options: DecodeOptions = {},
): K8sObject | undefined {
  if (value === undefined) return undefined;
  return decodeK8s(
    typeof value === "string" ? encoder.encode(value) : value,
    options,
  );
}

/** What a decoded object shows: the object, with an error or encryption. */
function viewOf(decoded: K8sObject, size: number): K8sValue {
  if (decoded.encoding === "encrypted") {
    return `<encrypted at rest (${decoded.encryption}): ${size} bytes>`;
  }
  const object = decoded.object ?? {};
  return decoded.error === undefined
    ? object
    : { ...object, "#error": decoded.error };
}

type View = K8sValue | Uint8Array | { [name: string]: View };

// ---- etcd2yaml ----

/**
 * The decoded view of a snapshot: whole keys to decoded objects (values
 * that are not Kubernetes objects as they are), as YAML or JSON.
 */
export function decodedDump(
  entries: readonly Entry[],
  subtree: Subtree,
  json: boolean,
): string {
  // The empty name (no key's) marks a view, which yaml2etcd refuses.
  const view: { [name: string]: View } = json
    ? { "": { view: VIEW_MARK } }
    : {};
  for (const entry of entries) {
    if (entry.dir === true) continue;
    const value = entry.value ?? "";
    const decoded = decodeValue(value);
    view[subtree.keyOf(entry.path)] = decoded === undefined ? value : viewOf(
      decoded,
      typeof value === "string" ? value.length : value.length,
    );
  }
  if (json) {
    return JSON.stringify(
      view,
      (_, value) =>
        value instanceof Uint8Array
          ? { [BINARY_NAME]: value.toBase64() }
          : value,
      2,
    ) + "\n";
  }
  const lines = [
    `# ${VIEW_MARK} k8s: Kubernetes objects decoded for reading. Not a`,
    "# dump: yaml2etcd refuses it; dump without --decode to copy or restore.",
  ];
  emit(view, "", lines);
  return lines.join("\n") + "\n";
}

function isScalar(value: View): value is string | number | boolean | null {
  return value === null || typeof value !== "object";
}

function scalarOf(value: View, indent: string): string {
  if (value instanceof Uint8Array || typeof value === "string") {
    return scalarValue(value, indent);
  }
  return String(value); // numbers, booleans, null
}

function isEmpty(value: object): boolean {
  return Array.isArray(value)
    ? value.length === 0
    : Object.keys(value).length === 0;
}

/** YAML of a mapping or sequence, as cli/_yaml.ts writes a dump's. */
function emit(
  data: { [name: string]: View } | View[],
  indent: string,
  lines: string[],
): void {
  const items: [string | undefined, View][] = Array.isArray(data)
    ? data.map((item) => [undefined, item])
    : Object.entries(data);
  for (const [name, value] of items) {
    const head = name === undefined
      ? indent + "-"
      : `${indent}${scalar(name)}:`;
    if (isScalar(value) || value instanceof Uint8Array) {
      lines.push(`${head} ${scalarOf(value, indent)}`);
    } else if (isEmpty(value)) {
      lines.push(`${head} ${Array.isArray(value) ? "[]" : "{}"}`);
    } else if (name === undefined) {
      // The item's first line goes after the dash.
      const start = lines.length;
      emit(value, indent + "  ", lines);
      lines[start] = `${indent}- ${lines[start]!.slice(indent.length + 2)}`;
    } else {
      lines.push(head);
      emit(value, indent + "  ", lines);
    }
  }
}

// ---- etcdmon ----

/** A value on an etcdmon line: its decoded object as JSON, when it is one. */
export function showDecoded(value: string | Uint8Array): string {
  const decoded = decodeValue(value);
  if (decoded === undefined) return showValue(value);
  const view = viewOf(decoded, value.length);
  return typeof view === "string"
    ? visible(view)
    : visible(JSON.stringify(view));
}
