// Telling when a burst of changes is over: one timer per burst, the net
// change of each path. Internal.

import type { ChangeKind } from "./mirror.ts";

/** The net change of a burst, by path. */
export interface Burst {
  added: string[];
  updated: string[];
  deleted: string[];
}

/**
 * Collects changes until they stop for `delay` ms, or `maxDelay` ms after
 * the first of the burst, then reports their net effect once.
 */
export class Settler {
  readonly #delay: number;
  readonly #maxDelay: number;
  readonly #report: (burst: Burst) => void;
  /** The burst in progress: per path, its first and last kind. */
  #burst: Map<string, { first: ChangeKind; last: ChangeKind }> | undefined;
  #start = 0;
  #last = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    delay: number,
    maxDelay: number,
    report: (burst: Burst) => void,
  ) {
    this.#delay = delay;
    this.#maxDelay = maxDelay;
    this.#report = report;
  }

  /** Notes one change. */
  note(kind: ChangeKind, path: string): void {
    const now = performance.now();
    this.#last = now;
    let burst = this.#burst;
    if (burst === undefined) {
      burst = this.#burst = new Map();
      this.#start = now;
      this.#timer = setTimeout(this.#settle, this.#delay);
    }
    const entry = burst.get(path);
    if (entry === undefined) burst.set(path, { first: kind, last: kind });
    else entry.last = kind;
  }

  /** Drops the burst in progress; nothing more is reported. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#burst = undefined;
  }

  #settle = (): void => {
    const now = performance.now();
    const quietAt = this.#last + this.#delay;
    const latest = this.#start + this.#maxDelay;
    if (now < quietAt && now < latest) {
      this.#timer = setTimeout(this.#settle, Math.min(quietAt, latest) - now);
      return;
    }
    this.#timer = undefined;
    const burst = this.#burst;
    this.#burst = undefined;
    if (burst === undefined) return;
    const net: Burst = { added: [], updated: [], deleted: [] };
    for (const [path, { first, last }] of burst) {
      if (first === "added") {
        if (last !== "deleted") net.added.push(path);
      } else if (last === "deleted") {
        net.deleted.push(path);
      } else {
        net.updated.push(path);
      }
    }
    if (net.added.length + net.updated.length + net.deleted.length > 0) {
      this.#report(net);
    }
  };
}
