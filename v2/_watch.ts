/**
 * A continuous watch: every change of a key or subtree, once, in order.
 *
 * {@linkcode Watcher} is what `client.watch()` returns: an async iterable of
 * typed results (`Set`, `Created`, `Deleted`, `Expired`, ...). It promises:
 *
 * - every change etcd reports, once, in index order, whatever connections
 *   break or servers restart meanwhile, and whatever etcd drops;
 * - changes are fetched in the background and buffered until taken, so a
 *   slow consumer does not fall out of etcd's history;
 * - hidden keys (a segment starting with `_`) are never reported by a
 *   recursive watch;
 * - a member that hangs is left for another within seconds;
 * - if etcd no longer has the changes needed (its history holds the last
 *   1000), iteration rejects with `EventIndexCleared`: never a silent gap.
 *
 * @example Usage
 * ```ts
 * import { Client } from "@etcd-tree/etcd-tree/v2";
 *
 * async function usage() {
 *   await using client = new Client();
 *   await using watcher = client.watch("config", { recursive: true });
 *   for await (const event of watcher) {
 *     console.log(event.action, event.node.key, event.node.modifiedIndex);
 *   }
 * }
 * ```
 *
 * @module
 */

import { decodeKeys, headerNumber } from "./_decode.ts";
import type { Dispatcher, HttpResponse } from "../_http/dispatcher.ts";
import { isHiddenBelow, keyPath, keyString } from "./_keys.ts";
import { backoff, milliseconds, pause, retryable } from "../_core/retry.ts";
import { ResponseHeaders } from "../_http/transport.ts";
import { EventIndexCleared } from "./_errors.ts";
import { AsyncQueue } from "../_core/queue.ts";
import type { EtcdResult } from "./_results.ts";

// How it keeps every event, fast:
//
// - A `stream=true` watch, registered "from now", carries the changes: one
//   line each, no request per change, so it keeps up with the fastest
//   writers. etcd registers it live, so it is a gapless run of every change
//   after its `X-Etcd-Index`; the watcher reads it continuously and buffers,
//   so etcd's 100-event buffer per watcher does not fill.
// - Long-polls ("the first change at index `n` or later") fill the gap
//   between the next index to deliver and where the stream starts: after
//   `waitIndex` in the past, a reconnect or a restart. While they answer
//   from history, a window of polls for `n`, `n + 1`, ... is kept open at
//   once, so catching up is not one change per round trip.
// - A stream can still be dropped by etcd without a word (it falls behind
//   when etcd is starved). A check long-poll at the next index, renewed at
//   most every CHECK_EVERY ms, shows a change the stream must also deliver;
//   if the stream then makes no progress for STREAM_GRACE ms a new one is
//   opened and polls catch up from the last change delivered. The old
//   stream is read on until then: if it was only slow, it goes on
//   delivering (a stream never skips a change), so a false alarm costs
//   little and the alarm can be quick, which keeps the gap to catch up small.
// - Changes are delivered in index order and at most once, whichever path
//   brings them.
// - Dropped connections and restarts are retried from the same index with
//   capped, jittered backoff, quietly.

/** Options of `client.watch()`. */
export interface WatchOptions {
  /** Report changes anywhere below the key, not only of the key itself. */
  recursive?: boolean;
  /**
   * The first index to report. Without it, changes from the moment of the
   * call on are reported. An index older than etcd's 1000-event history
   * makes the watcher throw `EventIndexCleared`.
   */
  waitIndex?: number;
  /**
   * How long, in milliseconds, the watcher keeps retrying while it cannot
   * reach etcd (or etcd cannot serve it) before iteration rejects with the
   * last error. Default: retry until closed.
   */
  retryFor?: number;
  /**
   * Told when the watcher starts retrying after a failure (`"retrying"`,
   * with the error) and when it works again (`"live"`).
   */
  onState?: (state: "live" | "retrying", error?: unknown) => void;
  /** Stops the watcher; iteration then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** What one long-poll for index `n` learned. */
type Outcome =
  /** The first matching change at `n` or later; `past` if etcd had it already. */
  | { event: EtcdResult; past: boolean }
  /** No matching change from `n` up to `to - 1`. */
  | { to: number };

interface Poll {
  readonly controller: AbortController;
  readonly outcome: Promise<Outcome>;
}

/** A `stream=true` watch: a gapless run of changes from `since` on. */
interface Stream {
  readonly controller: AbortController;
  /** The first index it covers: its `X-Etcd-Index + 1` once registered. */
  since: number;
  /** Settles when etcd has registered it. */
  readonly registered: Promise<void>;
  /** Polls have caught up to `since`: its changes go straight out. */
  live: boolean;
  /** The index of the last change it delivered (0 for none). */
  last: number;
  /** The answer's headers, for the results it delivers. */
  headers: ResponseHeaders;
  /** Changes that came before polls caught up to `since`. */
  readonly pending: EtcdResult[];
}

/** Most long-polls one watcher keeps open at once, when catching up. */
const MAX_WINDOW = 64;

/**
 * The catch-up long-polls by index: a window of them from the next index
 * on, wider while etcd answers from history, narrower once it answers live.
 */
class PollWindow {
  readonly #polls = new Map<number, Poll>();
  readonly #open: (index: number) => Poll;
  #size = 1;

  constructor(open: (index: number) => Poll) {
    this.#open = open;
  }

  /** How many polls the window holds. */
  get size(): number {
    return this.#size;
  }

  /** The poll for `index` (after `fill`). */
  get(index: number): Poll | undefined {
    return this.#polls.get(index);
  }

  /** Opens the polls of the window from `next` on that are not open yet. */
  fill(next: number): void {
    for (let index = next; index < next + this.#size; index++) {
      if (!this.#polls.has(index)) this.#polls.set(index, this.#open(index));
    }
  }

  /** Aborts the polls for `end` and above. */
  shrink(end: number): void {
    for (const [index, poll] of this.#polls) {
      if (index >= end) {
        poll.controller.abort();
        this.#polls.delete(index);
      }
    }
  }

  /** Aborts the polls below `next`. */
  dropBelow(next: number): void {
    for (const [index, poll] of this.#polls) {
      if (index < next) {
        poll.controller.abort();
        this.#polls.delete(index);
      }
    }
  }

  /** Forgets the poll for `index`, which has answered. */
  answered(index: number): void {
    this.#polls.delete(index);
  }

  /** Answered from history: more is waiting, open more at once. */
  widen(): void {
    this.#size = Math.min(MAX_WINDOW, this.#size * 2);
  }

  /** Answered live: caught up, fewer are enough. */
  narrow(): void {
    this.#size = Math.max(1, this.#size >> 1);
  }

  /** Aborts every poll and starts again with one. */
  reset(): void {
    this.shrink(0);
    this.#size = 1;
  }
}
/** Least time between two checks that a live stream still delivers. */
const CHECK_EVERY = 5;
/** How long a stream may show no progress before it counts as dropped. */
const STREAM_GRACE = 5;
/**
 * After this long without a word from etcd, check that the member the
 * watcher's connections are on still answers (a hung member never closes
 * them).
 */
const HEARTBEAT_EVERY = 1000;

const CHANGED = Symbol("changed");
const NO_HEADERS = new ResponseHeaders();

/**
 * The changes of a key or subtree, as an async iterable, from
 * `client.watch()`.
 *
 * Every change etcd reports is yielded once, in index order. Changes are
 * fetched in the background as they happen and buffered until the loop
 * takes them, so a slow consumer does not make the watcher fall out of
 * etcd's history. Iteration ends after {@linkcode Watcher.close} (or a
 * `break`, which closes the watcher); it rejects with
 * `EventIndexCleared` when etcd no longer has the changes the watcher needs,
 * and with another error when the watch cannot go on (for example
 * `V2Disabled`). Connection problems are retried quietly, without end,
 * until the watcher is closed or its signal aborts.
 *
 * Hidden keys (a segment starting with `_` below the watched key) are not
 * reported by a recursive watcher, as etcd intends.
 *
 * @example Usage
 * ```ts
 * import { Client, Deleted, EventIndexCleared } from "@etcd-tree/etcd-tree/v2";
 *
 * async function usage() {
 *   await using client = new Client();
 *   const { etcdIndex } = await client.get("jobs", { recursive: true });
 *   const watcher = client.watch("jobs", { recursive: true, waitIndex: etcdIndex + 1 });
 *   try {
 *     for await (const event of watcher) {
 *       if (event instanceof Deleted) console.log("gone:", event.node.key);
 *     }
 *   } catch (error) {
 *     if (!(error instanceof EventIndexCleared)) throw error;
 *     // Read "jobs" again and watch from that read's etcdIndex + 1.
 *   }
 * }
 * ```
 */
export class Watcher implements AsyncIterable<EtcdResult>, AsyncDisposable {
  /** The watched key, such as `"/config"`. */
  readonly key: string;
  /** Whether changes below the key are reported. */
  readonly recursive: boolean;
  readonly #http: Dispatcher;
  readonly #path: string;
  readonly #signal: AbortSignal | undefined;
  readonly #retryFor: number;
  readonly #onState: WatchOptions["onState"];
  #retrying = false;
  #next: number | undefined;
  readonly #polls: PollWindow = new PollWindow((index) => this.#poll(index));
  /** The poll that checks a live stream, with the index it was opened at. */
  #check: { index: number; poll: Poll } | undefined;
  #stream: Stream | undefined;
  /**
   * A stream that seemed dropped, read on until its replacement is live: it
   * may only have been slow.
   */
  #outgoing: Stream | undefined;
  /** No new stream before this time (`performance.now()`). */
  #streamAfter = 0;
  #streamFailures = 0;
  /** What the consumer takes. */
  readonly #events = new AsyncQueue<EtcdResult>();
  #closed = false;
  #change: { promise: Promise<typeof CHANGED>; resolve: () => void };
  /** Pending sleeps, each ended early by `close()`. */
  readonly #sleeps = new Set<() => void>();
  readonly #running: Promise<void>;
  /** Requests not yet settled, so that `close()` leaves none behind. */
  readonly #requests = new Set<Promise<unknown>>();
  readonly #onAbort = () => {
    this.#events.fail(this.#signal?.reason, true);
    void this.close();
  };
  /** The endpoint the watcher's connections were opened on. */
  #endpoint: string | undefined;
  /** When etcd last told the watcher something (`performance.now()`). */
  #heard = performance.now();

  /**
   * Starts watching. Use `client.watch()` rather than this constructor.
   *
   * @param http The client's transport.
   * @param segments The key's checked segments.
   * @param options Recursive, the first index, and a signal.
   */
  constructor(
    http: Dispatcher,
    segments: readonly string[],
    options: WatchOptions,
  ) {
    this.#http = http;
    this.key = keyString(segments);
    this.recursive = options.recursive === true;
    this.#path = "/v2/keys" + keyPath(segments) + "?wait=true" +
      (this.recursive ? "&recursive=true" : "");
    this.#next = options.waitIndex;
    this.#signal = options.signal;
    this.#retryFor = milliseconds(options.retryFor ?? Infinity, "retryFor");
    this.#onState = options.onState;
    if (this.#signal?.aborted) this.#events.fail(this.#signal.reason, true);
    this.#signal?.addEventListener("abort", this.#onAbort);
    this.#change = changeSignal();
    this.#running = this.#signal?.aborted ? Promise.resolve() : this.#run();
    if (!this.#signal?.aborted) this.#track(this.#heartbeat());
  }

  /**
   * The index the watcher goes on from: one past the last change it has
   * fetched, or past what it knows did not match. `0` until a watcher
   * started without `waitIndex` has reached etcd.
   */
  get index(): number {
    return this.#next ?? 0;
  }

  /**
   * Iterates over the changes. Leaving the loop early closes the watcher.
   *
   * @returns The iterator.
   */
  [Symbol.asyncIterator](): AsyncIterator<EtcdResult> {
    return {
      next: () => this.#events.next(),
      return: async () => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  /**
   * Stops watching and releases every connection; iteration ends after the
   * changes already fetched.
   *
   * @example Usage
   * ```ts
   * import { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client();
   *   const watcher = client.watch("a");
   *   setTimeout(() => watcher.close(), 1000);
   *   for await (const event of watcher) console.log(event.node.key);
   * }
   * ```
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#signal?.removeEventListener("abort", this.#onAbort);
      this.#polls.shrink(0);
      this.#dropCheck();
      this.#dropStream();
      this.#changed();
      for (const done of [...this.#sleeps]) done();
      this.#events.end();
    }
    await this.#running;
    while (this.#requests.size > 0) {
      await Promise.allSettled([...this.#requests]);
    }
  }

  /**
   * Closes the watcher, for `await using`.
   *
   * @example Usage
   * ```ts
   * import { Client } from "@etcd-tree/etcd-tree/v2";
   *
   * async function usage() {
   *   await using client = new Client();
   *   {
   *     await using watcher = client.watch("a");
   *   } // closed here
   * }
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #run(): Promise<void> {
    let failures = 0;
    /** When the current run of failures began (`performance.now()`). */
    let failingSince = 0;
    while (!this.#closed) {
      const change = this.#change.promise;
      try {
        if (
          this.#stream === undefined &&
          performance.now() >= this.#streamAfter
        ) {
          const stream = this.#openStream();
          if (this.#next === undefined) {
            // From now on: the stream tells which index "now" is.
            await stream.registered;
            if (this.#next === undefined && stream.since !== Infinity) {
              this.#moveTo(stream.since);
            }
            continue;
          }
        }
        if (this.#next === undefined) {
          await this.#pause(Math.max(0, this.#streamAfter - performance.now()));
          continue;
        }
        if (this.#stream?.live) {
          // Changes arrive on the stream; now and then check it still does.
          this.#polls.shrink(0);
          this.#check ??= { index: this.#next, poll: this.#poll(this.#next) };
          const { index } = this.#check;
          let outcome: Outcome | typeof CHANGED;
          try {
            outcome = await Promise.race([this.#check.poll.outcome, change]);
          } catch (error) {
            // A check that reached etcd late may find its index gone from
            // history; while the stream delivers, that loses nothing.
            if (
              error instanceof EventIndexCleared && this.#stream?.live &&
              this.#next > index
            ) {
              this.#check = undefined;
              continue;
            }
            throw error;
          }
          if (outcome === CHANGED) continue;
          this.#check = undefined;
          failures = 0;
          this.#recovered();
          if ("to" in outcome) {
            this.#moveTo(Math.max(this.#next, outcome.to));
            continue;
          }
          // The first change at `index` or later: safe to deliver.
          const { event } = outcome;
          if (index <= this.#next) this.#deliver(event);
          // The stream never carries hidden keys; other changes it must.
          if (!isHiddenBelow(this.key, event.node.key)) {
            await this.#confirmStream(event.node.modifiedIndex);
          }
          await this.#pause(CHECK_EVERY, change);
          continue;
        }
        // Catching up with long-polls, a window of them at a time.
        this.#dropCheck();
        const next = this.#next;
        this.#polls.fill(next);
        const waits: Promise<Outcome | typeof CHANGED>[] = [
          this.#polls.get(next)!.outcome,
          change,
        ];
        if (this.#stream === undefined) {
          // Wake up when it is time to try a stream again.
          const wait = Math.max(0, this.#streamAfter - performance.now());
          waits.push(this.#pause(wait, change).then(() => CHANGED));
        }
        const outcome = await Promise.race(waits);
        if (outcome === CHANGED || next !== this.#next) continue;
        failures = 0;
        this.#recovered();
        this.#apply(outcome);
      } catch (error) {
        if (this.#closed) break;
        if (isAbort(error)) continue; // a poll given up on purpose
        if (failures === 0) failingSince = performance.now();
        if (
          !retryable(error) ||
          performance.now() - failingSince >= this.#retryFor
        ) {
          this.#fail(error);
          break;
        }
        if (!this.#retrying) {
          this.#retrying = true;
          this.#onState?.("retrying", error);
        }
        // Start over from the same index.
        this.#polls.reset();
        this.#dropCheck();
        this.#dropStream();
        await this.#pause(backoff(failures++));
      }
    }
  }

  /** Whether the watcher is retrying after a failure. */
  get retrying(): boolean {
    return this.#retrying;
  }

  #recovered(): void {
    if (!this.#retrying) return;
    this.#retrying = false;
    this.#onState?.("live");
  }

  #fail(error: unknown): void {
    this.#closed = true;
    this.#polls.shrink(0);
    this.#dropCheck();
    this.#dropStream();
    this.#events.fail(error);
  }

  /** Wakes `#run` from waiting on a poll: the stream changed state. */
  #changed(): void {
    const { resolve } = this.#change;
    this.#change = changeSignal();
    resolve();
  }

  /** Queues a change for the consumer and moves past it. */
  #deliver(event: EtcdResult): void {
    this.#heard = performance.now();
    const index = event.node.modifiedIndex;
    if (this.#next === undefined || index < this.#next) return;
    if (!(this.recursive && isHiddenBelow(this.key, event.node.key))) {
      this.#events.push(event);
    }
    this.#moveTo(index + 1);
  }

  /** Takes in what the poll for the next index learned. */
  #apply(outcome: Outcome): void {
    this.#heard = performance.now();
    if ("to" in outcome) {
      const next = this.#next!;
      this.#polls.answered(next);
      this.#moveTo(Math.max(next, outcome.to));
      return;
    }
    if (outcome.past) this.#polls.widen();
    else this.#polls.narrow();
    this.#deliver(outcome.event);
  }

  /** Moves the next index on, dropping polls for indices below it. */
  #moveTo(next: number): void {
    this.#polls.dropBelow(next);
    this.#next = next;
    this.#polls.shrink(next + this.#polls.size);
    const stream = this.#stream;
    if (stream && !stream.live && next >= stream.since) {
      // Caught up with the stream: it delivers from here on.
      stream.live = true;
      this.#streamFailures = 0;
      this.#dropOutgoing();
      for (const event of stream.pending.splice(0)) this.#deliver(event);
      this.#changed();
    }
  }

  #dropCheck(): void {
    this.#check?.poll.controller.abort();
    this.#check = undefined;
  }

  /**
   * Goes on without the current stream. `keepReading`: it seems dropped but
   * may only be slow, so it is read on until its replacement is live.
   */
  #dropStream(keepReading = false): void {
    this.#dropOutgoing();
    const stream = this.#stream;
    if (stream === undefined) return;
    if (keepReading) this.#outgoing = stream;
    else stream.controller.abort();
    this.#stream = undefined;
    // Whatever `#run` waits on, it must now go on without the stream.
    this.#changed();
  }

  #dropOutgoing(): void {
    this.#outgoing?.controller.abort();
    this.#outgoing = undefined;
  }

  /**
   * Waits until the live stream has delivered `index`. A stream that makes
   * no progress for a while has most likely been dropped by etcd (it fell
   * behind): a new one replaces it and polls catch up, while the old one is
   * read on in case it was only slow.
   */
  async #confirmStream(index: number): Promise<void> {
    let seen = this.#stream?.last ?? 0;
    let quietSince = performance.now();
    while (this.#stream?.live && this.#stream.last < index && !this.#closed) {
      const last = this.#stream.last;
      if (last > seen) {
        seen = last;
        quietSince = performance.now();
      } else if (performance.now() - quietSince >= STREAM_GRACE) {
        this.#dropStream(true);
        this.#streamAfter = 0;
        return;
      }
      await this.#pause(5);
    }
  }

  /**
   * Opens a `stream=true` watch from now on. Its changes are held back until
   * polls have caught up to where it starts; from then on it is live.
   */
  #openStream(): Stream {
    this.#endpoint = this.#http.current;
    const controller = new AbortController();
    let onRegistered!: () => void;
    const stream: Stream = {
      controller,
      since: Infinity,
      registered: new Promise((resolve) => onRegistered = resolve),
      live: false,
      last: 0,
      headers: NO_HEADERS,
      pending: [],
    };
    stream.registered.catch(() => {});
    this.#stream = stream;
    const request = { method: "GET" as const, path: this.#path };
    this.#track(
      this.#http.request({
        // A stream: sent again elsewhere it would start "from now" there,
        // and skip what came in between; the watcher opens a new one itself.
        kind: "stream",
        method: "GET",
        path: `${this.#path}&stream=true`,
        signal: controller.signal,
        onHeaders: (headers) => {
          this.#recovered(); // etcd answers again
          stream.headers = headers;
          // Registered live: every change after this index comes, in order.
          stream.since = headerNumber(headers, "x-etcd-index") + 1;
          onRegistered();
          if (this.#stream === stream && this.#next !== undefined) {
            this.#moveTo(this.#next);
          }
        },
        onLine: (line) => {
          const outgoing = this.#outgoing === stream;
          if (this.#stream !== stream && !outgoing) return;
          const event = decodeKeys(request, {
            status: 200,
            headers: stream.headers,
            text: line,
            endpoint: "",
          });
          stream.last = event.node.modifiedIndex;
          this.#heard = performance.now();
          // A stream never skips a change, so whatever the outgoing one
          // still brings is the next change or one already delivered.
          if (stream.live || outgoing) this.#deliver(event);
          else stream.pending.push(event);
        },
      }).then((response) => {
        if (response.status !== 200) {
          decodeKeys(request, response); // throws etcd's error
        }
        // Ended: go on without it (dropping it wakes `#run`).
        if (this.#stream === stream) this.#dropStream();
        if (this.#outgoing === stream) this.#outgoing = undefined;
      }).catch((error) => {
        if (controller.signal.aborted || this.#closed) return; // dropped
        if (this.#outgoing === stream) {
          // Its replacement carries on.
          this.#outgoing = undefined;
          return;
        }
        if (this.#stream === stream) this.#dropStream();
        if (!retryable(error)) {
          this.#fail(error);
          return;
        }
        if (!this.#retrying) {
          this.#retrying = true;
          this.#onState?.("retrying", error);
        }
        // The server is gone or restarting: the polls' connections likely
        // are too, so send them again as well.
        this.#polls.shrink(0);
        this.#dropCheck();
        this.#streamAfter = performance.now() +
          backoff(this.#streamFailures++);
        this.#changed();
      }).finally(onRegistered),
    );
    return stream;
  }

  #track(request: Promise<unknown>): void {
    this.#requests.add(request);
    const untrack = () => this.#requests.delete(request);
    request.then(untrack, untrack);
  }

  /**
   * Now and then, when etcd has been silent, asks the client's current
   * endpoint a trivial question. If the answer does not come from the
   * member the watcher's connections are on (that member hangs, so the
   * client moved on), the connections start over where the client is now.
   */
  async #heartbeat(): Promise<void> {
    while (!this.#closed) {
      await this.#pause(HEARTBEAT_EVERY);
      if (this.#closed) return;
      const endpoint = this.#endpoint;
      // With one endpoint there is nowhere else to go: no need to ask.
      if (
        endpoint === undefined || this.#http.endpoints.length < 2 ||
        performance.now() - this.#heard < HEARTBEAT_EVERY
      ) {
        continue;
      }
      let answered: string | undefined;
      try {
        answered = (await this.#http.request({
          kind: "probe",
          method: "GET",
          path: "/version",
        })).endpoint;
      } catch {
        // Nobody answers: the connections will fail and retry on their own.
      }
      if (this.#closed) return;
      if (answered === undefined || answered === endpoint) {
        this.#heard = performance.now();
        continue;
      }
      this.#heard = performance.now();
      this.#polls.reset();
      this.#dropCheck();
      this.#dropStream();
    }
  }

  /** One long-poll for the first matching change at `index` or later. */
  #poll(index: number): Poll {
    this.#endpoint = this.#http.current;
    const controller = new AbortController();
    let start = 0;
    const response = this.#http.request({
      kind: "poll",
      method: "GET",
      path: `${this.#path}&waitIndex=${index}`,
      signal: controller.signal,
      onHeaders: (headers) => {
        this.#recovered(); // etcd answers again
        start = headerNumber(headers, "x-etcd-index");
      },
    });
    this.#track(response);
    const outcome = response.then((response: HttpResponse): Outcome => {
      if (response.status === 200 && response.text === "") {
        // Ended without an event: nothing matched up to where it started.
        return { to: start + 1 };
      }
      const event = decodeKeys({ method: "GET", path: this.#path }, response);
      return { event, past: event.node.modifiedIndex <= start };
    });
    // Polls that are dropped are never awaited: keep them from being
    // reported as unhandled.
    outcome.catch(() => {});
    return { controller, outcome };
  }

  /** Sleeps, until `ms` pass, the watcher closes, or `change` settles. */
  #pause(ms: number, change?: Promise<unknown>): Promise<void> {
    return pause(ms, this.#sleeps, change);
  }
}

function changeSignal(): {
  promise: Promise<typeof CHANGED>;
  resolve: () => void;
} {
  let resolve!: () => void;
  const promise = new Promise<typeof CHANGED>((done) => {
    resolve = () => done(CHANGED);
  });
  return { promise, resolve };
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}
