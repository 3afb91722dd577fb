#!/usr/bin/env -S deno run --allow-net --allow-env=ETCD_API,ETCD_ENDPOINTS,ETCD_USER,ETCD_PASSWORD,ETCDCTL_ENDPOINTS,ETCDCTL_CACERT,ETCDCTL_CERT,ETCDCTL_KEY,ETCDCTL_USER,ETCDCTL_PASSWORD --allow-read --allow-write
/**
 * `etcd2yaml`: dumps an etcd subtree as YAML (or JSON).
 *
 * One consistent recursive read, written with keys sorted. Values are
 * strings, quoted wherever YAML would read them as something else, so that
 * `yaml2etcd` loads a dump back exactly; empty directories are `{}`. With
 * `-o FILE` the file is replaced atomically: a failed dump never leaves a
 * truncated file.
 *
 * ```sh
 * deno run -A jsr:@etcd-tree/etcd-tree/dump /app -o app.yaml
 * etcd2yaml /app --json --endpoints http://10.0.0.1:2379
 * ```
 *
 * @example Usage
 * ```ts
 * import { main } from "@etcd-tree/etcd-tree/dump";
 *
 * async function usage() {
 *   Deno.exit(await main(["/app", "-o", "app.yaml"]));
 * }
 * ```
 *
 * @module
 */

import type { EtcdClient } from "../client.ts";
import { errorKind } from "../_core/kinds.ts";
import {
  type Entry,
  type Snapshot,
  type Store,
  storeOf,
  type Subtree,
} from "../_core/store.ts";
import { Client as V3Client } from "../v3/_client.ts";
import {
  answerInfo,
  COMMON_HELP,
  connect,
  elsewhere,
  Failure,
  type Io,
  parse,
  prefixArgument,
  processIo,
  run,
  subtreeOf,
  UsageError,
  VERSION,
  write,
} from "./_common.ts";
import { showKey, visible } from "./_escape.ts";
import { type Origin, originComment, originMember, unitOf } from "./_origin.ts";
import { DECODE_HELP, decodedDump, decodeFlag } from "./_k8s_view.ts";
import { writeOutput } from "./_output.ts";
import { type Data, toJson, toYaml } from "./_yaml.ts";

const HELP = `etcd2yaml ${VERSION}: dump an etcd subtree as YAML

Usage: etcd2yaml PREFIX [-o FILE] [--json] [--arrays] [--revision R]
                 [--decode k8s] [connection flags]

  PREFIX          the subtree to dump: on v3 every key that starts with
                  PREFIX/ (and PREFIX itself), such as app or /registry
                  ("" for every key); on v2 a directory such as /app ("/"
                  for everything)
  -o, --output    write to FILE instead of standard output: a file is
                  replaced atomically (keeping its mode; a link is
                  followed), a FIFO or device written into; "-" is stdout
  --json          write JSON instead of YAML
  --arrays        write directories whose children are exactly 0, 1, ...
                  as sequences (as "yaml2etcd --arrays" stores them)
  --revision R    dump the subtree as it was at revision R (v3; until R is
                  compacted); --rev R, as etcdctl spells it, too
${DECODE_HELP}: a view
                  for reading, keyed by whole etcd keys, that yaml2etcd
                  refuses to load (the dump without it is unchanged)

The dump is one consistent view: on v3 read page by page at one revision,
so that no single answer is huge. Values that are not UTF-8 text are
written as YAML !!binary (in JSON, as an object whose one name is empty,
{"": "BASE64"}), and yaml2etcd loads them back byte for byte. Keys that are
not UTF-8 text, or that have an empty segment (a//b), cannot be YAML names:
they are left out and named on stderr, as is a value that has keys below
it (v3 allows both a and a/b). On v2, keys with a segment starting with
"_" are hidden by etcd from listings, so they are not dumped. A PREFIX that
is a single value dumps as one scalar, which yaml2etcd loads back into that
key. The dump records PREFIX and the revision (v2: index) it was read at:
YAML in its first line, a comment; JSON as a member of the top object with
the empty name. yaml2etcd loading it back treats a key changed since as a
conflict.

${COMMON_HELP}

Exit status: 0 done, 1 failed, 2 bad usage.`;

/**
 * Runs `etcd2yaml` with the given arguments.
 *
 * @param args The command-line arguments, without the program name.
 * @param io Where to read and write (default: the process's own).
 * @returns The exit code: 0 done, 1 failed, 2 bad usage.
 *
 * @example Usage
 * ```ts
 * import { main } from "@etcd-tree/etcd-tree/dump";
 *
 * async function usage() {
 *   const code = await main(["/app", "--json"]);
 * }
 * ```
 */
export function main(args: string[], io: Io = processIo()): Promise<number> {
  return run("etcd2yaml", io, async () => {
    const { values, positionals } = parse(args, {
      output: { type: "string", short: "o" },
      json: { type: "boolean" },
      arrays: { type: "boolean" },
      revision: { type: "string" },
      decode: { type: "string" },
      rev: { type: "string" },
    });
    if (await answerInfo(values, io, "etcd2yaml", HELP)) return 0;
    const prefix = prefixArgument(
      positionals,
      1,
      'Missing PREFIX: name the subtree to dump, such as /app ("" for every v3 key)',
    );
    const decode = decodeFlag(values.decode);
    if (decode !== undefined && values.arrays) {
      throw new UsageError("--arrays does not apply to --decode k8s's view");
    }
    if (values.revision !== undefined && values.rev !== undefined) {
      throw new UsageError(
        "Invalid --rev: it is --revision, which is given too; give one",
      );
    }
    const given = values.revision ?? values.rev;
    const revision = given === undefined ? undefined : revisionFlag(
      given,
      values.revision === undefined ? "--rev" : "--revision",
    );
    await using client = await connect(values, io);
    const store = storeOf(client);
    const subtree = subtreeOf(store, prefix);
    const snapshot = await read(client, store, subtree, revision);
    if (snapshot.entries.length === 0 && !snapshot.skipped?.length) {
      const other = await elsewhere(client, prefix);
      throw new Failure(
        `Cannot dump ${
          visible(JSON.stringify(subtree.key))
        }: it does not exist (etcd ${
          store.capabilities.protocol === "v2" ? "index" : "revision"
        } ${snapshot.index})${other === undefined ? "" : `; ${other}`}`,
      );
    }
    const left: string[] = [];
    const data = decode === undefined
      ? toData(snapshot.entries, values.arrays === true, left)
      : undefined;
    const skipped = snapshot.skipped ?? [];
    if (skipped.length > 0) {
      await note(
        io,
        `${skipped.length} key${
          skipped.length === 1 ? " is" : "s are"
        } not dumped: not UTF-8 text, or with an empty segment, so not a name YAML can hold (${
          examples(skipped)
        })`,
      );
    }
    if (left.length > 0) {
      await note(
        io,
        `${left.length} value${
          left.length === 1 ? " is" : "s are"
        } not dumped: etcd holds keys below them too, and a YAML name holds a value or a mapping, not both (${
          examples(left.map((path) => showKey(subtree.keyOf(path))))
        })`,
      );
    }
    const origin: Origin = {
      prefix: subtree.key,
      unit: unitOf(store.capabilities.protocol),
      at: snapshot.index,
    };
    // A decoded view is not a dump: it carries no origin to load back by.
    const text = data === undefined
      ? decodedDump(snapshot.entries, subtree, values.json === true)
      : values.json
      ? jsonWithOrigin(data, origin)
      : originComment(origin) + toYaml(data);
    // "-" and /dev/stdout are standard output (Deno gives no access to
    // /dev/stdout by path without --allow-all).
    if (
      values.output === undefined || values.output === "-" ||
      values.output === "/dev/stdout"
    ) {
      await write(io.stdout, text);
    } else {
      await writeOutput(values.output, text);
    }
    return 0;
  });
}

/**
 * A snapshot's entries as data: maps of values, keys sorted. A value with
 * keys below it (etcd v3 holds both `a` and `a/b`) cannot be both a value
 * and a mapping: its path goes to `left`, and the mapping wins.
 */
function toData(
  entries: readonly Entry[],
  arrays: boolean,
  left: string[],
): Data {
  const root = entries[0];
  if (root?.path === "" && root.dir !== true && entries.length === 1) {
    return valueOf(root);
  }
  const top = new Map<string, Data>();
  const maps = new Map<string, Map<string, Data>>([["", top]]);
  const values = new Set<string>();
  const mapAt = (path: string): Map<string, Data> => {
    let map = maps.get(path);
    if (map === undefined) {
      const slash = path.lastIndexOf("/");
      const parent = mapAt(slash < 0 ? "" : path.slice(0, slash));
      const name = path.slice(slash + 1);
      if (values.delete(path)) left.push(path); // a value was there
      map = new Map();
      parent.set(name, map);
      maps.set(path, map);
    }
    return map;
  };
  for (const entry of entries) {
    const path = entry.path;
    if (path === "") {
      if (entry.dir !== true) left.push(path);
      continue;
    }
    if (entry.dir === true) {
      mapAt(path);
    } else if (maps.has(path)) {
      left.push(path); // keys below it came first
    } else {
      const slash = path.lastIndexOf("/");
      mapAt(slash < 0 ? "" : path.slice(0, slash))
        .set(path.slice(slash + 1), valueOf(entry));
      values.add(path);
    }
  }
  left.sort();
  return arrange(top, arrays);
}

/**
 * The JSON of a dump, its origin first where it has an object to go in (a
 * dump of one value, or a sequence, has none).
 */
function jsonWithOrigin(data: Data, origin: Origin): string {
  if (!(data instanceof Map)) return toJson(data);
  const member = `{\n  ${originMember(origin)}`;
  return data.size === 0
    ? `${member}\n}\n`
    : `${member},${toJson(data).slice(1)}`;
}

/** A map with its keys sorted (and arrays where asked), all the way down. */
function arrange(map: Map<string, Data>, arrays: boolean): Data {
  const names = [...map.keys()].sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
  const child = (name: string): Data => {
    const value = map.get(name)!;
    return value instanceof Map ? arrange(value, arrays) : value;
  };
  if (arrays && isArrayLike(names)) {
    return names.sort((a, b) => Number(a) - Number(b)).map(child);
  }
  return new Map(names.map((name) => [name, child(name)]));
}

function valueOf(entry: Entry): string | Uint8Array {
  return entry.value ?? "";
}

/** The --revision flag: a revision, a whole number from 1. */
function revisionFlag(given: string, flag: string): number {
  const revision = Number(given);
  if (!/^\d+$/.test(given) || !Number.isSafeInteger(revision) || revision < 1) {
    throw new UsageError(
      `Invalid ${flag} ${
        JSON.stringify(given)
      }: expected a revision, a whole number from 1`,
    );
  }
  return revision;
}

/**
 * The subtree at one revision: `revision`, else now. On v3 it is read page
 * by page at that revision, pinned first so that a compaction meanwhile can
 * be named with the revision it took away.
 */
async function read(
  client: EtcdClient,
  store: Store,
  subtree: Subtree,
  revision: number | undefined,
): Promise<Snapshot> {
  const asked = revision;
  if (revision === undefined && client instanceof V3Client) {
    // Any answer says the revision: the prefix's own key (every key's
    // first one when it is all of them) costs etcd least.
    const now = await client.range(
      subtree.key,
      subtree.key === "" ? { prefix: true, keysOnly: true, limit: 1 } : {
        keysOnly: true,
      },
    );
    revision = now.header.revision;
  }
  try {
    return await store.snapshot(
      subtree,
      revision === undefined ? {} : { revision },
    );
  } catch (error) {
    if (errorKind(error) !== "history lost" || revision === undefined) {
      throw error;
    }
    const prefix = visible(JSON.stringify(subtree.key));
    throw new Failure(
      asked === undefined
        ? `Cannot dump ${prefix}: etcd compacted its history past revision ${revision} while the dump read it (every page is read at that one revision); run it again to dump as of now`
        : `Cannot dump ${prefix} as of revision ${revision}: etcd has compacted its history past it; give a newer --revision, or none to dump as of now`,
      { cause: error },
    );
  }
}

/** A few of many, for a message. */
function examples(items: readonly string[]): string {
  return items.slice(0, 3).join(", ") + (items.length > 3 ? ", ..." : "");
}

/** A note on stderr, for what the dump leaves out. */
function note(io: Io, text: string): Promise<void> {
  return write(io.stderr, `etcd2yaml: note: ${visible(text)}\n`);
}

/** Whether names are exactly "0", "1", ..., "n-1" (n > 0). */
function isArrayLike(names: string[]): boolean {
  if (names.length === 0) return false;
  const seen = new Set(names);
  for (let i = 0; i < names.length; i++) {
    if (!seen.has(String(i))) return false;
  }
  return true;
}

export type { Io } from "./_common.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
