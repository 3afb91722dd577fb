// One failover policy for every unary call, on both wires (the gateway's
// dispatcher and gRPC's GrpcPool): the call goes to the member that worked
// last; after a member failure a read goes on to the next member, a write
// only when it surely was not processed; a capped, jittered pause between
// members; one deadline over all the attempts; answers only from the
// cluster first seen. Each wire says what an attempt is and what its
// failures mean. Internal.

import { backoff } from "../_core/retry.ts";
import { ClusterMismatch, type EndpointFailure } from "./errors.ts";

/**
 * The cluster a client talks to: the first cluster id seen is pinned, and
 * an answer from another cluster is a member failure (`ClusterMismatch`),
 * never data: it was not processed by our cluster, so even a write may go
 * to the next member.
 */
export class ClusterPin {
  #id: string | bigint | undefined;
  /** Members whose answers came from the pinned cluster. */
  readonly #ours = new Set<string>();

  /** Whether a cluster is pinned. */
  get pinned(): boolean {
    return this.#id !== undefined;
  }

  /** Whether `endpoint` answered for the pinned cluster (no need to ask). */
  isOurs(endpoint: string): boolean {
    return this.#ours.has(endpoint);
  }

  /**
   * Forgets that `endpoint` answered for the pinned cluster: it failed, or
   * a new connection was made to it (another process may answer there).
   */
  forget(endpoint: string): void {
    this.#ours.delete(endpoint);
  }

  /**
   * Pins `cluster` if none is pinned yet.
   *
   * @throws {ClusterMismatch} When another cluster is pinned.
   */
  check(endpoint: string, cluster: string | bigint): void {
    const pinned = this.#id;
    if (pinned === undefined) this.#id = cluster;
    else if (pinned !== cluster) {
      this.#ours.delete(endpoint);
      // As the protocol shows it: v2's header in hex, v3's
      // header.clusterId in decimal.
      throw new ClusterMismatch(endpoint, String(pinned), String(cluster));
    }
    this.#ours.add(endpoint);
  }
}

/** A failed attempt that another member might do better. */
export interface MemberFailure {
  /** The error of the attempt. */
  readonly cause: unknown;
  /** Nothing was processed, so even a write may go to another member. */
  readonly resendable: boolean;
  /** Ask the same member again (a long poll cut short), not the next. */
  readonly again?: boolean;
}

/** One call's failover, after its first attempt failed. */
export interface Failover<T> {
  /** The members, in order (the first attempt went to `first`). */
  readonly endpoints: readonly string[];
  /** Never sent again once it may have reached a member (a write). */
  readonly once: boolean;
  /** `performance.now()` after which no attempt starts; `Infinity`: none. */
  readonly deadline: number;
  /** One attempt at `endpoint` within `left` ms (0: no limit). */
  attempt(endpoint: string, left: number): Promise<T>;
  /**
   * What a failed attempt means: a member failure, or undefined when the
   * error is the call's outcome (etcd's answer, an abort), thrown as is.
   */
  judge(error: unknown): MemberFailure | undefined;
  /** The member at `index` failed (later calls start at the next) or answered. */
  moved(index: number, failed: boolean): void;
  /** Throws when the call must stop (aborted, client closed): between members. */
  check(): void;
  /** The error of a call sent once that failed where it may have arrived. */
  onceFailure(failure: MemberFailure, failures: EndpointFailure[]): unknown;
  /** The error of a call that every member failed, or that ran out of time. */
  exhausted(failures: EndpointFailure[], timedOut: boolean): unknown;
}

/**
 * Goes on after the attempt at `endpoints[first]` failed with `error`:
 * resolves with the first answer of another member, or rejects with the
 * call's error.
 */
export async function failover<T>(
  plan: Failover<T>,
  first: number,
  error: unknown,
): Promise<T> {
  const failures: EndpointFailure[] = [];
  const { endpoints, deadline } = plan;
  const count = endpoints.length;
  for (let attempt = 0;;) {
    const failure = plan.judge(error);
    if (failure === undefined) throw error;
    if (!failure.again) {
      const index = (first + attempt) % count;
      failures.push({ endpoint: endpoints[index]!, error: failure.cause });
      plan.moved(index, true);
      if (plan.once && !failure.resendable) {
        throw plan.onceFailure(failure, failures);
      }
      if (++attempt >= count) break;
      const pause = Math.min(
        backoff(attempt - 1),
        deadline - performance.now(),
      );
      if (pause > 0) await new Promise((done) => setTimeout(done, pause));
      plan.check();
    }
    const left = deadline - performance.now();
    if (left <= 0) break;
    const next = (first + attempt) % count;
    try {
      const answer = await plan.attempt(
        endpoints[next]!,
        deadline === Infinity ? 0 : left,
      );
      plan.moved(next, false);
      return answer;
    } catch (failure) {
      error = failure;
    }
  }
  throw plan.exhausted(
    failures,
    deadline - performance.now() <= 0 && failures.length < count,
  );
}
