// Sends one request encoded by the codec under test both ways, gRPC and
// the JSON gateway, and decodes both answers with it. For the proto tests.

import { GrpcTestClient } from "./_grpc.ts";
import type { Init, MessageType } from "../v3/_proto/message.ts";

/** Both of a member's v3 doors: gRPC (HTTP/2) and the JSON gateway. */
export class ProtoPeer implements AsyncDisposable {
  readonly grpc: GrpcTestClient;
  readonly endpoint: string;
  #token: string | undefined;

  constructor(endpoint: string) {
    this.endpoint = endpoint;
    this.grpc = new GrpcTestClient(endpoint);
  }

  /** The auth token sent with each call from now on. */
  set token(token: string | undefined) {
    this.#token = token;
    this.grpc.token = token;
  }

  /** A unary call over gRPC. */
  async grpcCall<Q extends object, A extends object>(
    method: {
      path: string;
      request: MessageType<Q>;
      response: MessageType<A>;
    },
    request: Init<Q>,
  ): Promise<A> {
    const answer = await this.grpc.unary(
      method.path,
      method.request.encode(request),
    );
    return method.response.decode(answer);
  }

  /** The same call through the gateway's JSON. */
  async gatewayCall<Q extends object, A extends object>(
    method: {
      gateway: string | undefined;
      request: MessageType<Q>;
      response: MessageType<A>;
    },
    request: Init<Q>,
  ): Promise<A> {
    const headers: Record<string, string> = {
      "content-type": "application/json",
    };
    if (this.#token !== undefined) headers.authorization = this.#token;
    const response = await fetch(this.endpoint + method.gateway, {
      method: "POST",
      headers,
      body: JSON.stringify(method.request.toJson(request)),
    });
    const text = await response.text();
    if (response.status !== 200) {
      throw new Error(`gateway ${method.gateway}: ${response.status} ${text}`);
    }
    return method.response.fromJson(JSON.parse(text));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.grpc[Symbol.asyncDispose]();
  }
}

/** A message with its header's revision and raft term left out, for comparing answers. */
export function withoutRevision<T>(message: T): T {
  return JSON.parse(
    JSON.stringify(message, (key, value) => {
      if (key === "revision" || key === "raft_term") return undefined;
      if (typeof value === "bigint") return `${value}n`;
      if (value instanceof Uint8Array) return `bytes:${value.toBase64()}`;
      return value;
    }),
  );
}
