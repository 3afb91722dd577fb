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
 * the empty string; a mapping as a directory.
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

import { errorKind, isConflict } from "../_core/kinds.ts";
import {
  type Entry,
  type Store,
  storeOf,
  type Subtree,
} from "../_core/store.ts";
import {
  answerInfo,
  COMMON_HELP,
  connect,
  Failure,
  type Io,
  parse,
  prefixArgument,
  processIo,
  Progress,
  run,
  UsageError,
  VERSION,
  write,
} from "./_common.ts";
import { fromYaml } from "./_yaml_read.ts";

const HELP = `yaml2etcd ${VERSION}: load YAML into an etcd subtree

Usage: yaml2etcd PREFIX [FILE|-] [options] [connection flags]

  PREFIX             the subtree to load into, such as /app
  FILE               the YAML to load; "-" or none: standard input
  --replace          also delete what is under PREFIX but not in the file
  --dry-run          print the plan as a diff; write nothing
  --force            write without comparing with what was read (overwrite
                     concurrent changes)
  --concurrency N    writes in flight at once (default 16)
  --arrays           store sequences as directories with children 0, 1, ...

Values are stored as the file spells them. Writes compare with the state
that was read, so a concurrent change is reported as a conflict (exit 1).

${COMMON_HELP}

Exit status: 0 done, 1 failed or conflicts, 2 bad usage.`;

/** What etcd holds at a path: its entry (none for an inferred directory) and children. */
interface Have {
  entry: Entry | undefined;
  children: Map<string, Have>;
}

/** One step of a plan. */
interface Step {
  kind: "create" | "update" | "mkdir" | "delete";
  /** Segments below the prefix. */
  path: string[];
  /** The value to write (create, update). */
  value?: string;
  /** The value or directory there now (update, delete). */
  old?: Have;
}

/** What a load will do. */
interface Plan {
  /** Deletions, done first (replacements and type changes). */
  deletes: Step[];
  /** Creations and updates, done after. */
  writes: Step[];
  unchanged: number;
}

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
      "dry-run": { type: "boolean" },
      force: { type: "boolean" },
      concurrency: { type: "string" },
      arrays: { type: "boolean" },
    });
    if (await answerInfo(values, io, "yaml2etcd", HELP)) return 0;
    const segments = prefixArgument(
      positionals,
      2,
      "Missing PREFIX: name the subtree to load into, such as /app",
    );
    const concurrency = Number(values.concurrency ?? 16);
    if (
      !Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024
    ) {
      throw new UsageError(
        `Invalid --concurrency ${
          JSON.stringify(values.concurrency)
        }: expected an integer from 1 to 1024`,
      );
    }
    const file = positionals[1] ?? "-";
    // Everything is read and checked before connecting, let alone writing.
    const text = await readInput(file, io);
    const want = await fromYaml(
      text,
      file === "-" ? "<stdin>" : file,
      values.arrays === true,
    ) as Map<string, Wanted>;

    await using client = await connect(values, io, {
      maxConcurrency: concurrency,
    });
    const store = storeOf(client);
    const subtree = store.subtree(segments);
    const snapshot = await store.snapshot(subtree);
    const plan = makePlan(
      want,
      haveOf(snapshot.entries),
      values.replace === true,
    );
    const prefix = subtree.key;

    if (values["dry-run"]) {
      await write(io.stdout, describePlan(plan, subtree));
      return 0;
    }
    const outcome = await carryOut(store, subtree, plan, {
      force: values.force === true,
      concurrency,
      io,
    });
    for (const conflict of outcome.conflicts) {
      await write(io.stderr, `yaml2etcd: ${conflict}\n`);
    }
    await write(
      io.stdout,
      `created ${outcome.created}, updated ${outcome.updated}, deleted ${outcome.deleted}, unchanged ${plan.unchanged}, conflicts ${outcome.conflicts.length}\n`,
    );
    if (outcome.failure !== undefined) {
      const total = plan.deletes.length + plan.writes.length;
      throw new Failure(
        `Stopped loading ${
          JSON.stringify(prefix)
        } after ${outcome.applied} of ${total} writes: ${
          message(outcome.failure)
        }; run it again to finish`,
      );
    }
    return outcome.conflicts.length > 0 ? 1 : 0;
  });
}

type Wanted = string | Map<string, Wanted>;

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

/** A snapshot's entries as a tree; `undefined` when there are none. */
function haveOf(entries: readonly Entry[]): Have | undefined {
  if (entries.length === 0) return undefined;
  const root: Have = { entry: undefined, children: new Map() };
  for (const entry of entries) {
    let node = root;
    if (entry.path !== "") {
      for (const name of entry.path.split("/")) {
        let child = node.children.get(name);
        if (child === undefined) {
          child = { entry: undefined, children: new Map() };
          node.children.set(name, child);
        }
        node = child;
      }
    }
    node.entry = entry;
  }
  return root;
}

/** Whether etcd holds a directory there (explicit or inferred). */
function isDir(have: Have): boolean {
  return have.entry === undefined || have.entry.dir === true;
}

/** Plans the load of `want` over the current `root`. */
function makePlan(
  want: Map<string, Wanted>,
  root: Have | undefined,
  replace: boolean,
): Plan {
  const plan: Plan = { deletes: [], writes: [], unchanged: 0 };
  if (root !== undefined && !isDir(root)) {
    // The prefix holds a value that has to become a directory.
    plan.deletes.push({ kind: "delete", path: [], old: root });
    root = undefined;
  }
  if (root === undefined && want.size === 0) {
    plan.writes.push({ kind: "mkdir", path: [] });
  }
  diff(want, root, [], plan, replace);
  return plan;
}

function diff(
  want: Map<string, Wanted>,
  have: Have | undefined,
  path: string[],
  plan: Plan,
  replace: boolean,
): void {
  const children = have?.children ?? new Map<string, Have>();
  for (const name of [...want.keys()].sort()) {
    const wanted = want.get(name)!;
    let node = children.get(name);
    const at = [...path, name];
    if (typeof wanted === "string") {
      if (node === undefined) {
        plan.writes.push({ kind: "create", path: at, value: wanted });
      } else if (isDir(node)) {
        plan.deletes.push({ kind: "delete", path: at, old: node });
        plan.writes.push({ kind: "create", path: at, value: wanted });
      } else if (node.entry?.value === wanted) {
        plan.unchanged++;
      } else {
        plan.writes.push({
          kind: "update",
          path: at,
          value: wanted,
          old: node,
        });
      }
      continue;
    }
    if (node !== undefined && !isDir(node)) {
      plan.deletes.push({ kind: "delete", path: at, old: node });
      node = undefined;
    }
    if (node === undefined && wanted.size === 0) {
      plan.writes.push({ kind: "mkdir", path: at });
    } else {
      diff(wanted, node, at, plan, replace);
    }
  }
  if (replace) {
    for (
      const [name, node] of [...children].sort(([a], [b]) => a < b ? -1 : 1)
    ) {
      if (!want.has(name)) {
        plan.deletes.push({ kind: "delete", path: [...path, name], old: node });
      }
    }
  }
}

function countValues(node: Have): number {
  if (!isDir(node)) return 1;
  let count = 0;
  for (const child of node.children.values()) count += countValues(child);
  return count;
}

function valueOf(node: Have | undefined): string {
  const value = node?.entry?.value;
  return typeof value === "string" ? value : "";
}

/** The plan as a readable diff, with a summary line. */
function describePlan(plan: Plan, subtree: Subtree): string {
  const key = (path: string[]) => subtree.keyOf(path.join("/"));
  const lines: string[] = [];
  for (const step of plan.deletes) {
    const old = step.old!;
    lines.push(
      isDir(old)
        ? `- ${key(step.path)}/ (directory with ${countValues(old)} values)`
        : `- ${key(step.path)} (was ${JSON.stringify(valueOf(old))})`,
    );
  }
  for (const step of plan.writes) {
    if (step.kind === "mkdir") {
      lines.push(`+ ${key(step.path)}/ (empty directory)`);
    } else if (step.kind === "create") {
      lines.push(`+ ${key(step.path)} = ${JSON.stringify(step.value)}`);
    } else {
      lines.push(
        `~ ${key(step.path)} = ${JSON.stringify(step.value)} (was ${
          JSON.stringify(valueOf(step.old))
        })`,
      );
    }
  }
  const creates = plan.writes.filter((s) => s.kind !== "update").length;
  const updates = plan.writes.length - creates;
  lines.push(
    `plan: create ${creates}, update ${updates}, delete ${plan.deletes.length}, unchanged ${plan.unchanged}`,
  );
  return lines.join("\n") + "\n";
}

interface Outcome {
  created: number;
  updated: number;
  deleted: number;
  applied: number;
  conflicts: string[];
  failure: unknown;
}

async function carryOut(
  store: Store,
  subtree: Subtree,
  plan: Plan,
  options: { force: boolean; concurrency: number; io: Io },
): Promise<Outcome> {
  const outcome: Outcome = {
    created: 0,
    updated: 0,
    deleted: 0,
    applied: 0,
    conflicts: [],
    failure: undefined,
  };
  const progress = new Progress(
    options.io,
    "writing",
    plan.deletes.length + plan.writes.length,
  );
  const force = options.force;
  const one = async (step: Step): Promise<void> => {
    const path = step.path.join("/");
    try {
      if (step.kind === "delete") {
        const old = step.old!;
        await store.remove(
          subtree,
          path,
          isDir(old)
            ? { dir: "recursive" }
            : force
            ? {}
            : { condition: { modifiedIndex: old.entry?.modifiedIndex ?? 0 } },
        );
        outcome.deleted++;
      } else if (step.kind === "mkdir") {
        try {
          await store.mkdir(subtree, path, { condition: { absent: true } });
        } catch (error) {
          if (!(force && errorKind(error) === "exists")) throw error;
        }
        outcome.created++;
      } else if (step.kind === "create") {
        await store.put(
          subtree,
          path,
          step.value!,
          force ? {} : { condition: { absent: true } },
        );
        outcome.created++;
      } else {
        await store.put(
          subtree,
          path,
          step.value!,
          force ? {} : {
            condition: { modifiedIndex: step.old?.entry?.modifiedIndex ?? 0 },
          },
        );
        outcome.updated++;
      }
      outcome.applied++;
    } catch (error) {
      if (
        force && step.kind === "delete" && errorKind(error) === "not found"
      ) {
        outcome.applied++;
        return;
      }
      if (!isConflict(error)) throw error;
      outcome.conflicts.push(
        `conflict: ${
          JSON.stringify(subtree.keyOf(path))
        } changed since it was read; not written (${message(error)})`,
      );
    } finally {
      progress.step();
    }
  };
  for (const steps of [plan.deletes, plan.writes]) {
    if (outcome.failure !== undefined) break;
    let next = 0;
    await Promise.all(
      Array.from(
        { length: Math.min(options.concurrency, steps.length) },
        async () => {
          while (next < steps.length && outcome.failure === undefined) {
            try {
              await one(steps[next++]!);
            } catch (error) {
              outcome.failure ??= error;
            }
          }
        },
      ),
    );
  }
  await progress.end();
  return outcome;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export type { Io } from "./_common.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
