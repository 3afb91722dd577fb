#!/usr/bin/env -S deno run --allow-net --allow-env=ETCD_API,ETCD_ENDPOINTS,ETCD_USER,ETCD_PASSWORD,ETCDCTL_ENDPOINTS,ETCDCTL_CACERT,ETCDCTL_CERT,ETCDCTL_KEY,ETCDCTL_USER,ETCDCTL_PASSWORD --allow-read
/**
 * `etcdmon`: prints the changes of an etcd subtree as they happen.
 *
 * One line per change: the index, the action (`create`, `update`,
 * `delete`, `expire`), the key relative to PREFIX (directories end in `/`)
 * and the value as JSON (the previous value for deletes and expiries).
 * `--json` prints one JSON object per line instead. Disconnects and etcd
 * restarts are ridden out; when etcd no longer has the history needed, a
 * `resync` line says so and monitoring goes on from a fresh read. Ctrl-C
 * ends it with exit status 0.
 *
 * ```sh
 * deno run -A jsr:@etcd-tree/etcd-tree/monitor /app
 * etcdmon /app --json --since 1200
 * ```
 *
 * @example Usage
 * ```ts
 * import { main } from "@etcd-tree/etcd-tree/monitor";
 *
 * async function usage() {
 *   Deno.exit(await main(["/app", "--json"]));
 * }
 * ```
 *
 * @module
 */

import { errorKind } from "../_core/kinds.ts";
import { type Change, storeOf, type Subtree } from "../_core/store.ts";
import { showKey, showValue, visible } from "./_escape.ts";
import {
  answerInfo,
  COMMON_HELP,
  connect,
  elsewhere,
  interruption,
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

const HELP =
  `etcdmon ${VERSION}: print the changes of an etcd subtree as they happen

Usage: etcdmon [PREFIX] [--json] [--prev] [--since REV] [connection flags]

  PREFIX          the subtree to watch (default: everything; on v3 every
                  key that starts with PREFIX/, and PREFIX itself)
  --json          one JSON object per line
  --prev          show each update's previous value too (v2 always knows
                  it; on v3 it costs etcd a little more per change)
  --since REV     start with the change at revision (v2: index) REV
                  (default: from now)

Lines: REV ACTION KEY VALUE, where REV is etcd's revision (v2: its index),
ACTION is create, update, delete or expire (v2; on v3 a key whose lease
ran out is a delete), KEY is relative to PREFIX ("/" ends a directory) and
VALUE is JSON (bytes that are not text as their size and first bytes; in
--json as {"": "BASE64"}); with --prev, an update ends with "was" and the
previous value. Control characters in keys and values are shown as escapes
(a key that has any is shown quoted); --json lines are exact JSON. On v2,
keys with a segment starting with "_" are hidden by etcd and not shown.
When etcd goes away, it reconnects and says so on stderr; when etcd no
longer has the history needed (v2's last 1000 events, v3's compaction), a
resync line says so and it goes on from a fresh read. Ctrl-C ends it.

${COMMON_HELP}

Exit status: 0 ended, 1 failed, 2 bad usage.`;

/**
 * Runs `etcdmon` with the given arguments, until `io.signal` aborts (or
 * Ctrl-C, for the process's own io).
 *
 * @param args The command-line arguments, without the program name.
 * @param io Where to write (default: the process's own).
 * @returns The exit code: 0 ended, 1 failed, 2 bad usage.
 *
 * @example Usage
 * ```ts
 * import { main } from "@etcd-tree/etcd-tree/monitor";
 *
 * async function usage() {
 *   const code = await main(["/app"]);
 * }
 * ```
 */
export function main(args: string[], io: Io = processIo()): Promise<number> {
  return run("etcdmon", io, async () => {
    const { values, positionals } = parse(args, {
      json: { type: "boolean" },
      since: { type: "string" },
      prev: { type: "boolean" },
    });
    if (await answerInfo(values, io, "etcdmon", HELP)) return 0;
    const prefix = prefixArgument(positionals, 1);
    let from: number | undefined;
    if (values.since !== undefined) {
      from = Number(values.since);
      if (
        !/^\d+$/.test(values.since) || !(from >= 1) ||
        !Number.isSafeInteger(from)
      ) {
        throw new UsageError(
          `Invalid --since ${
            JSON.stringify(values.since)
          }: expected an etcd revision (a whole number from 1 to ${Number.MAX_SAFE_INTEGER})`,
        );
      }
    }
    const json = values.json === true;

    // Ctrl-C (or the caller's signal) ends the loop cleanly.
    using stop = interruption(io);
    if (stop.signal.aborted) return 0;
    await using client = await connect(values, io);
    const store = storeOf(client);
    const subtree = subtreeOf(store, prefix);
    const word = store.capabilities.protocol === "v2" ? "index" : "revision";
    // A note when PREFIX holds nothing (if etcd answers now; the watch
    // rides out an etcd that does not).
    if (!(await store.exists(subtree).catch(() => true))) {
      const other = await elsewhere(client, prefix);
      if (other !== undefined) {
        await write(io.stderr, `etcdmon: note: ${other}\n`);
      }
    }
    while (!stop.signal.aborted) {
      // Disconnects are ridden out; stderr says when etcd went and came back.
      const stream = store.follow(subtree, from, {
        ...(values.prev ? { prev: true } : {}),
        onState: (state, error) =>
          void write(
            io.stderr,
            state === "retrying"
              ? `etcdmon: lost etcd (${
                visible(error instanceof Error ? error.message : String(error))
              }); reconnecting\n`
              : "etcdmon: etcd is back\n",
          ).catch(() => {}),
      });
      const end = () => void stream.close();
      stop.signal.addEventListener("abort", end, { once: true });
      try {
        for await (const change of stream) {
          from = change.index + 1;
          await write(
            io.stdout,
            format(change, subtree, json, values.prev === true),
          );
        }
        return 0; // closed: Ctrl-C
      } catch (error) {
        if (errorKind(error) !== "history lost") throw error;
        // History is gone: go on from a fresh read.
        const snapshot = await store.snapshot(subtree);
        const lost = (from ?? 1) - 1;
        from = snapshot.index + 1;
        await write(
          io.stdout,
          json
            ? JSON.stringify({
              resync: { after: lost, index: snapshot.index },
            }) +
              "\n"
            : `resync: etcd no longer has the changes after ${word} ${lost}; going on from a fresh read at ${word} ${snapshot.index}\n`,
        );
      } finally {
        stop.signal.removeEventListener("abort", end);
        await stream.close();
      }
    }
    return 0;
  });
}

function actionOf(change: Change): string {
  if (change.type === "delete") return change.expired ? "expire" : "delete";
  // v3 counts a key's writes since it was created; on v2 a write over an
  // existing key is an update, even when etcd made a new node for it (a
  // plain set does).
  const version = change.entry.version;
  if (version !== undefined) return version === 1 ? "create" : "update";
  return change.prev === undefined ? "create" : "update";
}

/** A value in JSON: text as a string, bytes as {"": base64}. */
function jsonValue(value: string | Uint8Array | undefined): unknown {
  if (value === undefined) return "";
  return typeof value === "string" ? value : { "": value.toBase64() };
}

function format(
  change: Change,
  subtree: Subtree,
  json: boolean,
  prev: boolean,
): string {
  const entry = change.entry;
  const action = actionOf(change);
  const dir = entry.dir === true;
  const before = change.prev?.dir === true ? undefined : change.prev;
  if (json) {
    const event: Record<string, unknown> = {
      index: change.index,
      action,
      key: subtree.keyOf(entry.path),
      path: entry.path === "" ? "/" : entry.path,
      dir,
    };
    if (!dir) event.value = jsonValue(entry.value);
    if (before !== undefined) event.prevValue = jsonValue(before.value);
    event.createdIndex = entry.createdIndex;
    event.modifiedIndex = entry.modifiedIndex;
    if (entry.version !== undefined) event.version = entry.version;
    if (entry.lease !== undefined) event.lease = entry.lease;
    if (entry.expires !== undefined) {
      event.expiration = new Date(entry.expires).toISOString();
    }
    return JSON.stringify(event) + "\n";
  }
  let path = entry.path === "" ? "/" : showKey(entry.path);
  if (dir && path !== "/") path += "/";
  // A v3 delete says no value unless the one before is known.
  const value = entry.value ?? before?.value;
  const was = prev && action === "update" && before !== undefined
    ? ` was ${showValue(before.value ?? "")}`
    : "";
  return `${change.index} ${action} ${path}${
    dir || value === undefined ? "" : " " + showValue(value)
  }${was}\n`;
}

export type { Io } from "./_common.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
