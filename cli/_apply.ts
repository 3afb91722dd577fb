// Carrying out yaml2etcd's plan: removals first (values with their
// compares, then directories once empty, deepest first), then creations
// and updates, `concurrency` at a time. A conflict is reported and the rest
// goes on; a failure stops it, and every write that was in flight then
// counts as possibly applied. Internal.

import { errorKind, isConflict } from "../_core/kinds.ts";
import type { Store, Subtree, TxnWrite } from "../_core/store.ts";
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
  /**
   * Writes per transaction, where the store has them (v3): the plan goes
   * out in transactions of up to this many writes, each with its compare.
   * `0`: one write at a time.
   */
  txnOps: number;
  /** The whole plan in one transaction, or nothing. */
  atomic: boolean;
  /** Most bytes a request may have (a transaction's writes together). */
  maxRequestBytes: number;
  /** The size of the request that writes `value` at `path`. */
  size(path: string, value: string | Uint8Array): number;
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
  if (options.txnOps > 0) {
    await inTransactions(store, subtree, plan, options, outcome, progress);
    outcome.interrupted = options.signal.aborted;
    await progress.end();
    return outcome;
  }
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

/**
 * The plan in transactions (v3): removals and writes go together (a key is
 * never both), in batches of at most `txnOps` writes and
 * `maxRequestBytes`, `concurrency` batches at a time. A batch whose
 * compares do not all hold is sent again without the writes that
 * conflict, which are reported; with `atomic`, one batch, and any conflict
 * writes nothing.
 */
async function inTransactions(
  store: Store,
  subtree: Subtree,
  plan: Plan,
  options: ApplyOptions,
  outcome: Outcome,
  progress: Progress,
): Promise<void> {
  const steps = [
    ...plan.removals.flatMap((removal) => removal.values),
    ...plan.writes,
  ];
  const batches = options.atomic
    ? [steps]
    : batchesOf(steps, options.txnOps, options.maxRequestBytes, options.size);
  const commitBatch = async (batch: Step[]) => {
    let pending = batch;
    while (pending.length > 0) {
      let result;
      try {
        result = await store.commit(
          subtree,
          pending.map((step) => txnWrite(step, options.force)),
        );
      } catch (error) {
        if (mayHaveBeenApplied(error)) outcome.uncertain += pending.length;
        outcome.failure ??= error;
        return;
      }
      if (result.ok) {
        for (const step of pending) {
          count(step, outcome);
          progress.step();
        }
        return;
      }
      const failed = new Set(result.failed.map((failure) => failure.path));
      for (const failure of result.failed) {
        const key = visible(JSON.stringify(subtree.keyOf(failure.path)));
        outcome.conflicts.push(
          `conflict: ${key} changed since it was read; not written (${
            failure.kind === "exists"
              ? "it exists now"
              : failure.kind === "not found"
              ? "it is gone"
              : "its revision is not the one read"
          })`,
        );
      }
      if (options.atomic) return; // all or nothing: nothing
      pending = pending.filter((step) => {
        const conflicts = failed.has(step.path.join("/"));
        if (conflicts) progress.step();
        return !conflicts;
      });
    }
  };
  await inParallel(
    batches,
    options.concurrency,
    commitBatch,
    outcome,
    options.signal,
  );
}

/** Steps in batches of at most `ops` writes and `bytes` bytes. */
function batchesOf(
  steps: readonly Step[],
  ops: number,
  bytes: number,
  size: (path: string, value: string | Uint8Array) => number,
): Step[][] {
  const batches: Step[][] = [];
  let batch: Step[] = [];
  let used = 0;
  for (const step of steps) {
    const path = step.path.join("/");
    const cost = size(path, step.value ?? "");
    if (batch.length === ops || (batch.length > 0 && used + cost > bytes)) {
      batches.push(batch);
      batch = [];
      used = 0;
    }
    batch.push(step);
    used += cost;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** A step as one write of a transaction, with its compare unless forced. */
function txnWrite(step: Step, force: boolean): TxnWrite {
  const path = step.path.join("/");
  const condition = force
    ? undefined
    : step.kind === "create"
    ? { absent: true as const }
    : { modifiedIndex: step.modifiedIndex ?? 0 };
  const write: { path: string; value?: string | Uint8Array } = { path };
  if (step.kind === "create" || step.kind === "update") {
    write.value = step.value!;
  }
  return condition === undefined ? write : { ...write, condition };
}

function count(step: Step, outcome: Outcome): void {
  if (step.kind === "create") outcome.created++;
  else if (step.kind === "update") outcome.updated++;
  else outcome.deleted++;
  outcome.applied++;
}

/** Runs `one` over `steps`, `limit` at a time, until a failure or abort. */
async function inParallel<T>(
  steps: T[],
  limit: number,
  one: (step: T) => Promise<void>,
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
