#!/usr/bin/env -S deno run --allow-net --allow-env=ETCD_ENDPOINTS,ETCD_USER,ETCD_PASSWORD,LOG_TOKENS,LOG_STREAM --allow-read
/**
 * `yaml2etcd`: loads YAML into an etcd subtree, safely.
 *
 * The whole input is parsed and checked before the first write. Then the
 * tool plans against what etcd holds now (create, update, unchanged, and
 * with `--replace` delete what the file does not hold) and carries the plan
 * out with compare-and-swap, so that a concurrent change is reported as a
 * conflict instead of being overwritten. `--dry-run` prints the plan and
 * writes nothing. Running it again after a failure finishes the job.
 *
 * Scalars are stored as the file spells them (`1.0` stays `1.0`, `yes`
 * stays `yes`); quoted and block scalars by their value; an empty value as
 * the empty string; a mapping as a directory; a file that is one scalar as
 * the value of PREFIX itself. `--replace` deletes only what the plan read,
 * each key with a compare, and refuses an input with no keys unless given
 * `--allow-empty`.
 *
 * ```sh
 * deno run -A jsr:@etcd-tree/etcd-tree/load /app app.yaml --replace
 * yaml2etcd /app - --dry-run < app.yaml
 * ```
 *
 * @example Usage
 * ```ts
 * import { main } from "@etcd-tree/etcd-tree/load";
 *
 * async function usage() {
 *   Deno.exit(await main(["/app", "app.yaml", "--dry-run"]));
 * }
 * ```
 *
 * @module
 */

import { storeOf } from "../_core/store.ts";
import { carryOut, type Outcome, total } from "./_apply.ts";
import {
  answerInfo,
  COMMON_HELP,
  connect,
  Failure,
  interruption,
  type Io,
  parse,
  prefixArgument,
  processIo,
  run,
  UsageError,
  VERSION,
  write,
} from "./_common.ts";
import { showKey, visible } from "./_escape.ts";
import {
  countValues,
  describePlan,
  haveOf,
  makePlan,
  type Plan,
  type Wanted,
} from "./_plan.ts";
import { fromYaml } from "./_yaml_read.ts";

const HELP = `yaml2etcd ${VERSION}: load YAML into an etcd subtree

Usage: yaml2etcd PREFIX [FILE|-] [options] [connection flags]

  PREFIX             the subtree to load into, such as /app
  FILE               the YAML to load; "-" or none: standard input
  --replace          also delete what is under PREFIX but not in the file
                     (only what was read, each key with a compare)
  --allow-empty      with --replace, accept an input with no keys (it
                     deletes everything under PREFIX)
  --dry-run          print the plan as a diff; write nothing
  --force            write without comparing with what was read (overwrite
                     concurrent changes; directories go with everything in
                     them)
  --concurrency N    writes in flight at once (default 16)
  --arrays           store sequences as directories with children 0, 1, ...
  --max-request-bytes N
                     the largest write request the server takes (default:
                     etcd's own limit for the API); larger values are
                     refused before anything is written

Values are stored as the file spells them; a file of one value sets PREFIX
itself. Merge keys (<<) merge; aliases may stand for at most 100,000
values in all, and nesting is limited to 256 levels. Writes compare with the state that was read, so a concurrent change
is reported as a conflict (exit 1). Interrupted (Ctrl-C, or etcd gone), it
says how far it got; running it again finishes the job.

${COMMON_HELP}

Exit status: 0 done, 1 failed or conflicts, 2 bad usage.`;

/**
 * Runs `yaml2etcd` with the given arguments.
 *
 * @param args The command-line arguments, without the program name.
 * @param io Where to read and write (default: the process's own).
 * @returns The exit code: 0 done, 1 failed or conflicts, 2 bad usage.
 *
 * @example Usage
 * ```ts
 * import { main } from "@etcd-tree/etcd-tree/load";
 *
 * async function usage() {
 *   const code = await main(["/app", "app.yaml", "--replace"]);
 * }
 * ```
 */
export function main(args: string[], io: Io = processIo()): Promise<number> {
  return run("yaml2etcd", io, async () => {
    const { values, positionals } = parse(args, {
      replace: { type: "boolean" },
      "allow-empty": { type: "boolean" },
      "dry-run": { type: "boolean" },
      force: { type: "boolean" },
      concurrency: { type: "string" },
      arrays: { type: "boolean" },
      "max-request-bytes": { type: "string" },
    });
    if (await answerInfo(values, io, "yaml2etcd", HELP)) return 0;
    const segments = prefixArgument(
      positionals,
      2,
      "Missing PREFIX: name the subtree to load into, such as /app",
    );
    const concurrency = wholeNumber(
      values.concurrency,
      "--concurrency",
      16,
      1,
      1024,
    );
    const limitGiven = values["max-request-bytes"] === undefined
      ? undefined
      : wholeNumber(
        values["max-request-bytes"],
        "--max-request-bytes",
        0,
        1,
        Number.MAX_SAFE_INTEGER,
      );
    const file = positionals[1] ?? "-";
    // Everything is read and checked before connecting, let alone writing.
    using stop = interruption(io);
    const text = await readInput(file, io);
    const want = await fromYaml(
      text,
      file === "-" ? "<stdin>" : file,
      values.arrays === true,
    ) as Wanted;

    await using client = await connect(values, io, {
      maxConcurrency: concurrency,
    });
    const store = storeOf(client);
    const subtree = store.subtree(segments);
    const snapshot = await store.snapshot(subtree);
    const have = haveOf(snapshot.entries);
    const prefix = visible(JSON.stringify(subtree.key));
    const replace = values.replace === true;
    if (
      replace && want instanceof Map && want.size === 0 &&
      values["allow-empty"] !== true && have !== undefined &&
      countValues(have) > 0
    ) {
      throw new Failure(
        `Refusing to replace ${prefix} with an input that holds no keys: that would delete all ${
          countValues(have)
        } values under it (give --allow-empty to do that)`,
      );
    }
    const plan = makePlan(want, have, replace);
    const limit = limitGiven ?? store.capabilities.maxRequestBytes;
    checkSizes(
      plan,
      limit,
      limitGiven !== undefined,
      (path, value) => store.requestSize(subtree, path, value),
      subtree.keyOf.bind(subtree),
    );

    if (values["dry-run"]) {
      await write(io.stdout, describePlan(plan, subtree));
      return 0;
    }
    const outcome = await carryOut(store, subtree, plan, {
      force: values.force === true,
      concurrency,
      io,
      signal: stop.signal,
    });
    for (const conflict of outcome.conflicts) {
      await write(io.stderr, `yaml2etcd: ${conflict}\n`);
    }
    await write(io.stdout, summary(outcome, plan));
    const stopped = outcome.failure !== undefined
      ? `: ${message(outcome.failure)}`
      : outcome.interrupted
      ? ": interrupted"
      : undefined;
    if (stopped !== undefined) {
      const uncertain = outcome.uncertain > 0
        ? ` (and ${outcome.uncertain} more that may have been applied)`
        : "";
      throw new Failure(
        `Stopped loading ${prefix} after ${outcome.applied} of ${
          total(plan)
        } writes${uncertain}${stopped}; run it again to finish`,
      );
    }
    return outcome.conflicts.length > 0 ? 1 : 0;
  });
}

function summary(outcome: Outcome, plan: Plan): string {
  return `created ${outcome.created}, updated ${outcome.updated}, deleted ${outcome.deleted}, unchanged ${plan.unchanged}, conflicts ${outcome.conflicts.length}\n`;
}

/** A whole-number flag in a range, or its default. */
function wholeNumber(
  given: string | undefined,
  flag: string,
  fallback: number,
  least: number,
  most: number,
): number {
  if (given === undefined) return fallback;
  const value = Number(given);
  if (!/^\d+$/.test(given) || value < least || value > most) {
    throw new UsageError(
      `Invalid ${flag} ${
        JSON.stringify(given)
      }: expected a whole number from ${least}${
        most === Number.MAX_SAFE_INTEGER ? " up" : ` to ${most}`
      }`,
    );
  }
  return value;
}

/** Refuses the load if a value would make a request etcd refuses. */
function checkSizes(
  plan: Plan,
  limit: number,
  given: boolean,
  size: (path: string, value: string) => number,
  keyOf: (path: string) => string,
): void {
  const large: string[] = [];
  let count = 0;
  for (const step of plan.writes) {
    if (step.value === undefined) continue;
    const path = step.path.join("/");
    if (!step.value.isWellFormed()) {
      throw new Failure(
        `Cannot load: the value of ${
          showKey(keyOf(path))
        } holds a lone surrogate (an unpaired \\uD800-\\uDFFF escape), which is not text; nothing was written`,
      );
    }
    const bytes = size(path, step.value);
    if (bytes > limit) {
      count++;
      if (large.length < 3) {
        large.push(`${showKey(keyOf(path))} (${bytes} bytes)`);
      }
    }
  }
  if (count === 0) return;
  throw new Failure(
    `Cannot load: ${count} value${
      count === 1 ? " makes" : "s make"
    } a request larger than the ${limit} bytes etcd takes: ${large.join(", ")}${
      count > large.length ? ", ..." : ""
    }; nothing was written${
      given
        ? ""
        : " (if the server takes larger requests, give --max-request-bytes)"
    }`,
  );
}

async function readInput(file: string, io: Io): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = file === "-"
      ? await new Response(io.stdin).bytes()
      : await Deno.readFile(file);
  } catch (error) {
    throw new Failure(`Cannot read ${JSON.stringify(file)}: ${message(error)}`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new Failure(`Cannot read ${JSON.stringify(file)}: it is not UTF-8`);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export type { Io } from "./_common.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
