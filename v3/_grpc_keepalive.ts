// Every lease the client keeps, refreshed on ONE gRPC LeaseKeepAlive
// stream: a refresh sends the lease's ID and takes the next answer for that
// ID. The stream is opened when first needed, reopened after it fails, and
// canceled after a while without refreshes. Internal.

import { UnexpectedResponse } from "../_http/errors.ts";
import type { BidiStream } from "./_grpc.ts";
import type { OpenBidi } from "./_grpc_watch.ts";
import {
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  METHODS,
} from "./_proto/mod.ts";
import type { KeepAliveChannel } from "./_streams.ts";

/** Options of a {@linkcode GrpcKeepAlive}. */
export interface GrpcKeepAliveOptions {
  /**
   * Milliseconds without a refresh waiting before the stream is canceled
   * (etcd keeps it open otherwise, and the connection PINGs for it).
   * Default 60000.
   */
  idleAfter?: number;
}

const DEFAULT_IDLE_AFTER = 60_000;

interface Waiter {
  resolve: (response: LeaseKeepAliveResponse) => void;
  reject: (error: unknown) => void;
}

/** One LeaseKeepAlive stream and the refreshes waiting for its answers. */
class KeepAliveStream {
  /** By lease, in the order asked (etcd answers each request in order). */
  readonly waiting = new Map<bigint, Waiter[]>();
  bidi: BidiStream | undefined;
  sending: Promise<unknown>;
  closed = false;
  /** Its connection takes no new calls: refreshes go on a new stream. */
  draining = false;
  idle: ReturnType<typeof setTimeout> | undefined;

  constructor(opening: Promise<BidiStream>) {
    this.sending = opening;
  }
}

/**
 * Lease refreshes over gRPC: one LeaseKeepAlive stream for all leases.
 * `refresh(id)` resolves with etcd's answer for that lease (TTL 0: the
 * lease is gone; the keeper decides), rejects with the stream's error when
 * it fails (the next refresh opens a new one), or with the signal's reason.
 */
export class GrpcKeepAlive implements KeepAliveChannel {
  readonly #openBidi: OpenBidi;
  readonly #idleAfter: number;
  #current: KeepAliveStream | undefined;
  #streams = 0;

  /**
   * A keep-alive channel that opens its stream when first needed.
   *
   * @param openBidi Opens the LeaseKeepAlive stream (with the token).
   * @param options When an idle stream is let go.
   */
  constructor(openBidi: OpenBidi, options: GrpcKeepAliveOptions = {}) {
    this.#openBidi = openBidi;
    this.#idleAfter = options.idleAfter ?? DEFAULT_IDLE_AFTER;
  }

  /** How many LeaseKeepAlive streams have been opened. */
  get streamsOpened(): number {
    return this.#streams;
  }

  /** Refreshes lease `id` once; see the class. */
  refresh(id: bigint, signal?: AbortSignal): Promise<LeaseKeepAliveResponse> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const stream = this.#stream();
    clearTimeout(stream.idle);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const waiters = stream.waiting.get(id);
        const at = waiters?.indexOf(waiter) ?? -1;
        if (at >= 0) waiters!.splice(at, 1);
        if (waiters?.length === 0) stream.waiting.delete(id);
        this.#idleLater(stream);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        resolve: (response) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(response);
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const waiters = stream.waiting.get(id);
      if (waiters === undefined) stream.waiting.set(id, [waiter]);
      else waiters.push(waiter);
      const bytes = LeaseKeepAliveRequest.encode({ ID: id });
      stream.sending = stream.sending.then(() => {
        if (stream.closed || stream.bidi === undefined) return;
        return stream.bidi.send(bytes);
      }).catch(() => {
        // The read loop reports the stream's failure.
      });
    });
  }

  /** Cancels the stream; waiting refreshes fail with `reason`. */
  close(reason: unknown = new DOMException("Closed", "AbortError")): void {
    const stream = this.#current;
    if (stream !== undefined) this.#fail(stream, reason);
  }

  #stream(): KeepAliveStream {
    const current = this.#current;
    if (current !== undefined && !current.closed) return current;
    // A member that stops sends GOAWAY, then lets streams finish: the
    // refreshes waiting are answered here, the next ones go elsewhere.
    const onDraining = () => {
      stream.draining = true;
      if (this.#current === stream) this.#current = undefined;
      if (stream.waiting.size === 0) this.#close(stream);
    };
    const opening = Promise.resolve().then(() =>
      this.#openBidi(METHODS.lease.keepAlive.path, { onDraining })
    );
    const stream = new KeepAliveStream(opening);
    this.#current = stream;
    this.#streams++;
    opening.then((bidi) => {
      stream.bidi = bidi;
      if (stream.closed) return bidi.cancel();
      void this.#read(stream, bidi);
    }, (error) => this.#fail(stream, error));
    return stream;
  }

  async #read(stream: KeepAliveStream, bidi: BidiStream): Promise<void> {
    let failure: unknown;
    try {
      for await (const bytes of bidi) {
        const response = LeaseKeepAliveResponse.decode(bytes);
        // The oldest refresh of that lease takes it (the answer to one that
        // was aborted goes to the next: a refresh of the same lease).
        const waiters = stream.waiting.get(response.ID);
        const waiter = waiters?.shift();
        if (waiters?.length === 0) stream.waiting.delete(response.ID);
        waiter?.resolve(response);
        this.#idleLater(stream);
      }
      failure = new UnexpectedResponse(
        `POST ${METHODS.lease.keepAlive.path}`,
        200,
        "",
        "etcd ended the LeaseKeepAlive stream",
      );
    } catch (error) {
      failure = error;
    }
    this.#fail(stream, failure);
  }

  /** With no refresh waiting, the stream goes after `idleAfter`. */
  #idleLater(stream: KeepAliveStream): void {
    if (stream.waiting.size > 0 || stream.closed) return;
    if (stream.draining) return this.#close(stream);
    clearTimeout(stream.idle);
    stream.idle = setTimeout(() => {
      if (stream.waiting.size === 0) this.#close(stream);
    }, this.#idleAfter);
    Deno.unrefTimer(Number(stream.idle));
  }

  #close(stream: KeepAliveStream): void {
    if (stream.closed) return;
    stream.closed = true;
    clearTimeout(stream.idle);
    if (this.#current === stream) this.#current = undefined;
    stream.bidi?.cancel();
  }

  #fail(stream: KeepAliveStream, error: unknown): void {
    const waiting = [...stream.waiting.values()].flat();
    stream.waiting.clear();
    this.#close(stream);
    for (const waiter of waiting) waiter.reject(error);
  }
}
