// A bare gRPC client for tests, on Deno's node:http2 (cleartext, prior
// knowledge): frames messages the codec under test encodes and hands back
// the answer's messages as bytes. Only for tests; not the library's
// transport.

import http2 from "node:http2";

/** The end of a call: gRPC status and message from the trailers. */
export interface GrpcStatus {
  code: number;
  message: string;
}

/** A length-prefixed gRPC message. */
export function frame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

/** A bidirectional call: write requests, read answers as they come. */
export class GrpcCall {
  readonly #stream: http2.ClientHttp2Stream;
  readonly #queue: Uint8Array[] = [];
  #waiter: (() => void) | undefined;
  #pending = new Uint8Array(0);
  #ended = false;
  /** The call's status, once it ended. */
  readonly status: Promise<GrpcStatus>;

  constructor(session: http2.ClientHttp2Session, path: string, token?: string) {
    const headers: http2.OutgoingHttpHeaders = {
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
    };
    if (token !== undefined) headers.token = token;
    this.#stream = session.request(headers, { endStream: false });
    let statusOf: GrpcStatus | undefined;
    const take = (h: http2.IncomingHttpHeaders) => {
      if (h["grpc-status"] !== undefined) {
        statusOf = {
          code: Number(h["grpc-status"]),
          message: decodeURIComponent(String(h["grpc-message"] ?? "")),
        };
      }
    };
    this.#stream.on("response", take);
    this.#stream.on("trailers", take);
    this.#stream.on("data", (chunk: Uint8Array) => this.#data(chunk));
    this.status = new Promise((resolve, reject) => {
      this.#stream.on("close", () => {
        this.#ended = true;
        this.#wake();
        resolve(statusOf ?? { code: -1, message: "no grpc-status" });
      });
      this.#stream.on("error", reject);
    });
  }

  #data(chunk: Uint8Array): void {
    const all = new Uint8Array(this.#pending.length + chunk.length);
    all.set(this.#pending);
    all.set(chunk, this.#pending.length);
    let at = 0;
    while (all.length - at >= 5) {
      const length = new DataView(all.buffer, at + 1, 4).getUint32(0);
      if (all.length - at - 5 < length) break;
      this.#queue.push(all.slice(at + 5, at + 5 + length));
      at += 5 + length;
    }
    this.#pending = all.slice(at);
    this.#wake();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  /** Sends one request message. */
  write(message: Uint8Array): void {
    this.#stream.write(frame(message));
  }

  /** Ends the requests (half-close). */
  end(): void {
    this.#stream.end();
  }

  /** The next answer message, or undefined once the call ended. */
  async read(timeout = 10_000): Promise<Uint8Array | undefined> {
    const deadline = Date.now() + timeout;
    while (this.#queue.length === 0 && !this.#ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("No gRPC message within the timeout");
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
    return this.#queue.shift();
  }

  /** Cancels the call. */
  cancel(): void {
    this.#stream.close(http2.constants.NGHTTP2_CANCEL);
  }
}

/** A cleartext HTTP/2 connection to one etcd member. */
export class GrpcTestClient implements AsyncDisposable {
  readonly #session: http2.ClientHttp2Session;
  /** The auth token to send as metadata, if any. */
  token: string | undefined;

  constructor(endpoint: string) {
    this.#session = http2.connect(endpoint);
    this.#session.on("error", () => {});
  }

  /** Starts a call (streaming or not). */
  call(path: string): GrpcCall {
    return new GrpcCall(this.#session, path, this.token);
  }

  /**
   * A unary call: the answer's message, or the gRPC status as an error.
   */
  async unary(path: string, request: Uint8Array): Promise<Uint8Array> {
    const call = this.call(path);
    call.write(request);
    call.end();
    const answer = await call.read();
    const status = await call.status;
    if (status.code !== 0 || answer === undefined) {
      throw new Error(`gRPC ${path}: code ${status.code}: ${status.message}`);
    }
    return answer;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await new Promise<void>((resolve) => this.#session.close(() => resolve()));
  }
}
