// yaml2etcd's plan: what to create, update and delete to make a subtree
// hold what a file says, against what a snapshot showed. Internal.

import type { Entry, Subtree } from "../_core/store.ts";
import { showKey, showValue } from "./_escape.ts";

/** What the file asks for: a value (text or bytes), or a directory of more. */
export type Wanted = string | Uint8Array | Map<string, Wanted>;

/** What etcd held at a path: its entry (none for an inferred directory) and children. */
export interface Have {
  entry: Entry | undefined;
  children: Map<string, Have>;
}

/** One write of a plan. */
export interface Step {
  /**
   * `create` and `update` a value, `mkdir` an empty directory, `delete` a
   * value (with a compare) and `rmdir` an explicit directory once empty.
   */
  kind: "create" | "update" | "mkdir" | "delete" | "rmdir";
  /** Segments below the prefix. */
  path: string[];
  /** The value to write (create, update). */
  value?: string | Uint8Array;
  /** The index the key had when it was read (update, delete, rmdir). */
  modifiedIndex?: number;
  /** The value it had (update). */
  was?: string | Uint8Array;
}

/** A key or directory to remove, as the diff shows it, and its steps. */
export interface Removal {
  path: string[];
  old: Have;
  /** The values to delete, each with its compare. */
  values: Step[];
  /** The explicit directories to remove once empty, deepest first. */
  dirs: Step[];
}

/** What a load will do. */
export interface Plan {
  /** Removals (replacements and changes of type), done first. */
  removals: Removal[];
  /** Creations and updates, done after. */
  writes: Step[];
  unchanged: number;
}

/** A snapshot's entries as a tree; `undefined` when there are none. */
export function haveOf(entries: readonly Entry[]): Have | undefined {
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
  hideShadowed(root);
  return root;
}

/**
 * A value with keys below it (etcd v3 holds both `a` and `a/b`) is a
 * directory here: the file can say only one of them, and the keys below
 * win, as they do in etcd2yaml's dump and in a tree.
 */
function hideShadowed(node: Have): void {
  if (node.children.size === 0) return;
  if (node.entry !== undefined && node.entry.dir !== true) {
    node.entry = undefined;
  }
  for (const child of node.children.values()) hideShadowed(child);
}

/** Whether etcd held a directory there (explicit or inferred). */
export function isDir(have: Have): boolean {
  return have.entry === undefined || have.entry.dir === true;
}

/** How many values a node is or holds. */
export function countValues(node: Have): number {
  if (!isDir(node)) return 1;
  let count = 0;
  for (const child of node.children.values()) count += countValues(child);
  return count;
}

/** Plans the load of `want` over what etcd held (`root`). */
export function makePlan(
  want: Wanted,
  root: Have | undefined,
  replace: boolean,
): Plan {
  const plan: Plan = { removals: [], writes: [], unchanged: 0 };
  if (!(want instanceof Map)) {
    // The file holds one value: the prefix itself.
    planValue(want, root, [], plan);
    return plan;
  }
  if (root !== undefined && !isDir(root)) {
    // The prefix holds a value that has to become a directory.
    plan.removals.push(removal([], root));
    root = undefined;
  }
  if (root === undefined && want.size === 0) {
    plan.writes.push({ kind: "mkdir", path: [] });
  }
  diff(want, root, [], plan, replace);
  return plan;
}

function planValue(
  wanted: string | Uint8Array,
  node: Have | undefined,
  at: string[],
  plan: Plan,
): void {
  if (node === undefined) {
    plan.writes.push({ kind: "create", path: at, value: wanted });
  } else if (isDir(node)) {
    plan.removals.push(removal(at, node));
    plan.writes.push({ kind: "create", path: at, value: wanted });
  } else if (same(node.entry?.value, wanted)) {
    plan.unchanged++;
  } else {
    plan.writes.push({
      kind: "update",
      path: at,
      value: wanted,
      modifiedIndex: node.entry?.modifiedIndex ?? 0,
      was: node.entry?.value ?? "",
    });
  }
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
    if (!(wanted instanceof Map)) {
      planValue(wanted, node, at, plan);
      continue;
    }
    if (node !== undefined && !isDir(node)) {
      plan.removals.push(removal(at, node));
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
      if (!want.has(name)) plan.removals.push(removal([...path, name], node));
    }
  }
}

/**
 * The steps that remove what a snapshot showed at `path`: every value with
 * a compare, then every explicit directory once empty, deepest first. What
 * was written there since, or hidden from listings, makes a directory's
 * removal fail (a conflict) and stays.
 */
function removal(path: string[], old: Have): Removal {
  const values: Step[] = [];
  const dirs: Step[] = [];
  const visit = (node: Have, at: string[]) => {
    if (!isDir(node)) {
      values.push({
        kind: "delete",
        path: at,
        modifiedIndex: node.entry?.modifiedIndex ?? 0,
      });
      return;
    }
    for (const [name, child] of node.children) visit(child, [...at, name]);
    if (node.entry?.dir === true) {
      dirs.push({
        kind: "rmdir",
        path: at,
        modifiedIndex: node.entry.modifiedIndex,
      });
    }
  };
  visit(old, path);
  dirs.sort((a, b) => b.path.length - a.path.length);
  return { path, old, values, dirs };
}

/** Whether a stored value is the wanted one: the same text or bytes. */
function same(
  had: string | Uint8Array | undefined,
  wanted: string | Uint8Array,
): boolean {
  if (typeof had === "string" || typeof wanted === "string") {
    return had === wanted;
  }
  if (had === undefined || had.length !== wanted.length) return false;
  for (let i = 0; i < had.length; i++) if (had[i] !== wanted[i]) return false;
  return true;
}

/** How many keys the plan deletes: values and explicit directories. */
export function deletes(plan: Plan): number {
  let count = 0;
  for (const removal of plan.removals) {
    count += removal.values.length + removal.dirs.length;
  }
  return count;
}

/** The plan as a readable diff, with a summary line; safe on a terminal. */
export function describePlan(plan: Plan, subtree: Subtree): string {
  const key = (path: string[]) => showKey(subtree.keyOf(path.join("/")));
  const lines: string[] = [];
  for (const { path, old } of plan.removals) {
    const value = old.entry?.value;
    lines.push(
      isDir(old)
        ? `- ${key(path)}/ (directory with ${countValues(old)} values)`
        : `- ${key(path)} (was ${showValue(value ?? "")})`,
    );
  }
  for (const step of plan.writes) {
    if (step.kind === "mkdir") {
      lines.push(`+ ${key(step.path)}/ (empty directory)`);
    } else if (step.kind === "create") {
      lines.push(`+ ${key(step.path)} = ${showValue(step.value!)}`);
    } else {
      lines.push(
        `~ ${key(step.path)} = ${showValue(step.value!)} (was ${
          showValue(step.was ?? "")
        })`,
      );
    }
  }
  const creates = plan.writes.filter((s) => s.kind !== "update").length;
  const updates = plan.writes.length - creates;
  lines.push(
    `plan: create ${creates}, update ${updates}, delete ${
      deletes(plan)
    }, unchanged ${plan.unchanged}`,
  );
  return lines.join("\n") + "\n";
}
