// A lease on etcd's v2 API, which has none: the keys written under it carry
// its TTL, and the lease refreshes them every third of it (a refresh, which
// watchers are not told of). Internal.

import type { Lease } from "../_core/store.ts";
import type { Client } from "./client.ts";
import { KeyNotFound } from "./errors.ts";
import { keyString } from "./keys.ts";

/** Why a lease was lost. */
export class LeaseLost extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LeaseLost";
  }
}

/** The v2 lease: a TTL shared by the keys attached to it. */
export class V2Lease implements Lease {
  readonly id: string = crypto.randomUUID();
  readonly ttl: number;
  readonly lost: Promise<Error>;
  readonly #client: Client;
  readonly #keys = new Map<string, readonly string[]>();
  readonly #controller = new AbortController();
  #resolveLost!: (error: Error) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #refreshed = performance.now();
  #ended = false;

  constructor(client: Client, ttl: number) {
    this.#client = client;
    this.ttl = ttl;
    this.lost = new Promise((resolve) => this.#resolveLost = resolve);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get active(): boolean {
    return !this.#ended && !this.#controller.signal.aborted;
  }

  /** Keeps a key written with the lease's TTL alive from now on. */
  attach(segments: readonly string[]): void {
    if (!this.active) return;
    this.#keys.set(keyString(segments), segments);
    this.#refreshed = performance.now();
    if (this.#timer === undefined) this.#schedule();
  }

  abandon(): void {
    this.#ended = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async revoke(): Promise<void> {
    if (this.#ended) return;
    this.abandon();
    await Promise.all(
      [...this.#keys.values()].map(async (segments) => {
        try {
          await this.#client.delete(segments);
        } catch (error) {
          if (!(error instanceof KeyNotFound)) throw error;
        }
      }),
    );
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.revoke();
  }

  #lose(error: Error): void {
    if (this.#controller.signal.aborted) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#controller.abort(error);
    this.#resolveLost(error);
  }

  #schedule(): void {
    this.#timer = setTimeout(() => void this.#refresh(), this.ttl * 1000 / 3);
  }

  async #refresh(): Promise<void> {
    if (!this.active) return;
    try {
      await Promise.all(
        [...this.#keys.values()].map((segments) =>
          this.#client.refresh(segments, this.ttl)
        ),
      );
      this.#refreshed = performance.now();
    } catch (error) {
      if (!this.active) return;
      if (error instanceof KeyNotFound) {
        this.#lose(
          new LeaseLost(`${error.key ?? "a key"}: it expired or was deleted`, {
            cause: error,
          }),
        );
        return;
      }
      if (performance.now() - this.#refreshed >= this.ttl * 1000) {
        this.#lose(
          new LeaseLost(
            `it could not be refreshed for its TTL of ${this.ttl} s`,
            { cause: error },
          ),
        );
        return;
      }
    }
    if (this.active) this.#schedule();
  }
}
