// A member's snapshot over gRPC: Maintenance/Snapshot, a server stream of
// chunks, read as they are taken (the member waits while they are not).
// Internal.

import type { ServerStream } from "./_grpc.ts";
import { METHODS, SnapshotRequest, SnapshotResponse } from "./_proto/mod.ts";
import type { SnapshotChannel } from "./_streams.ts";

/**
 * Starts a server-streaming gRPC call to `path` with the client's metadata
 * (its token): `(path, request, signal) => channel.serverStream(path,
 * request, { signal })`.
 */
export type OpenServerStream = (
  path: string,
  request: Uint8Array,
  signal: AbortSignal | undefined,
) => ServerStream | Promise<ServerStream>;

/** Snapshots over gRPC, one server stream each. */
export class GrpcSnapshot implements SnapshotChannel {
  readonly #open: OpenServerStream;

  /**
   * A snapshot channel.
   *
   * @param open Starts the Snapshot call.
   */
  constructor(open: OpenServerStream) {
    this.#open = open;
  }

  /**
   * The snapshot's chunks in order (`remaining_bytes` 0 on the last);
   * leaving the loop early cancels the call.
   */
  async *snapshot(signal?: AbortSignal): AsyncIterable<SnapshotResponse> {
    const { path } = METHODS.maintenance.snapshot;
    const stream = await this.#open(path, SnapshotRequest.encode({}), signal);
    for await (const chunk of stream) yield SnapshotResponse.decode(chunk);
  }
}
