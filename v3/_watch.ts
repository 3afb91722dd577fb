// A v3 watch: every change of a key or range, once, in revision order,
// through dropped connections, restarts, hung members and lost quorums.
// Public through v3/mod.ts.
//
// The watch opens through the client's WatchChannel (v3/_streams.ts): on
// the gateway a POST stream per watch (its WebSocket is full duplex but
// cannot carry an auth token, and a POST stream can), on gRPC the one
// Watch stream the client shares. A watch is a run of every change from
// its start revision on; when it ends or breaks, a new one starts at the
// revision after the last change delivered, so nothing is missed or
// repeated. Every request says it needs a leader, so a member that loses
// quorum ends the stream within seconds; on the gateway, one that hangs is
// noticed by a probe after a second of silence (when there is another
// member to go to); gRPC's connection notices by PING.

import { AsyncQueue } from "../_core/queue.ts";
import { backoff, milliseconds, pause, retryable } from "../_core/retry.ts";
import type { Caller } from "./_call.ts";
import { header, KeyValue, watchCancel } from "./_decode.ts";
import { InvalidAuthToken } from "./_errors.ts";
import { type KeyRange, keyRange, type Namespace } from "./_kv.ts";
import type { Bytes } from "./_keys.ts";
import {
  type Event,
  EventType,
  type Init,
  type WatchCreateRequest,
  type WatchResponse,
} from "./_proto/mod.ts";

/** Options of `watch()`. */
export interface WatchOptions extends KeyRange {
  /**
   * The first revision to report. Without it, changes from the moment the
   * watch reaches etcd on. One older than the last compaction ends the
   * watch with `Compacted` (its `compactRevision` says where history
   * starts).
   */
  startRevision?: number;
  /** Report each key as it was before the change too. */
  prevKv?: boolean;
  /** Leave out puts, or deletes. */
  filters?: readonly ("noPut" | "noDelete")[];
  /**
   * How long, in milliseconds, to keep retrying while etcd cannot be
   * reached before iteration rejects with the last error. Default: retry
   * until closed.
   */
  retryFor?: number;
  /** Told when the watch starts retrying after a failure, and recovers. */
  onState?: (state: "live" | "retrying", error?: unknown) => void;
  /** Stops the watch; iteration then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** One change. */
export interface WatchEvent {
  /** `put`: created or changed; `delete`: deleted (or its lease expired). */
  readonly type: "put" | "delete";
  /** The key after the change (for a delete: its key and revision). */
  readonly kv: KeyValue;
  /** The key before, when asked for with `prevKv` (and it existed). */
  readonly prevKv: KeyValue | undefined;
  /** The revision of the change. */
  readonly revision: number;
}

/** After this long without a word, check that the member still answers. */
const HEARTBEAT_EVERY = 1000;

/**
 * The changes of a key or range, as an async iterable, from
 * `client.watch()`. Events are fetched in the background and buffered
 * until taken. Iteration ends after `close()` (or a `break`); it rejects
 * with `Compacted` when etcd no longer has the history needed, and with
 * another error when the watch cannot go on (`PermissionDenied`, say).
 *
 * @example Usage
 * ```ts
 * import { Client } from "@etcd-tree/etcd-tree";
 *
 * async function usage(client: Client) {
 *   await using watcher = client.watch("config/", { prefix: true });
 *   for await (const event of watcher) {
 *     console.log(event.type, event.kv.key, event.revision);
 *   }
 * }
 * ```
 */
export class Watcher implements AsyncIterable<WatchEvent>, AsyncDisposable {
  readonly #caller: Caller;
  readonly #create: Init<WatchCreateRequest>;
  readonly #strip: number;
  readonly #retryFor: number;
  readonly #onState: WatchOptions["onState"];
  readonly #signal: AbortSignal | undefined;
  /** Each message's events together: whole revisions. */
  readonly #events = new AsyncQueue<WatchEvent[]>();
  readonly #sleeps = new Set<() => void>();
  #next: number | undefined;
  #closed = false;
  #retrying = false;
  /** The token was renewed since the last stream started. */
  #renewed = false;
  #stream: AbortController | undefined;
  /** The heartbeat ended the stream on purpose: start another. */
  #restart = false;
  #endpoint: string | undefined;
  #heard = performance.now();
  #fragments: Event[] = [];
  readonly #running: Promise<void>;
  readonly #beating: Promise<void>;
  readonly #onAbort = () => {
    this.#events.fail(this.#signal?.reason, true);
    void this.close();
  };

  /**
   * Starts watching. Use `client.watch()` rather than this constructor.
   *
   * @param caller How calls travel.
   * @param key The key.
   * @param options The range and the options.
   * @param namespace The client's namespace.
   */
  constructor(
    caller: Caller,
    key: Bytes,
    options: WatchOptions,
    namespace: Namespace,
  ) {
    this.#caller = caller;
    this.#strip = namespace.length;
    const create: Init<WatchCreateRequest> = keyRange(key, options, namespace);
    if (options.prevKv) create.prev_kv = true;
    const filters = options.filters ?? [];
    if (filters.length > 0) {
      create.filters = filters.map((filter) => {
        if (filter !== "noPut" && filter !== "noDelete") {
          throw new TypeError(
            `Invalid filter ${
              JSON.stringify(filter)
            }: expected "noPut" or "noDelete"`,
          );
        }
        return filter === "noPut" ? 0 : 1;
      });
    }
    // Large batches come in pieces rather than one huge message.
    create.fragment = true;
    this.#create = create;
    const start = options.startRevision;
    if (start !== undefined) {
      if (!Number.isSafeInteger(start) || start < 1) {
        throw new RangeError(
          `Invalid startRevision ${start}: expected a revision, a whole number >= 1`,
        );
      }
      this.#next = start;
    }
    this.#retryFor = milliseconds(options.retryFor ?? Infinity, "retryFor");
    this.#onState = options.onState;
    this.#signal = options.signal;
    if (this.#signal?.aborted) {
      this.#events.fail(this.#signal.reason, true);
      this.#closed = true;
      this.#running = this.#beating = Promise.resolve();
      return;
    }
    this.#signal?.addEventListener("abort", this.#onAbort);
    this.#running = this.#run();
    this.#beating = this.#heartbeat();
  }

  /**
   * The revision the watch goes on from: one past the last change
   * delivered (or past what etcd said has been sent). `0` until a watch
   * started from now has reached etcd.
   */
  get revision(): number {
    return this.#next ?? 0;
  }

  /**
   * Iterates over the changes. Leaving the loop early closes the watch.
   *
   * @returns The iterator.
   */
  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    let batch: WatchEvent[] = [];
    let at = 0;
    return {
      next: async () => {
        while (at >= batch.length) {
          const next = await this.#events.next();
          if (next.done) return next;
          batch = next.value;
          at = 0;
        }
        return { done: false, value: batch[at++]! };
      },
      return: async () => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  /**
   * Iterates over the changes as etcd sent them: each batch holds whole
   * revisions (every event of a transaction together), in order. Use it
   * or the plain iteration, not both.
   *
   * @returns The batches.
   */
  batches(): AsyncIterableIterator<WatchEvent[]> {
    const events = this.#events;
    const close = () => this.close();
    return {
      next: () => events.next(),
      return: async () => {
        await close();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /** Stops watching; iteration ends after the changes already fetched. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#signal?.removeEventListener("abort", this.#onAbort);
      this.#stream?.abort();
      for (const done of [...this.#sleeps]) done();
      this.#events.end();
    }
    await this.#running;
    await this.#beating;
  }

  /** Closes the watch, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #run(): Promise<void> {
    let failures = 0;
    let failingSince = 0;
    while (!this.#closed) {
      try {
        await this.#follow();
        failures = 0; // the stream ended cleanly: start another at once
      } catch (error) {
        if (this.#closed) break;
        if (this.#restart) {
          this.#restart = false;
          failures = 0;
          continue;
        }
        if (
          !this.#renewed && this.#caller.auth !== undefined &&
          error instanceof InvalidAuthToken
        ) {
          // A create refused for the token (gRPC's Watch stream checks it
          // at each create): renew it, once until a stream starts again,
          // and go on at once.
          this.#renewed = true;
          const stale = await this.#caller.token();
          await this.#caller.renewed(error, stale).catch(() => {});
          continue;
        }
        if (failures === 0) failingSince = performance.now();
        if (
          !retryable(error) ||
          performance.now() - failingSince >= this.#retryFor
        ) {
          this.#events.fail(error);
          this.#closed = true;
          for (const done of [...this.#sleeps]) done(); // the heartbeat's
          break;
        }
        if (!this.#retrying) {
          this.#retrying = true;
          this.#onState?.("retrying", error);
        }
        if (this.#endpoint !== undefined) {
          this.#caller.http.avoid(this.#endpoint);
        }
        await pause(backoff(failures++), this.#sleeps);
      }
    }
    this.#stream?.abort();
  }

  /** One stream, from the next revision on, until it ends or breaks. */
  async #follow(): Promise<void> {
    const controller = new AbortController();
    this.#stream = controller;
    const create: Init<WatchCreateRequest> = { ...this.#create };
    if (this.#next !== undefined) create.start_revision = this.#next;
    this.#fragments = [];
    const streams = this.#caller.streams;
    // The gateway's member, for the heartbeat; gRPC's connection PINGs
    // (and the caller moves on from a member whose stream fails).
    this.#endpoint = streams.wire === "gateway"
      ? this.#caller.http.current
      : undefined;
    for await (
      const response of streams.watch.open(create, controller.signal)
    ) {
      if (this.#closed) return;
      this.#message(response);
    }
  }

  /** One message of the stream. */
  #message(response: WatchResponse): void {
    this.#heard = performance.now();
    if (response.canceled) throw watchCancel(response, "watch");
    const head = header(response.header);
    if (response.created) {
      this.#renewed = false;
      this.#next ??= head.revision + 1;
      this.#recovered();
    }
    const events = response.events;
    if (events.length === 0) {
      // A progress message: everything up to its revision has been sent.
      if (
        !response.created && this.#next !== undefined &&
        head.revision >= this.#next
      ) {
        this.#next = head.revision + 1;
      }
      return;
    }
    if (response.fragment) {
      this.#fragments.push(...events);
      return;
    }
    const all = this.#fragments.length > 0
      ? [...this.#fragments.splice(0), ...events]
      : events;
    this.#deliver(all);
  }

  /** Queues a message's events, none before the next revision. */
  #deliver(events: Event[]): void {
    const from = this.#next ?? 0;
    let last = from - 1;
    const batch: WatchEvent[] = [];
    for (const raw of events) {
      const kv = new KeyValue(raw.kv ?? NO_KV, this.#strip);
      const revision = kv.modRevision;
      if (revision < from) continue; // delivered before a reconnect
      batch.push({
        type: raw.type === EventType.DELETE ? "delete" : "put",
        kv,
        prevKv: raw.prev_kv === undefined
          ? undefined
          : new KeyValue(raw.prev_kv, this.#strip),
        revision,
      });
      last = Math.max(last, revision);
    }
    if (batch.length > 0) this.#events.push(batch);
    if (last >= from) this.#next = last + 1;
  }

  #recovered(): void {
    if (!this.#retrying) return;
    this.#retrying = false;
    this.#onState?.("live");
  }

  /**
   * After a second of silence, asks the client's current endpoint a
   * trivial question; if another member answers (the one the stream is on
   * hangs, so the client moved on), the stream starts over there.
   */
  async #heartbeat(): Promise<void> {
    const http = this.#caller.http;
    while (!this.#closed) {
      await pause(HEARTBEAT_EVERY, this.#sleeps);
      if (this.#closed) return;
      const endpoint = this.#endpoint;
      if (
        endpoint === undefined || http.endpoints.length < 2 ||
        performance.now() - this.#heard < HEARTBEAT_EVERY
      ) {
        continue;
      }
      let answered: string | undefined;
      try {
        answered = (await http.request({
          kind: "probe",
          method: "GET",
          path: "/version",
        })).endpoint;
      } catch {
        // Nobody answers: the stream will fail and retry on its own.
      }
      this.#heard = performance.now();
      if (this.#closed) return;
      if (answered !== undefined && answered !== endpoint) {
        this.#restart = true;
        this.#stream?.abort(); // #follow rejects; #run starts anew
      }
    }
  }
}

const NO_KV = {
  key: new Uint8Array(0),
  value: new Uint8Array(0),
  create_revision: 0,
  mod_revision: 0,
  version: 0,
  lease: 0n,
} as const;
