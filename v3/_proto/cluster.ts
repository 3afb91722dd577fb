// etcd's Cluster service: membership. Internal.

import { ResponseHeader } from "./header.ts";
import {
  bool,
  message,
  messages,
  MessageType,
  repeated,
  string,
  uint64n,
} from "./message.ts";

/** etcdserverpb.Member. */
export interface Member {
  ID: bigint;
  /** Empty while the member has not started yet. */
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

/** etcdserverpb.Member. */
export const Member: MessageType<Member> = new MessageType(
  "etcdserverpb.Member",
  {
    ID: uint64n(1),
    name: string(2),
    peerURLs: repeated(string(3)),
    clientURLs: repeated(string(4)),
    isLearner: bool(5),
  },
);

/** The answer of most membership calls: the members after it. */
export interface MembersResponse {
  header: ResponseHeader | undefined;
  members: Member[];
}

function membersResponse(name: string): MessageType<MembersResponse> {
  return new MessageType(name, {
    header: message(1, () => ResponseHeader),
    members: messages(2, () => Member),
  });
}

/** etcdserverpb.MemberAddRequest. */
export interface MemberAddRequest {
  peerURLs: string[];
  isLearner: boolean;
}

/** etcdserverpb.MemberAddRequest. */
export const MemberAddRequest: MessageType<MemberAddRequest> = new MessageType(
  "etcdserverpb.MemberAddRequest",
  {
    peerURLs: repeated(string(1)),
    isLearner: bool(2),
  },
);

/** etcdserverpb.MemberAddResponse. */
export interface MemberAddResponse {
  header: ResponseHeader | undefined;
  member: Member | undefined;
  members: Member[];
}

/** etcdserverpb.MemberAddResponse. */
export const MemberAddResponse: MessageType<MemberAddResponse> =
  new MessageType("etcdserverpb.MemberAddResponse", {
    header: message(1, () => ResponseHeader),
    member: message(2, () => Member),
    members: messages(3, () => Member),
  });

/** etcdserverpb.MemberRemoveRequest. */
export interface MemberRemoveRequest {
  ID: bigint;
}

/** etcdserverpb.MemberRemoveRequest. */
export const MemberRemoveRequest: MessageType<MemberRemoveRequest> =
  new MessageType("etcdserverpb.MemberRemoveRequest", { ID: uint64n(1) });

/** etcdserverpb.MemberRemoveResponse. */
export type MemberRemoveResponse = MembersResponse;
/** etcdserverpb.MemberRemoveResponse. */
export const MemberRemoveResponse: MessageType<MemberRemoveResponse> =
  membersResponse("etcdserverpb.MemberRemoveResponse");

/** etcdserverpb.MemberUpdateRequest. */
export interface MemberUpdateRequest {
  ID: bigint;
  peerURLs: string[];
}

/** etcdserverpb.MemberUpdateRequest. */
export const MemberUpdateRequest: MessageType<MemberUpdateRequest> =
  new MessageType("etcdserverpb.MemberUpdateRequest", {
    ID: uint64n(1),
    peerURLs: repeated(string(2)),
  });

/** etcdserverpb.MemberUpdateResponse. */
export type MemberUpdateResponse = MembersResponse;
/** etcdserverpb.MemberUpdateResponse. */
export const MemberUpdateResponse: MessageType<MemberUpdateResponse> =
  membersResponse("etcdserverpb.MemberUpdateResponse");

/** etcdserverpb.MemberListRequest. */
export interface MemberListRequest {
  linearizable: boolean;
}

/** etcdserverpb.MemberListRequest. */
export const MemberListRequest: MessageType<MemberListRequest> =
  new MessageType("etcdserverpb.MemberListRequest", {
    linearizable: bool(1),
  });

/** etcdserverpb.MemberListResponse. */
export type MemberListResponse = MembersResponse;
/** etcdserverpb.MemberListResponse. */
export const MemberListResponse: MessageType<MemberListResponse> =
  membersResponse("etcdserverpb.MemberListResponse");

/** etcdserverpb.MemberPromoteRequest. */
export interface MemberPromoteRequest {
  ID: bigint;
}

/** etcdserverpb.MemberPromoteRequest. */
export const MemberPromoteRequest: MessageType<MemberPromoteRequest> =
  new MessageType("etcdserverpb.MemberPromoteRequest", { ID: uint64n(1) });

/** etcdserverpb.MemberPromoteResponse. */
export type MemberPromoteResponse = MembersResponse;
/** etcdserverpb.MemberPromoteResponse. */
export const MemberPromoteResponse: MessageType<MemberPromoteResponse> =
  membersResponse("etcdserverpb.MemberPromoteResponse");
