// etcd's Watch service: one bidirectional stream of WatchRequests (create,
// cancel, progress) and WatchResponses. Internal.

import { type Empty, empty, ResponseHeader } from "./header.ts";
import {
  bool,
  bytes,
  enumOf,
  int64,
  message,
  messages,
  MessageType,
  repeated,
  string,
} from "./message.ts";
import { Event } from "./mvccpb.ts";

/** WatchCreateRequest.FilterType: which events a watch leaves out. */
export const FilterType = { NOPUT: 0, NODELETE: 1 } as const;

/** etcdserverpb.WatchCreateRequest. */
export interface WatchCreateRequest {
  key: Uint8Array;
  range_end: Uint8Array;
  start_revision: number;
  progress_notify: boolean;
  /** `FilterType`s. */
  filters: number[];
  prev_kv: boolean;
  /** The client's ID for the watch (0: the server picks one). */
  watch_id: number;
  fragment: boolean;
}

/** etcdserverpb.WatchCreateRequest. */
export const WatchCreateRequest: MessageType<WatchCreateRequest> =
  new MessageType("etcdserverpb.WatchCreateRequest", {
    key: bytes(1),
    range_end: bytes(2),
    start_revision: int64(3),
    progress_notify: bool(4),
    filters: repeated(enumOf(5, ["NOPUT", "NODELETE"])),
    prev_kv: bool(6),
    watch_id: int64(7),
    fragment: bool(8),
  });

/** etcdserverpb.WatchCancelRequest. */
export interface WatchCancelRequest {
  watch_id: number;
}

/** etcdserverpb.WatchCancelRequest. */
export const WatchCancelRequest: MessageType<WatchCancelRequest> =
  new MessageType("etcdserverpb.WatchCancelRequest", { watch_id: int64(1) });

/** etcdserverpb.WatchProgressRequest (no fields). */
export type WatchProgressRequest = Empty;

/** etcdserverpb.WatchProgressRequest. */
export const WatchProgressRequest: MessageType<WatchProgressRequest> = empty(
  "etcdserverpb.WatchProgressRequest",
);

/** etcdserverpb.WatchRequest: one of create, cancel or progress. */
export interface WatchRequest {
  create_request: WatchCreateRequest | undefined;
  cancel_request: WatchCancelRequest | undefined;
  progress_request: WatchProgressRequest | undefined;
}

/** etcdserverpb.WatchRequest. */
export const WatchRequest: MessageType<WatchRequest> = new MessageType(
  "etcdserverpb.WatchRequest",
  {
    create_request: message(1, () => WatchCreateRequest),
    cancel_request: message(2, () => WatchCancelRequest),
    progress_request: message(3, () => WatchProgressRequest),
  },
);

/** etcdserverpb.WatchResponse. */
export interface WatchResponse {
  header: ResponseHeader | undefined;
  watch_id: number;
  created: boolean;
  canceled: boolean;
  compact_revision: number;
  cancel_reason: string;
  fragment: boolean;
  events: Event[];
}

/** etcdserverpb.WatchResponse. */
export const WatchResponse: MessageType<WatchResponse> = new MessageType(
  "etcdserverpb.WatchResponse",
  {
    header: message(1, () => ResponseHeader),
    watch_id: int64(2),
    created: bool(3),
    canceled: bool(4),
    compact_revision: int64(5),
    cancel_reason: string(6),
    fragment: bool(7),
    events: messages(11, () => Event),
  },
);
