// Carrying out yaml2etcd's plan: removals first (values with their
// compares, then directories once empty, deepest first), then creations
// and updates, `concurrency` at a time. A conflict is reported and the rest
// goes on; a failure stops it, and every write that was in flight then
// counts as possibly applied. Internal.

import { errorKind, isConflict } from "../_core/kinds.ts";
import type { Store, Subtree } from "../_core/store.ts";
import type { Io } from "./_common.ts";
import { visible } from "./_escape.ts";
import { isDir, type Plan, type Step } from "./_plan.ts";
import { Progress } from "./_common.ts";

/** What a load did. */
export interface Outcome {
  created: number;
  updated: number;
  deleted: number;
  /** Writes that etcd confirmed. */
  applied: number;
  /** Writes that failed in a way that leaves them possibly applied. */
  uncertain: number;
  /** One line per conflict, safe on a terminal. */
  conflicts: string[];
  /** What stopped the load, if anything did. */
  failure: unknown;
  /** Whether the load was interrupted (Ctrl-C). */
  interrupted: boolean;
}

/** Options of {@linkcode carryOut}. */
export interface ApplyOptions {
  force: boolean;
  concurrency: number;
  io: Io;
  /** Stops starting writes when aborted; those in flight finish. */
  signal: AbortSignal;
}

/** How many writes the plan makes. */
export function total(plan: Plan): number {
  let count = plan.writes.length;
  for (const removal of plan.removals) {
    count += removal.values.length + removal.dirs.length;
  }
  return count;
}

/** Carries the plan out; resolves with what it did. */
export async function carryOut(
  store: Store,
  subtree: Subtree,
  plan: Plan,
  options: ApplyOptions,
): Promise<Outcome> {
  const outcome: Outcome = {
    created: 0,
    updated: 0,
    deleted: 0,
    applied: 0,
    uncertain: 0,
    conflicts: [],
    failure: undefined,
    interrupted: false,
  };
  const progress = new Progress(options.io, "writing", total(plan));
  const one = (step: Step) =>
    write(store, subtree, step, options.force, outcome).finally(() =>
      progress.step()
    );
  const phases: Step[][] = [];
  if (options.force) {
    // Without compares: a removal is etcd's own recursive delete.
    phases.push(plan.removals.map((removal): Step => ({
      kind: isDir(removal.old) ? "rmdir" : "delete",
      path: removal.path,
    })));
  } else {
    phases.push(plan.removals.flatMap((removal) => removal.values));
    // Directories once empty, a level at a time, deepest first.
    const dirs = plan.removals.flatMap((removal) => removal.dirs);
    const depths = [...new Set(dirs.map((step) => step.path.length))]
      .sort((a, b) => b - a);
    for (const depth of depths) {
      phases.push(dirs.filter((step) => step.path.length === depth));
    }
  }
  phases.push(plan.writes);
  for (const steps of phases) {
    if (outcome.failure !== undefined || options.signal.aborted) break;
    await inParallel(steps, options.concurrency, one, outcome, options.signal);
  }
  outcome.interrupted = options.signal.aborted;
  await progress.end();
  return outcome;
}

/** Runs `one` over `steps`, `limit` at a time, until a failure or abort. */
async function inParallel(
  steps: Step[],
  limit: number,
  one: (step: Step) => Promise<void>,
  outcome: Outcome,
  signal: AbortSignal,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, steps.length) }, async () => {
      while (
        next < steps.length && outcome.failure === undefined && !signal.aborted
      ) {
        await one(steps[next++]!);
      }
    }),
  );
}

/** One write; conflicts and failures are noted in `outcome`. */
async function write(
  store: Store,
  subtree: Subtree,
  step: Step,
  force: boolean,
  outcome: Outcome,
): Promise<void> {
  const path = step.path.join("/");
  const unless = (condition: { modifiedIndex: number } | { absent: true }) =>
    force ? {} : { condition };
  try {
    switch (step.kind) {
      case "delete":
        await store.remove(
          subtree,
          path,
          unless({ modifiedIndex: step.modifiedIndex ?? 0 }),
        );
        outcome.deleted++;
        break;
      case "rmdir":
        await store.remove(subtree, path, {
          dir: force ? "recursive" : "empty",
        });
        outcome.deleted++;
        break;
      case "mkdir":
        try {
          await store.mkdir(subtree, path, { condition: { absent: true } });
        } catch (error) {
          if (!(force && errorKind(error) === "exists")) throw error;
        }
        outcome.created++;
        break;
      case "create":
        await store.put(subtree, path, step.value!, unless({ absent: true }));
        outcome.created++;
        break;
      case "update":
        await store.put(
          subtree,
          path,
          step.value!,
          unless({ modifiedIndex: step.modifiedIndex ?? 0 }),
        );
        outcome.updated++;
        break;
    }
    outcome.applied++;
  } catch (error) {
    const kind = errorKind(error);
    if (force && kind === "not found" && step.kind !== "update") {
      outcome.applied++; // gone already
      return;
    }
    const key = visible(JSON.stringify(subtree.keyOf(path)));
    if (kind === "not empty") {
      outcome.conflicts.push(
        `conflict: ${key} holds keys the plan did not show (written since it was read, or hidden "_" keys); left in place`,
      );
      return;
    }
    if (isConflict(error)) {
      outcome.conflicts.push(
        `conflict: ${key} changed since it was read; not written (${
          visible(messageOf(error))
        })`,
      );
      return;
    }
    if (mayHaveBeenApplied(error)) outcome.uncertain++;
    outcome.failure ??= error;
  }
}

function mayHaveBeenApplied(error: unknown): boolean {
  return (error as { mayHaveBeenApplied?: unknown })?.mayHaveBeenApplied ===
    true;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
