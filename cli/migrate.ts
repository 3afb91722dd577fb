#!/usr/bin/env -S deno run --allow-net --allow-env=ETCD_ENDPOINTS,ETCD_USER,ETCD_PASSWORD,ETCDCTL_ENDPOINTS,ETCDCTL_CACERT,ETCDCTL_CERT,ETCDCTL_KEY,ETCDCTL_USER,ETCDCTL_PASSWORD --allow-read
/**
 * `etcd-migrate`: copies etcd's v2 keys to v3 keys of the same path.
 *
 * etcd 3.5 removed `etcdctl migrate` and 3.6 the v2 store: this reads a v2
 * subtree (one consistent read) and writes each value as the v3 key of the
 * same path (`/app/db/host` stays `/app/db/host`), a TTL as a lease with
 * the time that remains. Each key is created only where v3 has none; one
 * that holds the same value is left, one that holds another is a conflict.
 * `--dry-run` prints the plan and writes nothing. Run it on a server that
 * serves both APIs (etcd 3.4 with `--enable-v2=true`, or 3.5 with it).
 *
 * ```sh
 * deno run -A jsr:@etcd-tree/etcd-tree/migrate / --dry-run
 * etcd-migrate /app --endpoints http://10.0.0.1:2379
 * ```
 *
 * @example Usage
 * ```ts
 * import { main } from "@etcd-tree/etcd-tree/migrate";
 *
 * async function usage() {
 *   Deno.exit(await main(["/app", "--dry-run"]));
 * }
 * ```
 *
 * @module
 */

import { storeOf } from "../_core/store.ts";
import type { Entry } from "../_core/store.ts";
import { isConflict } from "../_core/kinds.ts";
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
  subtreeOf,
  UsageError,
  VERSION,
  write,
} from "./_common.ts";
import { showKey, showValue, visible } from "./_escape.ts";

const HELP =
  `etcd-migrate ${VERSION}: copy etcd's v2 keys to v3 keys of the same path

Usage: etcd-migrate [PREFIX] [--dry-run] [--skip-unrepresentable]
                    [connection flags]

  PREFIX          the v2 directory to copy, such as /app (none or "/":
                  everything); its keys become the v3 keys of the same
                  path, /app/db/host stays /app/db/host
  --dry-run       print the plan; write nothing
  --skip-unrepresentable
                  copy the rest when some v2 directories are empty (v3 has
                  no directories, so they cannot be copied); without it,
                  empty directories make it fail (exit 1), listed, before
                  anything is written

A value with a TTL becomes a key with a lease of the time that remains
(keys with the same time share one). A key is created only where v3 has
none: one that holds the same value is left as it is, one that holds
another is a conflict (both values shown, not written, exit 1). etcd's v2
API hides keys with a segment starting with "_" from listings: such keys
cannot be seen, so they are not copied, and a note says so. It needs a
server that serves both APIs (etcd 3.4 with --enable-v2=true, or 3.5
with it): it reads v2 and writes v3 of the same endpoints.

${COMMON_HELP.replace(/ {2}--api v3\|v2[\s\S]*?(?= {2}--endpoints)/, "")}

Exit status: 0 done, 1 failed or conflicts, 2 bad usage.`;

/** One v2 value to copy, and what v3 holds at its key. */
interface Copy {
  path: string;
  value: string;
  /** Seconds that remain of its TTL, if it has one. */
  ttl?: number;
  /** What v3 holds there now. */
  held?: string | Uint8Array;
}

/**
 * Runs `etcd-migrate` with the given arguments.
 *
 * @param args The command-line arguments, without the program name.
 * @param io Where to read and write (default: the process's own).
 * @returns The exit code: 0 done, 1 failed or conflicts, 2 bad usage.
 *
 * @example Usage
 * ```ts
 * import { main } from "@etcd-tree/etcd-tree/migrate";
 *
 * async function usage() {
 *   const code = await main(["/", "--dry-run"]);
 * }
 * ```
 */
export function main(args: string[], io: Io = processIo()): Promise<number> {
  return run("etcd-migrate", io, async () => {
    const { values, positionals } = parse(args, {
      "dry-run": { type: "boolean" },
      "skip-unrepresentable": { type: "boolean" },
    });
    if (await answerInfo(values, io, "etcd-migrate", HELP)) return 0;
    if (values.api !== undefined) {
      throw new UsageError(
        "Invalid --api: etcd-migrate reads the v2 API and writes the v3 API of the same server",
      );
    }
    const prefix = prefixArgument(positionals, 1);
    await using v2 = await connect({ ...values, api: "v2" }, io);
    await using v3 = await connect({ ...values, api: "v3" }, io);
    const from = storeOf(v2);
    const to = storeOf(v3);
    const source = subtreeOf(from, prefix);
    // v2's /app/x is the path x below /app, and so is v3's key /app/x.
    const target = subtreeOf(to, source.key);
    const snapshot = await from.snapshot(source);
    const now = Date.now();
    // In key order, whatever order v2 listed them in: a plan reads the same
    // every time.
    const entries = [...snapshot.entries].sort((a, b) =>
      a.path < b.path ? -1 : a.path > b.path ? 1 : 0
    );
    const empty = emptyDirectories(entries);
    const held = new Map(
      (await to.snapshot(target)).entries.map((entry) => [
        entry.path,
        entry.value,
      ]),
    );
    const copies: Copy[] = [];
    for (const entry of entries) {
      if (entry.dir === true) continue;
      const copy: Copy = { path: entry.path, value: String(entry.value ?? "") };
      if (entry.expires !== undefined) {
        copy.ttl = Math.max(1, Math.ceil((entry.expires - now) / 1000));
      }
      const there = held.get(entry.path);
      if (there !== undefined) copy.held = there;
      copies.push(copy);
    }
    const key = (path: string) => showKey(source.keyOf(path));
    const creates = copies.filter((copy) => copy.held === undefined);
    const conflicts = copies.filter((copy) =>
      copy.held !== undefined && copy.held !== copy.value
    );
    const unchanged = copies.length - creates.length - conflicts.length;
    if (values["dry-run"]) {
      const lines = creates.map((copy) =>
        `+ ${key(copy.path)} = ${showValue(copy.value)}${
          copy.ttl === undefined ? "" : ` (lease of ${copy.ttl} s)`
        }`
      );
      for (const path of empty) {
        lines.push(`! ${key(path)}/ (an empty directory: v3 has none)`);
      }
      lines.push(
        `plan: create ${creates.length}, unchanged ${unchanged}, conflicts ${conflicts.length}, empty directories ${empty.length}`,
      );
      await write(io.stdout, lines.join("\n") + "\n");
    }
    await write(
      io.stderr,
      'etcd-migrate: note: etcd\'s v2 API hides keys with a segment starting with "_" from listings; any such key was not seen and is not copied\n',
    );
    for (const copy of conflicts) {
      await write(
        io.stderr,
        `etcd-migrate: conflict: ${key(copy.path)}: v3 holds ${
          showValue(copy.held!)
        }, v2 ${showValue(copy.value)}; not written\n`,
      );
    }
    if (empty.length > 0) {
      for (const path of empty) {
        await write(
          io.stderr,
          `etcd-migrate: ${
            values["skip-unrepresentable"] ? "left out" : "cannot copy"
          } ${key(path)}/: an empty directory, and v3 has no directories\n`,
        );
      }
      if (values["skip-unrepresentable"] !== true) {
        throw new Failure(
          `Cannot migrate ${
            visible(JSON.stringify(source.key))
          }: ${empty.length} empty director${
            empty.length === 1 ? "y" : "ies"
          } (above); give --skip-unrepresentable to copy the rest without them; nothing was written`,
        );
      }
    }
    if (values["dry-run"]) return conflicts.length > 0 ? 1 : 0;
    let created = 0;
    for (const copy of creates) {
      try {
        await to.put(target, copy.path, copy.value, {
          condition: { absent: true },
          ...(copy.ttl === undefined ? {} : { ttl: copy.ttl }),
        });
        created++;
      } catch (error) {
        if (!isConflict(error)) throw error;
        conflicts.push(copy);
        await write(
          io.stderr,
          `etcd-migrate: conflict: ${
            key(copy.path)
          }: written in v3 meanwhile; not written\n`,
        );
      }
    }
    await write(
      io.stdout,
      `created ${created}, unchanged ${unchanged}, conflicts ${conflicts.length}\n`,
    );
    return conflicts.length > 0 ? 1 : 0;
  });
}

/** The paths of explicit directories with nothing below them. */
function emptyDirectories(entries: readonly Entry[]): string[] {
  const parents = new Set<string>();
  for (const entry of entries) {
    const slash = entry.path.lastIndexOf("/");
    parents.add(slash < 0 ? "" : entry.path.slice(0, slash));
  }
  return entries.filter((entry) =>
    entry.dir === true && !parents.has(entry.path) && entry.path !== ""
  ).map((entry) => entry.path);
}

export type { Io } from "./_common.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
