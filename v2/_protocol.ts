// What the dispatcher needs to know of etcd's v2 API. Internal.

import type { Protocol } from "../_http/dispatcher.ts";
import type { ResponseHeaders } from "../_http/transport.ts";
import { ClusterError } from "./_errors.ts";

/** The v2 hooks: cluster id header, no-leader errors, form bodies. */
export const V2_PROTOCOL: Protocol = {
  clusterOf: (headers: ResponseHeaders) =>
    headers.get("x-etcd-cluster-id") ?? undefined,
  // etcd's "no leader" and "raft internal" errors (3xx) are this member's
  // trouble: another may answer.
  memberTrouble: (error: unknown) => error instanceof ClusterError,
  contentType: "application/x-www-form-urlencoded",
};
