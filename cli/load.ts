#!/usr/bin/env -S deno run --allow-net --allow-env=ETCD_API,ETCD_ENDPOINTS,ETCD_USER,ETCD_PASSWORD,ETCDCTL_ENDPOINTS,ETCDCTL_CACERT,ETCDCTL_CERT,ETCDCTL_KEY,ETCDCTL_USER,ETCDCTL_PASSWORD,LOG_TOKENS,LOG_STREAM --allow-read
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

import { type Capabilities, storeOf } from "../_core/store.ts";
import { carryOut, type Outcome, total } from "./_apply.ts";
import {
  answerInfo,
  COMMON_HELP,
  connect,
  elsewhere,
  Failure,
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
import { showKey, visible } from "./_escape.ts";
import {
  countValues,
  deletes,
  describeNewer,
  describePlan,
  haveOf,
  holdNewer,
  keptKey,
  makePlan,
  type Plan,
  type Wanted,
} from "./_plan.ts";
import { wantedOf } from "./_names.ts";
import { readDump } from "./_yaml_read.ts";
import { OWN_NAME } from "./_yaml.ts";
import { type Origin, unitOf } from "./_origin.ts";
import { TooManyTxnOps } from "../v3/_errors.ts";

const HELP = `yaml2etcd ${VERSION}: load YAML into an etcd subtree

Usage: yaml2etcd PREFIX [FILE|-] [options] [connection flags]

  PREFIX             the subtree to load into, such as app (v3: the key
                     PREFIX and every key that starts with PREFIX/; ""
                     for every key, starting with "/" or not) or /app (v2)
  FILE               the YAML to load; "-" or none: standard input
  --replace          also delete what is under PREFIX but not in the file
                     (only what was read, each key with a compare)
  --allow-empty      with --replace, accept an input with no keys (it
                     deletes everything under PREFIX)
  --skip-unrepresentable
                     with --replace, leave the keys under PREFIX that no
                     file can hold (v3: keys that are not UTF-8 text, and
                     PREFIX/ itself) and replace the rest; without it,
                     such keys make the load fail (exit 1) before
                     anything is written
  --dry-run          print the plan as a diff; write nothing
  --force            write without comparing with what was read (overwrite
                     concurrent changes; directories go with everything in
                     them)
  --concurrency N    writes (v3: transactions) in flight at once
                     (default 16)
  --txn-ops N        v3: writes per transaction (default 128, etcd's own
                     --max-txn-ops; up to the server's --max-txn-ops)
  --atomic           v3: the whole load as one transaction: every write
                     happens, or none (refused before writing when it
                     does not fit in one)
  --arrays           store sequences as directories with children 0, 1, ...
  --max-request-bytes N
                     the largest write request the server takes (default:
                     etcd's own limit for the API); larger values are
                     refused before anything is written

Values are stored as the file spells them; YAML !!binary values (and, in
JSON, an object whose one name is empty, {"": "BASE64"}) as their bytes,
which v3 holds and v2 does not. A file of one value sets PREFIX itself.
A name with "/" in it is the keys it joins ("a/b": 1 is b under a; "/x"
at the top is the key /x when PREFIX is ""), as etcd2yaml writes keys
with an empty segment; a key given twice is refused. On v3 a mapping's
empty name ("": VALUE) is the value of its own key, beside the keys below
it (at the top of a JSON dump: "value" in the dump's record).
Merge keys (<<) merge; aliases may stand for at most 100,000 values in all,
and nesting is limited to 256 levels. Writes compare with the state that
was read, so a concurrent change is reported as a conflict (exit 1) and the
rest is written. On v3 an empty mapping is refused (v3 has no empty
directories), and so are keys starting with "_" on v2 (v2 hides them).
On v3 a value with keys below it (b beside b/c) is updated by a file that
sets b; the keys below stay unless --replace; and it stays, beside keys
below it, where the file's mapping b has it under its empty name.
A dump of etcd2yaml records the revision (v2: index) it was read at:
loading it into the same PREFIX, a key changed since is a conflict (both
values shown, not written, exit 1) unless --force. A file without one
loads as before, and says so on stderr when it changes keys that exist.
Interrupted (Ctrl-C, or etcd gone), it says how far it got; running it
again finishes the job.

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
      "txn-ops": { type: "string" },
      atomic: { type: "boolean" },
      "skip-unrepresentable": { type: "boolean" },
    });
    if (await answerInfo(values, io, "yaml2etcd", HELP)) return 0;
    const prefix = prefixArgument(
      positionals,
      2,
      "Missing PREFIX: name the subtree to load into, such as /app",
    );
    const txnOpsGiven = values["txn-ops"] === undefined
      ? undefined
      : wholeNumber(values["txn-ops"], "--txn-ops", 0, 1, 1_000_000);
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
    const source = file === "-" ? "<stdin>" : file;
    const { data, origin } = await readDump(
      text,
      source,
      values.arrays === true,
    );
    const want = wantedOf(data, source);

    await using client = await connect(values, io, {
      maxConcurrency: concurrency,
      ...(txnOpsGiven === undefined ? {} : { maxTxnOps: txnOpsGiven }),
    });
    const store = storeOf(client);
    const { capabilities } = store;
    const subtree = subtreeOf(store, prefix);
    const shown = visible(JSON.stringify(subtree.key));
    checkFits(want, capabilities, shown, subtree.key === "");
    const txnOps = capabilities.maxTxnOps === 0
      ? 0
      : txnOpsGiven ?? capabilities.maxTxnOps;
    if (
      capabilities.maxTxnOps === 0 &&
      (txnOpsGiven !== undefined || values.atomic)
    ) {
      throw new UsageError(
        `Invalid ${
          values.atomic ? "--atomic" : "--txn-ops"
        }: etcd's ${capabilities.protocol} API has no transactions (use --api v3)`,
      );
    }
    const snapshot = await store.snapshot(subtree);
    const have = haveOf(snapshot.entries);
    if (have === undefined) {
      const other = await elsewhere(client, prefix);
      if (other !== undefined) {
        await write(io.stderr, `yaml2etcd: note: ${other}\n`);
      }
    }
    const replace = values.replace === true;
    if (
      replace && want instanceof Map && want.size === 0 &&
      values["allow-empty"] !== true && have !== undefined &&
      countValues(have) > 0
    ) {
      throw new Failure(
        `Refusing to replace ${shown} with an input that holds no keys: that would delete all ${
          countValues(have)
        } values under it (give --allow-empty to do that)`,
      );
    }
    const plan = makePlan(want, have, replace, snapshot.skipped);
    if (values.force !== true) {
      const why = originProblem(origin, subtree.key, capabilities, snapshot);
      if (why === undefined) holdNewer(plan, origin!);
      else if (
        plan.writes.some((step) => step.kind === "update") || deletes(plan) > 0
      ) {
        await write(io.stderr, `yaml2etcd: note: ${visible(source)} ${why}\n`);
      }
    }
    if (!capabilities.directories) {
      // An empty input is no directory to make where there are none.
      plan.writes = plan.writes.filter((step) => step.kind !== "mkdir");
    }
    const limit = limitGiven ?? store.capabilities.maxRequestBytes;
    const size = (path: string, value: string | Uint8Array) =>
      store.requestSize(subtree, path, value);
    checkSizes(
      plan,
      limit,
      limitGiven !== undefined,
      size,
      subtree.keyOf.bind(subtree),
    );
    if (values.atomic) checkAtomic(plan, txnOps, limit, size);

    if (values["dry-run"]) {
      await write(io.stdout, describePlan(plan, subtree));
    }
    if (plan.kept.length > 0 && values["skip-unrepresentable"] !== true) {
      throw new Failure(
        `Refusing to replace ${shown}: ${plan.kept.length} key${
          plan.kept.length === 1 ? "" : "s"
        } under it cannot be in a file, so --replace would leave ${
          plan.kept.length === 1 ? "it" : "them"
        }: ${
          plan.kept.slice(0, 3).map((kept) => `${keptKey(kept)} (${kept.why})`)
            .join(", ")
        }${
          plan.kept.length > 3 ? ", ..." : ""
        }; give --skip-unrepresentable to replace the rest and leave them${
          values["dry-run"] ? "" : "; nothing was written"
        }`,
      );
    }
    if (values["dry-run"]) return plan.newer.length > 0 ? 1 : 0;
    if (values.atomic && plan.newer.length > 0) {
      // All or nothing: a key changed since the dump holds back the rest.
      plan.writes = [];
      plan.removals = [];
    }
    const outcome = await carryOut(store, subtree, plan, {
      force: values.force === true,
      concurrency,
      io,
      signal: stop.signal,
      txnOps,
      atomic: values.atomic === true,
      maxRequestBytes: limit,
      size,
    });
    for (const newer of plan.newer) {
      await write(
        io.stderr,
        `yaml2etcd: conflict: ${
          visible(JSON.stringify(subtree.keyOf(newer.path.join("/"))))
        } ${describeNewer(newer, plan.dump!)}\n`,
      );
    }
    for (const conflict of outcome.conflicts) {
      await write(io.stderr, `yaml2etcd: ${conflict}\n`);
    }
    await write(io.stdout, summary(outcome, plan));
    if (outcome.failure instanceof TooManyTxnOps) {
      throw new Failure(
        `Stopped loading ${shown} after ${outcome.applied} of ${
          total(plan)
        } writes: etcd refused a transaction of up to ${txnOps} writes, so the server's --max-txn-ops is lower than ${
          txnOpsGiven === undefined
            ? `${txnOps} (etcd's default, used without --txn-ops)`
            : `--txn-ops ${txnOps}`
        }; give --txn-ops N with N at most the server's --max-txn-ops, or start etcd with a larger --max-txn-ops`,
      );
    }
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
        `Stopped loading ${shown} after ${outcome.applied} of ${
          total(plan)
        } writes${uncertain}${stopped}; run it again to finish`,
      );
    }
    return outcome.conflicts.length + plan.newer.length > 0 ? 1 : 0;
  });
}

function summary(outcome: Outcome, plan: Plan): string {
  return `created ${outcome.created}, updated ${outcome.updated}, deleted ${outcome.deleted}, unchanged ${plan.unchanged}, conflicts ${
    outcome.conflicts.length + plan.newer.length
  }\n`;
}

/**
 * Why the file's origin cannot tell what changed since it was written
 * (what the note on stderr says), or `undefined` when it can.
 */
function originProblem(
  origin: Origin | undefined,
  prefix: string,
  capabilities: Capabilities,
  snapshot: { index: number },
): string | undefined {
  const overwritten =
    "so a key changed since the file was written is overwritten";
  if (origin === undefined) {
    return `records no revision (it is no dump of etcd2yaml), ${overwritten}`;
  }
  const dump = `is a dump of ${
    visible(JSON.stringify(origin.prefix))
  } at ${origin.unit} ${origin.at}`;
  if (origin.prefix !== prefix) {
    return `${dump}, not of ${
      visible(JSON.stringify(prefix))
    }: its ${origin.unit} says nothing here, ${overwritten}`;
  }
  if (origin.unit !== unitOf(capabilities.protocol)) {
    return `${dump}, of etcd's other API: its ${origin.unit} says nothing here, ${overwritten}`;
  }
  if (origin.at > snapshot.index) {
    return `${dump}, ahead of etcd's ${origin.unit} ${snapshot.index} (another cluster's, or a restored one): ${overwritten}`;
  }
  return undefined;
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

/**
 * Refuses, before anything is written, what the API in use cannot hold:
 * v2's hidden "_" keys, text-only values, names that are no segments and
 * values beside keys below them; v3's empty directories; a value of the
 * whole key space itself (`everything`: PREFIX "" on v3).
 */
function checkFits(
  want: Wanted,
  capabilities: Capabilities,
  prefix: string,
  everything: boolean,
): void {
  const api = capabilities.protocol;
  let empty: string[] | undefined;
  let hidden: string[] | undefined;
  let binary: string[] | undefined;
  let segment: string[] | undefined;
  let own: string[] | undefined;
  const visit = (node: Wanted, path: string[]) => {
    if (node instanceof Uint8Array) {
      if (!capabilities.binary) binary ??= path;
      return;
    }
    if (typeof node === "string") return;
    if (node.size === 0 && !capabilities.directories && path.length > 0) {
      empty ??= path;
    }
    for (const [name, child] of node) {
      if (name === OWN_NAME) {
        if (capabilities.directories || (everything && path.length === 0)) {
          own ??= path;
        }
        continue;
      }
      if (capabilities.hiddenUnderscore && name.startsWith("_")) {
        hidden ??= [...path, name];
      }
      if (
        capabilities.directories &&
        (name.includes("/") || name === "." || name === "..")
      ) {
        segment ??= [...path, name];
      }
      visit(child, [...path, name]);
    }
  };
  visit(want, []);
  const at = (path: string[]) => showKey(path.join("/"));
  if (own !== undefined) {
    throw new Failure(
      capabilities.directories
        ? `Cannot load into ${prefix}: ${
          at(own) || "the input"
        } holds a value under its empty name beside keys below it, and etcd's ${api} API holds a value or a directory, not both; nothing was written`
        : `Cannot load into ${prefix}: the input holds a value under its empty name at the top, the value of PREFIX itself, and the whole key space has no key of its own; nothing was written`,
    );
  }
  if (segment !== undefined) {
    throw new Failure(
      `Cannot load into ${prefix}: ${
        at(segment)
      } has an empty segment, "." or "..", which etcd's ${api} API does not keep as given (use --api v3); nothing was written`,
    );
  }
  if (hidden !== undefined) {
    throw new Failure(
      `Cannot load into ${prefix}: ${
        at(hidden)
      } starts with "_", which etcd's v2 API hides from listings, so it could not be checked or dumped back; nothing was written`,
    );
  }
  if (binary !== undefined) {
    throw new Failure(
      `Cannot load into ${prefix}: the value of ${
        at(binary)
      } is bytes that are not UTF-8 text, and etcd's v2 API holds text only (use --api v3); nothing was written`,
    );
  }
  if (empty !== undefined) {
    throw new Failure(
      `Cannot load into ${prefix}: ${
        at(empty) || "the input"
      } is an empty mapping, and etcd's ${api} API has no empty directories (they exist while keys are below them); remove it from the file; nothing was written`,
    );
  }
}

/** Refuses an --atomic load that does not fit in one transaction. */
function checkAtomic(
  plan: Plan,
  txnOps: number,
  limit: number,
  size: (path: string, value: string | Uint8Array) => number,
): void {
  const steps = total(plan);
  if (steps > txnOps) {
    throw new Failure(
      `Cannot load atomically: the plan has ${steps} writes, and one transaction takes at most ${txnOps} (etcd's --max-txn-ops; give --txn-ops if the server takes more, or load without --atomic); nothing was written`,
    );
  }
  let bytes = 0;
  for (const step of plan.writes) {
    bytes += size(step.path.join("/"), step.value ?? "");
  }
  for (const removal of plan.removals) {
    for (const step of removal.values) bytes += size(step.path.join("/"), "");
  }
  if (bytes > limit) {
    throw new Failure(
      `Cannot load atomically: the transaction would be about ${bytes} bytes, and etcd takes requests of at most ${limit} (give --max-request-bytes if the server takes more, or load without --atomic); nothing was written`,
    );
  }
}

/** Refuses the load if a value would make a request etcd refuses. */
function checkSizes(
  plan: Plan,
  limit: number,
  given: boolean,
  size: (path: string, value: string | Uint8Array) => number,
  keyOf: (path: string) => string,
): void {
  const large: string[] = [];
  let count = 0;
  for (const step of plan.writes) {
    if (step.value === undefined) continue;
    const path = step.path.join("/");
    if (typeof step.value === "string" && !step.value.isWellFormed()) {
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
    // A byte-order mark that starts a file marks its encoding (YAML and
    // JSON allow one), so it is dropped; one in a key is written escaped.
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
