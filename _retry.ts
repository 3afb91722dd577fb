// When and how soon to try again. Internal.

import {
  ClusterError,
  ConnectionFailed,
  RequestTimeout,
  UnexpectedResponse,
  WatcherCleared,
} from "./errors.ts";

/** Backoff after a failure: first delay and cap, in milliseconds. */
const BACKOFF_FIRST = 50;
const BACKOFF_CAP = 2000;

/** Whether a failed read (or watch) is worth asking again. */
export function retryable(error: unknown): boolean {
  return error instanceof ConnectionFailed ||
    error instanceof RequestTimeout ||
    error instanceof WatcherCleared ||
    error instanceof ClusterError ||
    (error instanceof UnexpectedResponse && error.status >= 500);
}

/** The delay before attempt `failures + 1`: capped, doubling, jittered. */
export function backoff(failures: number): number {
  const ceiling = Math.min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** failures);
  return ceiling / 2 + Math.random() * ceiling / 2;
}
