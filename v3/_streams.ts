// The v3 streams as the client uses them, whatever the wire: the gateway
// (a POST stream per watch, one request per keep-alive, a streamed
// snapshot) or gRPC (one Watch stream per connection for every watch, one
// LeaseKeepAlive stream for every kept lease, Snapshot as a server stream).
// The Watcher, KeptLease and maintenance.snapshot use these; each
// transport implements them. Internal.

import type {
  Init,
  LeaseKeepAliveResponse,
  SnapshotResponse,
  WatchCreateRequest,
  WatchResponse,
} from "./_proto/mod.ts";

/**
 * The watches of one client. The gateway opens a POST stream per watch;
 * gRPC shares one bidirectional Watch stream per connection.
 */
export interface WatchChannel {
  /**
   * Opens one watch: its responses (the created one first) until `signal`
   * aborts, the watch is canceled by etcd, or the stream fails (the
   * iteration then throws; the Watcher resumes).
   */
  open(
    create: Init<WatchCreateRequest>,
    signal: AbortSignal,
  ): AsyncIterable<WatchResponse>;
}

/** The keep-alives of one client's leases. */
export interface KeepAliveChannel {
  /** Refreshes a lease once: etcd's answer (TTL 0: the lease is gone). */
  refresh(id: bigint, signal?: AbortSignal): Promise<LeaseKeepAliveResponse>;
}

/** A member's snapshot, as it comes. */
export interface SnapshotChannel {
  /** The snapshot's chunks, in order (`remaining_bytes` 0 on the last). */
  snapshot(signal?: AbortSignal): AsyncIterable<SnapshotResponse>;
}
