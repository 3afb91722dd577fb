// What the dispatcher needs to know of etcd's v3 JSON gateway. Internal.

import type { Protocol } from "../_http/dispatcher.ts";
import { ClusterMismatch } from "../_http/errors.ts";
import { NoLeader, ServerTimeout, Unavailable } from "./_errors.ts";

/**
 * The v3 hooks. Every request says it needs a leader
 * (`Grpc-Metadata-Hasleader`), so a member without one fails at once
 * (`NoLeader`), before proposing anything: another member may take even a
 * write. A timeout or another unavailability may leave a write applied.
 */
export const V3_PROTOCOL: Protocol = {
  memberTrouble: (error: unknown) => {
    // An answer of another cluster (ClusterPin): not applied to ours.
    if (error instanceof NoLeader || error instanceof ClusterMismatch) {
      return "not applied";
    }
    return error instanceof Unavailable || error instanceof ServerTimeout;
  },
  contentType: "application/json",
};

/** The headers of every v3 request. */
export const V3_HEADERS: Readonly<Record<string, string>> = {
  "grpc-metadata-hasleader": "true",
};
