// Every watch of a client on ONE gRPC Watch stream, as etcd means it: the
// client names each watch (`watch_id`, taken by etcd 3.4 and later), etcd's
// answers are routed by that name, a revision that etcd sends in fragments
// is handed on whole, and when the stream fails every watch on it fails
// with the error (the Watcher above resumes each at its own revision,
// which opens a new stream). Internal.
//
// Flow control: the hub stops reading the stream while more than
// `maxBuffered` bytes of answers wait unread in the watches' queues; HTTP/2
// flow control then holds etcd back (etcd keeps what it cannot send as a
// slow watcher and catches up later). A watch nobody reads thus pauses the
// other watches of the stream, rather than letting the client's memory grow
// without bound.

import { AsyncQueue } from "../_core/queue.ts";
import { ErrorCode, H2Error } from "../_h2/errors.ts";
import { UnexpectedResponse } from "../_http/errors.ts";
import type { BidiStream, GrpcCallOptions } from "./_grpc.ts";
import {
  type Event,
  type Init,
  METHODS,
  type WatchCreateRequest,
  WatchRequest,
  WatchResponse,
} from "./_proto/mod.ts";
import type { WatchChannel } from "./_streams.ts";

/**
 * Opens a bidirectional gRPC stream to `path` on the endpoint the client
 * uses now, with `options` and the client's metadata (its token):
 * `(path, options) => channel.bidi(path, { ...options, metadata })`.
 */
export type OpenBidi = (
  path: string,
  options: GrpcCallOptions,
) => BidiStream | Promise<BidiStream>;

/** Options of a {@linkcode GrpcWatchHub}. */
export interface GrpcWatchHubOptions {
  /**
   * Bytes of answers that may wait unread before the hub stops reading the
   * stream (every watch on it then waits). Default 8 MiB.
   */
  maxBuffered?: number;
}

/** etcd's watch_id of answers that are no watch's: stream-wide progress, refusals. */
const NO_WATCH = -1;
/** A progress request unanswered this long may be sent again (etcd 3.5 stays silent while a watcher catches up). */
const PROGRESS_AGAIN = 1000;
const DEFAULT_MAX_BUFFERED = 8 << 20;
/**
 * The cancel reasons that mean the stream's token is no longer good, such
 * as "rpc error: code = Unauthenticated desc = etcdserver: invalid auth
 * token" (etcd checks a Watch stream's token at each create only).
 */
const STALE_TOKEN =
  /etcdserver: (invalid auth token|revision of auth store is old)$/;

interface Queued {
  response: WatchResponse;
  size: number;
}

/** One watch on a stream. */
class HubWatch {
  readonly queue: AsyncQueue<Queued>;
  /** Events of a revision whose fragments are still coming. */
  fragments: Event[] | undefined;
  fragmentBytes = 0;
  /** Bytes of its answers queued and not yet taken. */
  queuedBytes = 0;
  /** Left by its user (signal, break), ended by etcd, or failed. */
  over = false;
  created = false;
  /** Lets go of the user's signal. */
  detach: () => void = () => {};

  constructor(
    readonly id: number,
    readonly stream: HubStream,
    onReturn: () => void,
  ) {
    this.queue = new AsyncQueue(onReturn);
  }
}

/** One Watch stream and the watches it carries. */
class HubStream {
  readonly watches = new Map<number, HubWatch>();
  /** Creates not answered yet, in the order sent (etcd answers in order). */
  readonly pending: HubWatch[] = [];
  bidi: BidiStream | undefined;
  /** Messages go out in order, each after the one before is handed over. */
  sending: Promise<unknown>;
  nextId = 1;
  closed = false;
  /** When a progress request went out and has no answer yet. */
  progressAsked: number | undefined;

  constructor(opening: Promise<BidiStream>) {
    this.sending = opening;
  }

  get empty(): boolean {
    return this.watches.size === 0;
  }
}

/**
 * The client's watches over gRPC: one Watch stream carries them all.
 *
 * `open(create, signal)` yields the watch's answers as etcd sends them
 * (the created one first; progress answers of the whole stream, watch_id
 * -1, to every watch), a revision in fragments as one answer. Iteration
 * ends after the answer by which etcd cancels the watch (compaction:
 * `compact_revision`; a refusal: `cancel_reason`), rejects with the
 * signal's reason once it aborts (a cancel request goes to etcd), and
 * rejects with the stream's error when the stream fails.
 */
export class GrpcWatchHub implements WatchChannel {
  readonly #openBidi: OpenBidi;
  readonly #maxBuffered: number;
  #current: HubStream | undefined;
  /** Bytes of answers queued and not yet taken. */
  #buffered = 0;
  #drained: Promise<void> | undefined;
  #onDrained: (() => void) | undefined;
  #streams = 0;

  /**
   * A hub that opens its stream when the first watch comes.
   *
   * @param openBidi Opens the Watch stream (with the token) when needed.
   * @param options Flow control.
   */
  constructor(openBidi: OpenBidi, options: GrpcWatchHubOptions = {}) {
    this.#openBidi = openBidi;
    this.#maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
  }

  /** How many Watch streams the hub has opened. */
  get streamsOpened(): number {
    return this.#streams;
  }

  /** Bytes of answers waiting to be read by the watches. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Opens a watch on the shared stream; see the class. */
  open(
    create: Init<WatchCreateRequest>,
    signal: AbortSignal,
  ): AsyncIterable<WatchResponse> {
    if (signal.aborted) {
      const refused = new AsyncQueue<WatchResponse>();
      refused.fail(signal.reason);
      return refused;
    }
    const stream = this.#stream();
    const watch: HubWatch = new HubWatch(
      stream.nextId++,
      stream,
      () => this.#leave(watch),
    );
    const onAbort = () => {
      watch.queue.fail(signal.reason, true);
      this.#leave(watch);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    watch.detach = () => signal.removeEventListener("abort", onAbort);
    stream.watches.set(watch.id, watch);
    stream.pending.push(watch);
    this.#send(stream, {
      create_request: { ...create, watch_id: watch.id, fragment: true },
    });
    return this.#iterator(watch);
  }

  /**
   * Asks etcd for a progress answer on the stream (watch_id -1, the
   * revision every watch has been sent up to), which reaches every watch.
   * Requests while one is unanswered are folded into it.
   */
  requestProgress(): void {
    const stream = this.#current;
    if (stream === undefined || stream.closed) return;
    const now = performance.now();
    if (
      stream.progressAsked !== undefined &&
      now - stream.progressAsked < PROGRESS_AGAIN
    ) return;
    stream.progressAsked = now;
    this.#send(stream, { progress_request: {} });
  }

  /** Cancels the stream; every watch on it fails with `reason`. */
  close(reason: unknown = new DOMException("Closed", "AbortError")): void {
    const stream = this.#current;
    this.#current = undefined;
    if (stream !== undefined) this.#fail(stream, reason);
  }

  /** The stream new watches go on, opened if need be. */
  #stream(): HubStream {
    const current = this.#current;
    if (current !== undefined && !current.closed) return current;
    // A member that stops sends GOAWAY, then waits (7 s for etcd) for the
    // streams to end: the watches move at once instead.
    const onDraining = (error: H2Error | undefined) =>
      this.#fail(
        stream,
        error ??
          new H2Error(
            "HTTP/2: the connection is going away",
            ErrorCode.NO_ERROR,
          ),
      );
    const opening = Promise.resolve().then(() =>
      this.#openBidi(METHODS.watch.watch.path, { onDraining })
    );
    const stream = new HubStream(opening);
    this.#current = stream;
    this.#streams++;
    opening.then((bidi) => {
      stream.bidi = bidi;
      if (stream.closed) return bidi.cancel();
      void this.#read(stream, bidi);
    }, (error) => this.#fail(stream, error));
    return stream;
  }

  #send(stream: HubStream, request: Init<WatchRequest>): void {
    const bytes = WatchRequest.encode(request);
    stream.sending = stream.sending.then(() => {
      if (stream.closed || stream.bidi === undefined) return;
      return stream.bidi.send(bytes);
    }).catch(() => {
      // The read loop reports the stream's failure.
    });
  }

  /** The watch's iteration, giving back queued bytes as they are taken. */
  #iterator(watch: HubWatch): AsyncIterableIterator<WatchResponse> {
    const release = (size: number) => this.#release(watch, size);
    return {
      async next(): Promise<IteratorResult<WatchResponse>> {
        const result = await watch.queue.next();
        if (result.done) return result;
        const { response, size } = result.value;
        if (!watch.over) release(size);
        return { done: false, value: response };
      },
      async return(): Promise<IteratorResult<WatchResponse>> {
        await watch.queue.return();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /** Reads the stream and routes each answer, pausing while too much waits. */
  async #read(stream: HubStream, bidi: BidiStream): Promise<void> {
    let failure: unknown;
    try {
      for await (const bytes of bidi) {
        this.#route(stream, WatchResponse.decode(bytes), bytes.length);
        if (stream.closed) return;
        while (this.#buffered > this.#maxBuffered) await this.#drain();
        if (stream.closed) return;
      }
      failure = new UnexpectedResponse(
        `POST ${METHODS.watch.watch.path}`,
        200,
        "",
        "etcd ended the Watch stream",
      );
    } catch (error) {
      failure = error;
    }
    this.#fail(stream, failure);
  }

  /** Resolves once the answers waiting unread are few enough again. */
  #drain(): Promise<void> {
    return this.#drained ??= new Promise((resolve) => {
      this.#onDrained = () => {
        this.#drained = undefined;
        resolve();
      };
    });
  }

  /** `size` bytes of the watch's answers no longer wait in its queue. */
  #release(watch: HubWatch, size: number): void {
    watch.queuedBytes -= size;
    this.#buffered -= size;
    if (this.#buffered <= this.#maxBuffered) this.#onDrained?.();
  }

  #deliver(watch: HubWatch, response: WatchResponse, size: number): void {
    if (watch.over) return;
    watch.queuedBytes += size;
    this.#buffered += size;
    watch.queue.push({ response, size });
  }

  #route(stream: HubStream, response: WatchResponse, size: number): void {
    if (response.created) return this.#created(stream, response, size);
    if (response.watch_id === NO_WATCH) {
      // Progress of the whole stream: every created watch hears it.
      stream.progressAsked = undefined;
      for (const watch of stream.watches.values()) {
        if (watch.created) this.#deliver(watch, response, 0);
      }
      return;
    }
    const watch = stream.watches.get(response.watch_id);
    if (watch === undefined) return; // left by its user: its cancel is on its way
    if (response.fragment) {
      (watch.fragments ??= []).push(...response.events);
      watch.fragmentBytes += size;
      return;
    }
    if (watch.fragments !== undefined) {
      response.events = [...watch.fragments, ...response.events];
      size += watch.fragmentBytes;
      watch.fragments = undefined;
      watch.fragmentBytes = 0;
    }
    this.#deliver(watch, response, size);
    if (!response.canceled) return;
    this.#end(watch);
    // etcd keeps a compacted watcher on the stream until told to cancel it
    // (and etcd 3.5 answers no progress request while one is there).
    if (!stream.closed) {
      this.#send(stream, { cancel_request: { watch_id: watch.id } });
    }
  }

  /** The answer to the oldest create: the watch is made, or refused. */
  #created(stream: HubStream, response: WatchResponse, size: number): void {
    const watch = stream.pending.shift();
    if (watch === undefined) return;
    if (response.watch_id !== NO_WATCH && response.watch_id !== watch.id) {
      return this.#fail(
        stream,
        new UnexpectedResponse(
          `POST ${METHODS.watch.watch.path}`,
          200,
          "",
          `etcd named watch ${watch.id} ${response.watch_id}: it does not take the client's watch_id (etcd 3.4 or later is needed)`,
        ),
      );
    }
    watch.created = true;
    if (
      response.canceled && STALE_TOKEN.test(response.cancel_reason) &&
      this.#current === stream
    ) {
      // The stream's token expired: watches made from now on go on a new
      // stream, with the token the client renews; these ones go on.
      this.#current = undefined;
    }
    this.#deliver(watch, response, size);
    if (response.canceled) this.#end(watch);
  }

  /** etcd canceled the watch: its iteration ends after what is queued. */
  #end(watch: HubWatch): void {
    if (watch.over) return;
    this.#over(watch);
    watch.queue.end();
    this.#forget(watch);
  }

  /** The user left the watch: etcd is told (unless the stream goes too). */
  #leave(watch: HubWatch): void {
    if (watch.over) return;
    this.#over(watch);
    const stream = watch.stream;
    this.#forget(watch);
    if (!stream.closed) {
      this.#send(stream, { cancel_request: { watch_id: watch.id } });
    }
  }

  /**
   * The watch takes no more answers: what it holds no longer counts
   * against the stream's reading.
   */
  #over(watch: HubWatch): void {
    watch.over = true;
    watch.detach();
    this.#release(watch, watch.queuedBytes);
  }

  /** Takes the watch off its stream; a stream no longer used is canceled. */
  #forget(watch: HubWatch): void {
    const stream = watch.stream;
    stream.watches.delete(watch.id);
    if (stream.empty) this.#close(stream);
  }

  #close(stream: HubStream): void {
    if (stream.closed) return;
    stream.closed = true;
    if (this.#current === stream) this.#current = undefined;
    stream.bidi?.cancel();
  }

  /** The stream failed: every watch on it fails with `error`. */
  #fail(stream: HubStream, error: unknown): void {
    const watches = [...stream.watches.values()];
    stream.watches.clear();
    stream.pending.length = 0;
    this.#close(stream);
    for (const watch of watches) {
      if (watch.over) continue;
      this.#over(watch);
      watch.queue.fail(error);
    }
  }
}
