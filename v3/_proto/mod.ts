// etcd's v3 messages, one description for both encodings: protocol
// buffers (gRPC) and the JSON gateway's proto3 JSON. Internal.

export * from "./auth.ts";
export * from "./authpb.ts";
export * from "./cluster.ts";
export * from "./header.ts";
export * from "./kv.ts";
export * from "./lease.ts";
export * from "./maintenance.ts";
export * from "./message.ts";
export * from "./methods.ts";
export * from "./mvccpb.ts";
export * from "./watch.ts";
export { Reader, WIRE, WireError, Writer } from "./wire.ts";
