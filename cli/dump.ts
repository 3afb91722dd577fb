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

import { errorKind } from "../_core/kinds.ts";
import {
  type Entry,
  type Snapshot,
  type Store,
  storeOf,
  type Subtree,
} from "../_core/store.ts";
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
import { visible } from "./_escape.ts";
import { lastName } from "../_core/paths.ts";
import { whyNoPath } from "./_plan.ts";
import { type Origin, originComment, originMember, unitOf } from "./_origin.ts";
import { DECODE_HELP, decodedDump, decodeFlag } from "./_k8s_view.ts";
import { writeOutput } from "./_output.ts";
import { type Data, OWN_NAME, toJson, toYaml } from "./_yaml.ts";

const HELP = `etcd2yaml ${VERSION}: dump an etcd subtree as YAML

Usage: etcd2yaml [PREFIX] [-o FILE] [--json] [--arrays] [--revision R]
                 [--skip-unrepresentable] [--decode k8s] [connection flags]

  PREFIX          the subtree to dump: on v3 the key PREFIX and every key
                  that starts with PREFIX/, such as app or /registry (a
                  trailing "/" is the same subtree); none or "" for every
                  key, starting with "/" or not; on v2 a directory such as
                  /app (none or "/" for everything)
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
  --skip-unrepresentable
                  dump what a file can hold and list the rest on stderr
                  (v3: keys that are not UTF-8 text, and PREFIX/ itself);
                  without it, such keys make the dump fail (exit 1),
                  listed on stderr, and nothing is written

The dump is one consistent view: on v3 read page by page at one revision,
so that no single answer is huge. Keys are split into names at each "/"
between two other characters: a/b is b under a, and an empty segment
stays in a name (/registry/a is a under "/registry"; a//b and dir/ are one
name each). A value that also has keys below it (v3 holds both a and a/b)
is the empty name of its mapping ("": VALUE, first). Values that are not
UTF-8 text are written as YAML !!binary (in JSON, as an object whose one
name is empty, {"": "BASE64"}). So yaml2etcd loads a dump back byte for
byte. On v2, keys with a segment starting with "_" are hidden by etcd from
listings, so they are not dumped. A PREFIX that is a single value dumps as
one scalar, which yaml2etcd loads back into that key. The dump records
PREFIX and the revision (v2: index) it was read at: YAML in its first
line, a comment; JSON as a member of the top object with the empty name
(which holds PREFIX's own value too, as "value", when keys are below it).
yaml2etcd loading it back treats a key changed since as a conflict.

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
      "skip-unrepresentable": { type: "boolean" },
    });
    if (await answerInfo(values, io, "etcd2yaml", HELP)) return 0;
    const prefix = prefixArgument(positionals, 1); // none: every key
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
    const snapshot = await read(store, subtree, revision);
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
    const data = decode === undefined
      ? toData(snapshot.entries, values.arrays === true)
      : undefined;
    const skipped = snapshot.skipped ?? [];
    for (const key of skipped) {
      await write(
        io.stderr,
        `etcd2yaml: ${
          values["skip-unrepresentable"] ? "left out" : "cannot dump"
        } ${visible(key)}: ${whyNoPath(key)}\n`,
      );
    }
    if (skipped.length > 0 && values["skip-unrepresentable"] !== true) {
      throw new Failure(
        `Cannot dump ${visible(JSON.stringify(subtree.key))}: ${
          skipped.length === 1
            ? "1 key under it has no name in a file (above)"
            : `${skipped.length} keys under it have no name in a file (above)`
        }; give --skip-unrepresentable to dump the rest without them; nothing was written`,
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
 * A snapshot's entries as data: maps of values, keys sorted, each key
 * under its names (`namesOf`: `/registry/a` is `/registry`, `a`). A value
 * with keys below it (etcd v3 holds both `a` and `a/b`) is its mapping's
 * empty name.
 */
function toData(entries: readonly Entry[], arrays: boolean): Data {
  const root = entries[0];
  if (root?.path === "" && root.dir !== true && entries.length === 1) {
    return valueOf(root);
  }
  const top = new Map<string, Data>();
  const maps = new Map<string, Map<string, Data>>([["", top]]);
  const mapAt = (path: string): Map<string, Data> => {
    let map = maps.get(path);
    if (map === undefined) {
      const { above, name } = lastName(path);
      const parent = mapAt(above);
      const value = parent.get(name); // a value there is the mapping's own
      map = new Map();
      if (value !== undefined) map.set(OWN_NAME, value);
      parent.set(name, map);
      maps.set(path, map);
    }
    return map;
  };
  // Entries come in key order, so a directory's values mostly follow one
  // another: the last one's map is kept at hand.
  let lastAbove: string | undefined;
  let lastMap = top;
  for (const entry of entries) {
    const path = entry.path;
    if (entry.dir === true) {
      mapAt(path);
      continue;
    }
    const own = maps.get(path);
    if (own !== undefined) {
      own.set(OWN_NAME, valueOf(entry)); // keys below came first
      continue;
    }
    const { above, name } = lastName(path);
    if (above !== lastAbove) {
      lastMap = mapAt(above);
      lastAbove = above;
    }
    lastMap.set(name, valueOf(entry));
  }
  return arrange(top, arrays);
}

/**
 * The JSON of a dump, its origin first where it has an object to go in (a
 * dump of one value, or a sequence, has none); PREFIX's own value, beside
 * keys below it, goes in the origin, whose name is the empty one too.
 */
function jsonWithOrigin(data: Data, origin: Origin): string {
  if (!(data instanceof Map)) return toJson(data);
  const own = data.get(OWN_NAME);
  const rest = new Map(data);
  rest.delete(OWN_NAME);
  const member = `{\n  ${
    originMember(origin, own === undefined ? undefined : toJson(own).trimEnd())
  }`;
  return rest.size === 0
    ? `${member}\n}\n`
    : `${member},${toJson(rest).slice(1)}`;
}

/** A map with its keys sorted (and arrays where asked), all the way down. */
function arrange(map: Map<string, Data>, arrays: boolean): Data {
  const names = [...map.keys()];
  const child = (name: string): Data => {
    const value = map.get(name)!;
    return value instanceof Map ? arrange(value, arrays) : value;
  };
  if (arrays && isArrayLike(names)) {
    return names.sort((a, b) => Number(a) - Number(b)).map(child);
  }
  if (isSorted(names)) {
    // Mostly so (keys come sorted): the map is kept, its maps arranged.
    for (const name of names) {
      const value = map.get(name)!;
      if (value instanceof Map) map.set(name, arrange(value, arrays));
    }
    return map;
  }
  names.sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
  return new Map(names.map((name) => [name, child(name)]));
}

function isSorted(names: readonly string[]): boolean {
  for (let i = 1; i < names.length; i++) {
    if (names[i - 1]! > names[i]!) return false;
  }
  return true;
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
 * by page at the first page's revision, which a compaction meanwhile is
 * named by.
 */
async function read(
  store: Store,
  subtree: Subtree,
  revision: number | undefined,
): Promise<Snapshot> {
  const asked = revision;
  try {
    return await store.snapshot(subtree, {
      ...(revision === undefined ? {} : { revision }),
      // Pages after the first are read at the first one's revision.
      onRevision: (first) => revision = first,
    });
  } catch (error) {
    if (errorKind(error) !== "history lost" || revision === undefined) {
      throw error;
    }
    const prefix = visible(JSON.stringify(subtree.key));
    throw new Failure(
      asked === undefined
        ? `Cannot dump ${prefix}: etcd compacted its history past revision ${revision} while the dump read it (every page is read at that one revision); run it again to dump as of now`
        : `Cannot dump ${prefix} as of revision ${revision}: ${
          // The store's error names the revisions there are, when etcd says.
          /revision \d+ is compacted: [^(]*[^ (]/.exec(
            (error as Error).message,
          )?.[0] ??
            "etcd has compacted its history past it"}; give a newer --revision, or none to dump as of now`,
      { cause: error },
    );
  }
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
