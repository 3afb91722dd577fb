#!/usr/bin/env -S deno run --allow-net --allow-env=ETCD_ENDPOINTS,ETCD_USER,ETCD_PASSWORD --allow-read --allow-write
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

import { type Entry, storeOf } from "../_core/store.ts";
import {
  answerInfo,
  COMMON_HELP,
  connect,
  Failure,
  type Io,
  parse,
  prefixArgument,
  processIo,
  run,
  VERSION,
  write,
} from "./_common.ts";
import { writeOutput } from "./_output.ts";
import { type Data, toJson, toYaml } from "./_yaml.ts";

const HELP = `etcd2yaml ${VERSION}: dump an etcd subtree as YAML

Usage: etcd2yaml PREFIX [-o FILE] [--json] [--arrays] [connection flags]

  PREFIX          the subtree to dump, such as /app ("/" for everything)
  -o, --output    write to FILE instead of standard output: a file is
                  replaced atomically (keeping its mode; a link is
                  followed), a FIFO or device written into; "-" is stdout
  --json          write JSON instead of YAML
  --arrays        write directories whose children are exactly 0, 1, ...
                  as sequences (as "yaml2etcd --arrays" stores them)

Keys with a segment starting with "_" (locks, queues) are hidden from
listings by etcd v2, so they are not dumped, not even with PREFIX "/". A
PREFIX that is a single value dumps as one scalar, which yaml2etcd loads
back into that key.

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
    });
    if (await answerInfo(values, io, "etcd2yaml", HELP)) return 0;
    const segments = prefixArgument(
      positionals,
      1,
      "Missing PREFIX: name the subtree to dump, such as /app",
    );
    await using client = await connect(values, io);
    const store = storeOf(client);
    const subtree = store.subtree(segments);
    const snapshot = await store.snapshot(subtree);
    if (snapshot.entries.length === 0) {
      throw new Failure(
        `Cannot dump ${
          JSON.stringify(subtree.key)
        }: it does not exist (etcd index ${snapshot.index})`,
      );
    }
    const data = toData(snapshot.entries, values.arrays === true);
    const text = values.json ? toJson(data) : toYaml(data);
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

/** A snapshot's entries as data: maps of strings, keys sorted. */
function toData(entries: readonly Entry[], arrays: boolean): Data {
  const root = entries[0];
  if (root?.path === "" && root.dir !== true) return text(root);
  const top = new Map<string, Data>();
  const maps = new Map<string, Map<string, Data>>([["", top]]);
  const mapAt = (path: string): Map<string, Data> => {
    let map = maps.get(path);
    if (map === undefined) {
      const slash = path.lastIndexOf("/");
      map = new Map();
      mapAt(slash < 0 ? "" : path.slice(0, slash))
        .set(path.slice(slash + 1), map);
      maps.set(path, map);
    }
    return map;
  };
  for (const entry of entries) {
    const path = entry.path;
    if (path === "") continue;
    if (entry.dir === true) {
      mapAt(path);
    } else {
      const slash = path.lastIndexOf("/");
      mapAt(slash < 0 ? "" : path.slice(0, slash))
        .set(path.slice(slash + 1), text(entry));
    }
  }
  return arrange(top, arrays);
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

function text(entry: Entry): string {
  return typeof entry.value === "string" ? entry.value : "";
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
