// What etcdmon prints, per protocol: each change as a line, from a v2
// store's changes or straight from a v3 watch. On v3 every key under
// PREFIX is shown, whatever its bytes (not UTF-8, `a//b`, `a/`): the
// store's paths cannot name those, so etcdmon reads the watch itself, and
// its --json lines use v3's names. Internal; used by cli/monitor.ts.

import type { Change, Store, Subtree } from "../_core/store.ts";
import type { KeySpace } from "../v3/_client.ts";
import type { KeyValue } from "../v3/_decode.ts";
import { prefixEnd, startsWith, textOf } from "../v3/_keys.ts";
import type { Watcher, WatchEvent } from "../v3/_watch.ts";
import { PermissionDenied } from "../v3/_errors.ts";
import { deniedBelow } from "../v3/_store.ts";
import { jsonLine, showKey, showValue } from "./_escape.ts";
import { decodeValue, showDecoded } from "./_k8s_view.ts";

/** A change as printed, and the revision (v2: index) to go on from. */
export interface Printed {
  readonly next: number;
  readonly text: string;
}

/** Printed changes; iteration rejects with "history lost" when they are gone. */
export interface PrintedStream extends AsyncIterable<Printed> {
  close(): Promise<void>;
}

/** How to print: --json, --prev, --decode k8s. */
export interface Style {
  readonly json: boolean;
  readonly prev: boolean;
  /** Kubernetes objects decoded (`--decode k8s`). */
  readonly decode: boolean;
}

/** Told when the stream starts retrying after a failure, and recovers. */
export type OnState = (state: "live" | "retrying", error?: unknown) => void;

/** Where etcdmon reads changes from: one protocol's. */
export interface Source {
  /** "revision" (v3) or "index" (v2). */
  readonly word: string;
  /** The changes from `from` on (default: from now). */
  follow(from: number | undefined, onState: OnState): PrintedStream;
  /** etcd's revision (v2: index) now. */
  current(): Promise<number>;
  /** The line that says that changes after `lost` are gone. */
  resync(lost: number, now: number): string;
}

// ---------------------------------------------------------------------------
// v2: the store's changes (v2 hides nothing a path cannot name)

/** The changes of a v2 store's subtree. */
export function v2Source(store: Store, subtree: Subtree, style: Style): Source {
  return {
    word: "index",
    follow(from, onState) {
      const stream = store.follow(subtree, from, {
        ...(style.prev ? { prev: true } : {}),
        onState,
      });
      return {
        async *[Symbol.asyncIterator]() {
          for await (const change of stream) {
            yield {
              next: change.index + 1,
              text: v2Line(change, subtree, style),
            };
          }
        },
        close: () => stream.close(),
      };
    },
    current: async () => (await store.snapshot(subtree)).index,
    resync: (lost, now) =>
      style.json
        ? jsonLine({ resync: { after: lost, index: now } })
        : resyncText("index", lost, now),
  };
}

function resyncText(word: string, lost: number, now: number): string {
  return `resync: etcd no longer has the changes after ${word} ${lost}; going on from a fresh read at ${word} ${now}\n`;
}

function v2Action(change: Change): string {
  if (change.type === "delete") return change.expired ? "expire" : "delete";
  // A write over an existing key is an update, even when etcd made a new
  // node for it (a plain set does).
  return change.prev === undefined ? "create" : "update";
}

/** A value in JSON: text as a string, bytes as {"": base64}. */
function jsonValue(value: string | Uint8Array | undefined): unknown {
  if (value === undefined) return "";
  return typeof value === "string" ? value : { "": value.toBase64() };
}

function v2Line(change: Change, subtree: Subtree, style: Style): string {
  const entry = change.entry;
  const action = v2Action(change);
  const dir = entry.dir === true;
  const before = change.prev?.dir === true ? undefined : change.prev;
  if (style.json) {
    const event: Record<string, unknown> = {
      index: change.index,
      action,
      key: subtree.keyOf(entry.path),
      path: entry.path === "" ? "/" : entry.path,
      dir,
    };
    // --decode k8s: "k8s" (the decoded object) instead of "value".
    const k8s = style.decode ? decodeValue(entry.value) : undefined;
    const prevK8s = style.decode ? decodeValue(before?.value) : undefined;
    if (k8s !== undefined) event.k8s = k8s;
    else if (!dir) event.value = jsonValue(entry.value);
    if (prevK8s !== undefined) event.prevK8s = prevK8s;
    else if (before !== undefined) event.prevValue = jsonValue(before.value);
    event.createdIndex = entry.createdIndex;
    event.modifiedIndex = entry.modifiedIndex;
    if (entry.version !== undefined) event.version = entry.version;
    if (entry.lease !== undefined) event.lease = entry.lease;
    if (entry.expires !== undefined) {
      event.expiration = new Date(entry.expires).toISOString();
    }
    return jsonLine(event);
  }
  let path = entry.path === "" ? "/" : showKey(entry.path);
  if (dir && path !== "/") path += "/";
  const value = entry.value ?? before?.value;
  return plainLine(change.index, action, path, dir ? undefined : value, {
    was: style.prev && action === "update" && before !== undefined
      ? before.value ?? ""
      : undefined,
    decode: style.decode,
  });
}

function plainLine(
  index: number,
  action: string,
  path: string,
  value: string | Uint8Array | undefined,
  { was, decode }: { was: string | Uint8Array | undefined; decode: boolean },
): string {
  const show = decode ? showDecoded : showValue;
  return `${index} ${action} ${path}${
    value === undefined ? "" : " " + show(value)
  }${was === undefined ? "" : ` was ${show(was)}`}\n`;
}

// ---------------------------------------------------------------------------
// v3: the watch itself, every key

/** PREFIX's keys on v3: PREFIX itself and every key below PREFIX/. */
class V3Keys {
  /** PREFIX's own key ("" for the whole key space: none). */
  readonly root: Uint8Array;
  /** What every key below starts with. */
  readonly base: Uint8Array;

  constructor(prefix: string) {
    // As the v3 store reads PREFIX: "app" and "app/" are the same subtree.
    const encoder = new TextEncoder();
    const root = prefix.length > 1 && prefix.endsWith("/")
      ? prefix.slice(0, -1)
      : prefix;
    this.root = encoder.encode(root);
    this.base = encoder.encode(
      prefix === "" || prefix.endsWith("/") ? prefix : prefix + "/",
    );
  }

  /** The key relative to PREFIX ("" for PREFIX's own), if in the subtree. */
  relative(key: Uint8Array): Uint8Array | undefined {
    if (this.root.length > 0 && equal(key, this.root)) {
      return key.subarray(key.length);
    }
    if (key.length > this.base.length && startsWith(key, this.base)) {
      return key.subarray(this.base.length);
    }
    return undefined;
  }
}

/**
 * Whether PREFIX's own key may be read with the keys below it (the one
 * range `[PREFIX, PREFIX0)`), or only the keys below PREFIX/: a role granted
 * `PREFIX/` (etcdctl's usual grant) reads the latter alone, as the v3 store
 * finds out too.
 */
async function scopeOf(
  client: KeySpace,
  keys: V3Keys,
): Promise<"whole" | "below"> {
  if (keys.root.length === 0) return "below";
  try {
    await client.range(keys.root, {
      end: prefixEnd(keys.base),
      keysOnly: true,
      limit: 1,
    });
    return "whole";
  } catch (error) {
    if (!(error instanceof PermissionDenied)) throw error;
    return "below";
  }
}

/** The changes of every key under `prefix`, from a v3 watch. */
export function v3Source(
  client: KeySpace,
  prefix: string,
  style: Style,
): Source {
  const keys = new V3Keys(prefix);
  let scope: Promise<"whole" | "below"> | undefined;
  const scoped = () => scope ??= scopeOf(client, keys);
  return {
    word: "revision",
    follow(from, onState) {
      let watcher: Watcher | undefined;
      let closed = false;
      return {
        async *[Symbol.asyncIterator]() {
          // From PREFIX's own key to the end of the keys below it; keys in
          // between (`app-x` for `app`) are left out.
          const whole = await scoped() === "whole";
          if (closed) return;
          watcher = client.watch(
            whole ? keys.root : keys.base,
            {
              ...(keys.base.length === 0
                ? { prefix: true }
                : { end: prefixEnd(keys.base) }),
              ...(from === undefined ? {} : { startRevision: from }),
              ...(style.prev ? { prevKv: true } : {}),
              onState,
            },
          );
          try {
            for await (const event of watcher) {
              const path = keys.relative(event.kv.keyBytes);
              if (path === undefined) continue;
              yield {
                next: event.revision + 1,
                text: v3Line(event, path, style),
              };
            }
          } catch (error) {
            throw deniedBelow(error, keys.base, "read");
          }
        },
        close: async () => {
          closed = true;
          await watcher?.close();
        },
      };
    },
    current: async () => {
      const whole = await scoped() === "whole";
      const range = whole
        ? client.range(keys.root, { countOnly: true })
        : client.range(keys.base, {
          ...(keys.base.length === 0
            ? { prefix: true }
            : { end: prefixEnd(keys.base) }),
          keysOnly: true,
          limit: 1,
        });
      return (await range).header.revision;
    },
    resync: (lost, now) =>
      style.json
        ? jsonLine({ resync: { after: lost, revision: now } })
        : resyncText("revision", lost, now),
  };
}

/** Bytes in JSON: text as a string, else {"": base64}. */
function jsonBytes(bytes: Uint8Array): unknown {
  return textOf(bytes) ?? { "": bytes.toBase64() };
}

/** Bytes as shown: text when they are, else the bytes. */
function shown(bytes: Uint8Array): string | Uint8Array {
  return textOf(bytes) ?? bytes;
}

/** A key-value pair in JSON, with the library's v3 names. */
function jsonKv(kv: KeyValue, decode: boolean): Record<string, unknown> {
  // --decode k8s: "k8s" (the decoded object) instead of "value".
  const k8s = decode ? decodeValue(kv.valueBytes) : undefined;
  const out: Record<string, unknown> = {
    key: jsonBytes(kv.keyBytes),
    ...(k8s === undefined ? { value: jsonBytes(kv.valueBytes) } : { k8s }),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
  };
  if (kv.lease !== undefined) out.lease = kv.lease;
  return out;
}

function v3Line(event: WatchEvent, path: Uint8Array, style: Style): string {
  const kv = event.kv;
  const before = event.prevKv;
  if (style.json) {
    // etcd's Event, flat: a delete's key-value pair is only its key and
    // revision.
    const line: Record<string, unknown> = {
      revision: event.revision,
      type: event.type === "put" ? "PUT" : "DELETE",
      path: jsonBytes(path),
      ...(event.type === "put"
        ? jsonKv(kv, style.decode)
        : { key: jsonBytes(kv.keyBytes), modRevision: kv.modRevision }),
    };
    if (before !== undefined) line.prevKv = jsonKv(before, style.decode);
    return jsonLine(line);
  }
  const action = event.type === "delete"
    ? "delete"
    : kv.version === 1
    ? "create"
    : "update";
  const text = textOf(path);
  const key = path.length === 0 ? "/" : showKey(text ?? path);
  // A delete shows the value it removed, when known.
  const value = event.type === "put" ? kv.valueBytes : before?.valueBytes;
  return plainLine(
    event.revision,
    action,
    key,
    value === undefined ? undefined : shown(value),
    {
      was: style.prev && action === "update" && before !== undefined
        ? shown(before.valueBytes)
        : undefined,
      decode: style.decode,
    },
  );
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
