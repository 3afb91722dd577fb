// yaml2etcd's plan: what to create, update and delete to make a subtree
// hold what a file says, against what a snapshot showed. Internal.

import { namesOf } from "../_core/paths.ts";
import type { Entry, Subtree } from "../_core/store.ts";
import { showKey, showValue, visible } from "./_escape.ts";
import type { Origin } from "./_origin.ts";
import { OWN_NAME } from "./_yaml.ts";

/**
 * What the file asks for: a value (text or bytes), or a directory of more,
 * named as `namesOf` names keys; a directory's empty name (`OWN_NAME`) is
 * the value of its own key, beside the keys below it (v3).
 */
export type Wanted = string | Uint8Array | Map<string, Wanted>;

/** What etcd held at a path: its entry (none for an inferred directory) and children. */
export interface Have {
  entry: Entry | undefined;
  children: Map<string, Have>;
  /**
   * A value etcd holds at a directory's own path (v3 holds both `a` and
   * `a/b`): a file sets it under the directory's empty name.
   */
  shadowed?: Entry;
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
  /** The value it had (update, delete). */
  was?: string | Uint8Array;
}

/** A key changed after the dump the file is: held back, a conflict. */
export interface Newer {
  path: string[];
  /** When etcd's value was written. */
  modifiedIndex: number;
  /** The value etcd holds. */
  now: string | Uint8Array;
  /** The file's value; none when the load would delete the key. */
  file?: string | Uint8Array;
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

/**
 * A key under the prefix that `--replace` leaves in place because a file
 * cannot name it (it is no path), as the snapshot described it.
 */
export interface Kept {
  key: string;
  why: string;
}

/** What a load will do. */
export interface Plan {
  /** Removals (replacements and changes of type), done first. */
  removals: Removal[];
  /** Creations and updates, done after. */
  writes: Step[];
  unchanged: number;
  /** With `--replace`: what stays although the file does not hold it. */
  kept: Kept[];
  /** What changed after the dump the file is, held back. */
  newer: Newer[];
  /** The dump the file is, when the plan holds back what changed since. */
  dump?: Origin;
}

/** A snapshot's entries as a tree; `undefined` when there are none. */
export function haveOf(entries: readonly Entry[]): Have | undefined {
  if (entries.length === 0) return undefined;
  const root: Have = { entry: undefined, children: new Map() };
  for (const entry of entries) {
    let node = root;
    if (entry.path !== "") {
      for (const name of namesOf(entry.path)) {
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
 * directory here, as in etcd2yaml's dump and in a tree; its value is kept
 * aside (`shadowed`), for a file that sets it.
 */
function hideShadowed(node: Have): void {
  if (node.children.size === 0) return;
  if (node.entry !== undefined && node.entry.dir !== true) {
    node.shadowed = node.entry;
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
  let count = node.shadowed === undefined ? 0 : 1;
  for (const child of node.children.values()) count += countValues(child);
  return count;
}

/**
 * Plans the load of `want` over what etcd held (`root`); `skipped` are the
 * keys under the prefix that are no paths, as the snapshot described them.
 */
export function makePlan(
  want: Wanted,
  root: Have | undefined,
  replace: boolean,
  skipped: readonly string[] = [],
): Plan {
  const plan: Plan = {
    removals: [],
    writes: [],
    unchanged: 0,
    kept: [],
    newer: [],
  };
  if (replace) {
    for (const key of skipped) plan.kept.push({ key, why: whyNoPath(key) });
  }
  if (want instanceof Map) planMap(want, root, [], plan, replace);
  else planValue(want, root, [], plan, replace); // the prefix itself
  return plan;
}

/** Why a key the snapshot left out is no path, from its description. */
export function whyNoPath(key: string): string {
  return key.startsWith("0x")
    ? "not UTF-8 text, so no name a file can hold"
    : 'PREFIX and "/" alone, so no name below PREFIX (the whole key space, PREFIX "", holds it)';
}

/** Plans a mapping of the file at `at`, over what etcd held there. */
function planMap(
  want: Map<string, Wanted>,
  node: Have | undefined,
  at: string[],
  plan: Plan,
  replace: boolean,
): void {
  if (node !== undefined && !isDir(node)) {
    if (want.has(OWN_NAME)) {
      // The value stays, as the mapping's own; keys come below it.
      node = { entry: undefined, children: new Map(), shadowed: node.entry! };
    } else {
      // A value that has to become a directory.
      plan.removals.push(removal(at, node));
      node = undefined;
    }
  }
  if (node === undefined && want.size === 0) {
    plan.writes.push({ kind: "mkdir", path: at });
  } else {
    diff(want, node, at, plan, replace);
  }
}

/**
 * Plans the value of a directory's own key (v3: `a` beside `a/b`): set
 * where the file gives one, deleted with `--replace` where it does not.
 */
function planOwn(
  wanted: Wanted | undefined,
  have: Have | undefined,
  at: string[],
  plan: Plan,
  replace: boolean,
): void {
  const had = have?.shadowed;
  if (wanted === undefined || wanted instanceof Map) {
    if (replace && had !== undefined) {
      plan.removals.push(
        removal(at, { entry: had, children: new Map() }),
      );
    }
    return;
  }
  if (had === undefined) {
    plan.writes.push({ kind: "create", path: at, value: wanted });
  } else if (same(had.value, wanted)) {
    plan.unchanged++;
  } else {
    plan.writes.push({
      kind: "update",
      path: at,
      value: wanted,
      modifiedIndex: had.modifiedIndex,
      was: had.value ?? "",
    });
  }
}

function planValue(
  wanted: string | Uint8Array,
  node: Have | undefined,
  at: string[],
  plan: Plan,
  replace: boolean,
): void {
  if (node === undefined) {
    plan.writes.push({ kind: "create", path: at, value: wanted });
    return;
  }
  const had = isDir(node) ? node.shadowed : node.entry;
  if (isDir(node)) {
    if (had === undefined) {
      plan.removals.push(removal(at, node));
      plan.writes.push({ kind: "create", path: at, value: wanted });
      return;
    }
    // v3 holds a value here and keys below it: the file sets the value,
    // and the keys below go only with --replace.
    if (replace) {
      plan.removals.push(
        removal(at, { entry: undefined, children: node.children }),
      );
    }
  }
  if (same(had?.value, wanted)) {
    plan.unchanged++;
  } else {
    plan.writes.push({
      kind: "update",
      path: at,
      value: wanted,
      modifiedIndex: had?.modifiedIndex ?? 0,
      was: had?.value ?? "",
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
  planOwn(want.get(OWN_NAME), have, path, plan, replace);
  for (const name of [...want.keys()].sort()) {
    if (name === OWN_NAME) continue;
    const wanted = want.get(name)!;
    const node = children.get(name);
    const at = [...path, name];
    if (wanted instanceof Map) planMap(wanted, node, at, plan, replace);
    else planValue(wanted, node, at, plan, replace);
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
    const value = isDir(node) ? node.shadowed : node.entry;
    if (value !== undefined) {
      values.push({
        kind: "delete",
        path: at,
        modifiedIndex: value.modifiedIndex,
        was: value.value ?? "",
      });
    }
    if (!isDir(node)) return;
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

/**
 * Holds back what the plan would write over a key changed after the dump
 * the file is (its revision, or index on v2): such a key is a
 * conflict, listed in `plan.newer`. A removal with such a key is held back
 * whole, with what the plan writes at or below its path (a value that
 * would become a directory, or the other way round).
 */
export function holdNewer(plan: Plan, dump: Origin): void {
  plan.dump = dump;
  const isNewer = (step: Step) => (step.modifiedIndex ?? 0) > dump.at;
  const held: string[][] = [];
  plan.removals = plan.removals.filter((removal) => {
    const newer = removal.values.filter(isNewer);
    for (const step of newer) {
      plan.newer.push({
        path: step.path,
        modifiedIndex: step.modifiedIndex!,
        now: step.was ?? "",
      });
    }
    if (newer.length > 0) held.push(removal.path);
    return newer.length === 0;
  });
  const under = (path: string[]) =>
    held.some((top) => top.every((name, i) => path[i] === name));
  plan.writes = plan.writes.filter((step) => {
    if (step.kind === "update" && isNewer(step)) {
      plan.newer.push({
        path: step.path,
        modifiedIndex: step.modifiedIndex!,
        now: step.was ?? "",
        file: step.value!,
      });
      return false;
    }
    return !under(step.path);
  });
  plan.newer.sort((a, b) => compareNames(a.path, b.path));
}

/** Paths in the order of their names, as a dump lists them. */
function compareNames(a: string[], b: string[]): number {
  const x = a.join("/");
  const y = b.join("/");
  return x < y ? -1 : x > y ? 1 : 0;
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
  for (const newer of plan.newer) {
    lines.push(`! ${key(newer.path)} ${describeNewer(newer, plan.dump!)}`);
  }
  for (const kept of plan.kept) {
    lines.push(`! ${keptKey(kept)} (left in place: ${kept.why})`);
  }
  const creates = plan.writes.filter((s) => s.kind !== "update").length;
  const updates = plan.writes.length - creates;
  lines.push(
    `plan: create ${creates}, update ${updates}, delete ${
      deletes(plan)
    }, unchanged ${plan.unchanged}${
      plan.newer.length > 0 ? `, conflicts ${plan.newer.length}` : ""
    }${plan.kept.length > 0 ? `, left in place ${plan.kept.length}` : ""}`,
  );
  return lines.join("\n") + "\n";
}

/** Why a key is held back, with both values; safe on a terminal. */
export function describeNewer(newer: Newer, dump: Origin): string {
  return `changed at ${dump.unit} ${newer.modifiedIndex}, after the dump (${dump.unit} ${dump.at}): etcd holds ${
    showValue(newer.now)
  }, the file ${
    newer.file === undefined
      ? "does not have it"
      : `has ${showValue(newer.file)}`
  }; not written (--force overwrites)`;
}

/** A kept key as a line shows it, safe on a terminal. */
export function keptKey(kept: Kept): string {
  return visible(kept.key);
}
