// Keeping a mirror in sync: follow the subtree's changes from the mirror's
// index; when history is lost, re-read and report the difference; when
// etcd stays out of reach, give up. Internal.

import { errorKind } from "../_core/kinds.ts";
import { backoff, pause, retryable } from "../_core/retry.ts";
import type { ChangeStream, Snapshot, Store, Subtree } from "../_core/store.ts";
import type { Mirror } from "./mirror.ts";

/** What the follower tells its tree. */
export interface FollowerEvents {
  /** After each change and each resync: the mirror's index moved. */
  advanced(): void;
  /** `live` or `reconnecting` (with the error), `resyncing`. */
  state(state: "live" | "reconnecting" | "resyncing", error?: unknown): void;
  /** History was lost and the subtree is re-read: the fresh read. */
  resync(snapshot: Snapshot): void;
  /** The mirror cannot be kept in sync any more. */
  failed(error: unknown): void;
}

/** Follows a subtree into a mirror until closed or failed. */
export class Follower {
  readonly #store: Store;
  readonly #subtree: Subtree;
  readonly #mirror: Mirror;
  readonly #retryFor: number;
  readonly #events: FollowerEvents;
  readonly #sleeps = new Set<() => void>();
  #stream: ChangeStream | undefined;
  #closed = false;
  #running: Promise<void> = Promise.resolve();

  constructor(
    store: Store,
    subtree: Subtree,
    mirror: Mirror,
    retryFor: number,
    events: FollowerEvents,
  ) {
    this.#store = store;
    this.#subtree = subtree;
    this.#mirror = mirror;
    this.#retryFor = retryFor;
    this.#events = events;
  }

  /** Starts following from the mirror's index + 1. */
  start(): void {
    this.#running = this.#follow();
  }

  /** Stops; resolves once the follow loop has ended. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const done of [...this.#sleeps]) done();
    await this.#stream?.close();
    await this.#running;
  }

  async #follow(): Promise<void> {
    while (!this.#closed) {
      const stream = this.#store.follow(
        this.#subtree,
        this.#mirror.index + 1,
        {
          retryFor: this.#retryFor,
          onState: (state, error) =>
            this.#events.state(
              state === "live" ? "live" : "reconnecting",
              error,
            ),
        },
      );
      this.#stream = stream;
      try {
        for await (const change of stream) {
          this.#mirror.apply(change);
          if (!change.more) this.#events.advanced();
        }
        return; // closed
      } catch (error) {
        if (this.#closed) return;
        if (errorKind(error) !== "history lost") {
          this.#events.failed(error);
          return;
        }
      } finally {
        this.#stream = undefined;
        await stream.close();
      }
      try {
        this.#events.state("resyncing");
        await this.#resync();
        this.#events.state("live");
      } catch (error) {
        if (!this.#closed) this.#events.failed(error);
        return;
      }
    }
  }

  /** Re-reads the subtree after history was lost and applies the difference. */
  async #resync(): Promise<void> {
    const started = performance.now();
    for (let failures = 0;; failures++) {
      if (this.#closed) return;
      try {
        const snapshot = await this.#store.snapshot(this.#subtree);
        if (this.#closed) return;
        this.#events.resync(snapshot);
        this.#mirror.resync(snapshot);
        this.#events.advanced();
        return;
      } catch (error) {
        if (
          !retryable(error) ||
          performance.now() - started >= this.#retryFor
        ) {
          throw error;
        }
        await pause(backoff(failures), this.#sleeps);
      }
    }
  }
}
