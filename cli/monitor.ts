#!/usr/bin/env -S deno run --allow-net --allow-env=ETCD_API,ETCD_ENDPOINTS,ETCD_USER,ETCD_PASSWORD,ETCDCTL_ENDPOINTS,ETCDCTL_CACERT,ETCDCTL_CERT,ETCDCTL_KEY,ETCDCTL_USER,ETCDCTL_PASSWORD --allow-read
/**
 * `etcdmon`: prints the changes of an etcd subtree as they happen.
 *
 * One line per change: the index, the action (`create`, `update`,
 * `delete`, `expire`), the key relative to PREFIX (directories end in `/`)
 * and the value as JSON (the previous value for deletes and expiries).
 * `--json` prints one JSON object per line instead (v3's names on v3).
 * Disconnects and etcd
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
import { storeOf } from "../_core/store.ts";
import { Client as V3Client } from "../v3/_client.ts";
import { visible } from "./_escape.ts";
import { v2Source, v3Source } from "./_monitor.ts";
import { DECODE_HELP, decodeFlag } from "./_k8s_view.ts";
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

Usage: etcdmon [PREFIX] [--json] [--prev] [--since REV] [--decode k8s]
               [connection flags]

  PREFIX          the subtree to watch (default: everything; on v3 the key
                  PREFIX and every key that starts with PREFIX/, and with
                  none or "" every key, starting with "/" or not)
  --json          one JSON object per line
  --prev          show each update's previous value too (v2 always knows
                  it; on v3 it costs etcd a little more per change)
  --since REV     start with the change at revision (v2: index) REV
                  (default: from now; a revision still to come is waited
                  for, as stderr says)
${DECODE_HELP}: VALUE
                  is the object as JSON (in --json, "k8s" instead of
                  "value": the decoded object, see README)

Lines: REV ACTION KEY VALUE, where REV is etcd's revision (v2: its index),
ACTION is create, update, delete or expire (v2; on v3 a key whose lease
ran out is a delete), KEY is relative to PREFIX ("/" ends a directory on
v2; on v3 every key is shown, one that is not text as <N bytes: HEX>) and
VALUE is JSON (bytes that are not text as their size and first bytes);
with --prev, an update ends with "was" and the previous value. Control,
bidirectional and invisible characters in keys and values are shown as
escapes (a key that has any is shown quoted).
--json lines are exact JSON (those characters escaped; bytes that are not
text as {"": "BASE64"}). On v3: revision, type (PUT or DELETE), key, path
(relative to PREFIX), value, createRevision, modRevision, version, lease
(if any) and with --prev prevKv; a DELETE has key, path, modRevision. On
v2: index, action, key, path, dir, value, prevValue, createdIndex,
modifiedIndex, expiration. On v2, keys with a segment starting with "_"
are hidden by etcd and not shown.
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
      decode: { type: "string" },
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
    const decode = decodeFlag(values.decode) !== undefined;

    // Ctrl-C (or the caller's signal) ends the loop cleanly.
    using stop = interruption(io);
    if (stop.signal.aborted) return 0;
    await using client = await connect(values, io);
    const store = storeOf(client);
    const subtree = subtreeOf(store, prefix);
    const style = { json, prev: values.prev === true, decode };
    const source = client instanceof V3Client
      ? v3Source(client, prefix ?? "", style)
      : v2Source(store, subtree, style);
    const word = source.word;
    // A note when PREFIX holds nothing (if etcd answers now; the watch
    // rides out an etcd that does not).
    if (!(await store.exists(subtree).catch(() => true))) {
      const other = await elsewhere(client, prefix);
      if (other !== undefined) {
        await write(io.stderr, `etcdmon: note: ${visible(other)}\n`);
      }
    }
    if (from !== undefined) {
      // A revision still to come: say so, rather than wait in silence.
      const now = await source.current().catch(() => undefined);
      if (now !== undefined && from > now + 1) {
        await write(
          io.stderr,
          `etcdmon: waiting for ${word} ${from}: etcd is at ${word} ${now}; changes are shown from ${word} ${from} on, when they happen\n`,
        );
      }
    }
    while (!stop.signal.aborted) {
      // Disconnects are ridden out; stderr says when etcd went and came back.
      const stream = source.follow(from, (state, error) =>
        void write(
          io.stderr,
          state === "retrying"
            ? `etcdmon: lost etcd (${
              visible(error instanceof Error ? error.message : String(error))
            }); reconnecting\n`
            : "etcdmon: etcd is back\n",
        ).catch(() => {}));
      const end = () => void stream.close();
      stop.signal.addEventListener("abort", end, { once: true });
      try {
        for await (const printed of stream) {
          from = printed.next;
          await write(io.stdout, printed.text);
        }
        return 0; // closed: Ctrl-C
      } catch (error) {
        if (errorKind(error) !== "history lost") throw error;
        // History is gone: go on from now.
        const now = await source.current();
        const lost = (from ?? 1) - 1;
        from = now + 1;
        await write(io.stdout, source.resync(lost, now));
      } finally {
        stop.signal.removeEventListener("abort", end);
        await stream.close();
      }
    }
    return 0;
  });
}

export type { Io } from "./_common.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
