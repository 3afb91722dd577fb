// A hostile HTTP/2 server for the tests: it speaks just enough HTTP/2 to
// take requests, and answers whatever frames (or bytes) a test scripts.

import {
  type Frame,
  FrameReader,
  FrameType,
  FrameWriter,
  PREFACE,
} from "../_h2/frame.ts";
import { type Header, HpackDecoder, HpackEncoder } from "../_h2/hpack.ts";

/** A frame as the peer received it (payload copied). */
export interface ReceivedFrame extends Frame {
  headers?: Header[];
}

/** One accepted client connection, scripted by a test. */
export class Peer {
  readonly conn: Deno.Conn;
  readonly writer = new FrameWriter();
  readonly encoder = new HpackEncoder();
  readonly #reader = new FrameReader(1 << 24);
  readonly #decoder = new HpackDecoder();
  #prefaceSeen = false;
  #buffered = new Uint8Array(0);
  /** A header block being received. */
  #block = new Uint8Array(0);

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  /** Reads the client's preface; sends our SETTINGS (`settings` pairs). */
  async handshake(settings: [number, number][] = []): Promise<void> {
    this.writer.settings(settings);
    await this.flush();
  }

  /** Writes whatever frames were queued on `writer`. */
  async flush(): Promise<void> {
    const bytes = this.writer.take().slice();
    let at = 0;
    while (at < bytes.length) at += await this.conn.write(bytes.subarray(at));
  }

  /** Writes raw bytes. */
  async raw(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) at += await this.conn.write(bytes.subarray(at));
  }

  /** The next frame from the client (null at its end). */
  async frame(): Promise<ReceivedFrame | null> {
    for (;;) {
      if (!this.#prefaceSeen) {
        if (this.#buffered.length >= PREFACE.length) {
          this.#prefaceSeen = true;
          const rest = this.#buffered.subarray(PREFACE.length);
          const space = this.#reader.space();
          space.set(rest);
          this.#reader.filled(rest.length);
        }
      } else {
        const frame = this.#reader.next();
        if (frame) {
          const copy: ReceivedFrame = {
            ...frame,
            payload: frame.payload.slice(),
          };
          if (
            frame.type === FrameType.HEADERS ||
            frame.type === FrameType.CONTINUATION
          ) {
            const block = new Uint8Array(this.#block.length + copy.length);
            block.set(this.#block);
            block.set(copy.payload, this.#block.length);
            this.#block = block;
            if (frame.flags & 0x4) {
              copy.headers = this.#decoder.decode(block);
              this.#block = new Uint8Array(0);
            }
          }
          return copy;
        }
      }
      const space = this.#prefaceSeen
        ? this.#reader.space()
        : new Uint8Array(4096);
      const count = await this.conn.read(space).catch(() => null);
      if (count === null) return null;
      if (this.#prefaceSeen) {
        this.#reader.filled(count);
      } else {
        const joined = new Uint8Array(this.#buffered.length + count);
        joined.set(this.#buffered);
        joined.set(space.subarray(0, count), this.#buffered.length);
        this.#buffered = joined;
      }
    }
  }

  /** Reads frames until a request's END_STREAM; returns its stream id. */
  async request(): Promise<number> {
    for (;;) {
      const frame = await this.frame();
      if (frame === null) throw new Error("the client closed the connection");
      if (
        (frame.type === FrameType.HEADERS || frame.type === FrameType.DATA) &&
        frame.flags & 0x1
      ) {
        return frame.streamId;
      }
    }
  }

  /** Reads frames until one of `type` arrives (null at the end). */
  async until(type: number): Promise<ReceivedFrame | null> {
    for (;;) {
      const frame = await this.frame();
      if (frame === null || frame.type === type) return frame;
    }
  }

  /** Queues a HEADERS frame with these headers. */
  headers(stream: number, headers: Header[], endStream = false): void {
    this.writer.headers(stream, this.encoder.encode(headers), endStream, 16384);
  }

  /** Queues a gRPC answer's headers (200, application/grpc). */
  grpcHeaders(stream: number): void {
    this.headers(stream, [[":status", "200"], [
      "content-type",
      "application/grpc",
    ]]);
  }

  /** Queues one length-prefixed message as a DATA frame. */
  message(stream: number, message: Uint8Array, flag = 0): void {
    const prefix = new Uint8Array(5);
    prefix[0] = flag;
    new DataView(prefix.buffer).setUint32(1, message.length);
    this.writer.prefixedData(stream, prefix, message, false);
  }

  /** Queues trailers with this status. */
  trailers(stream: number, status = 0, message?: string): void {
    const headers: Header[] = [["grpc-status", String(status)]];
    if (message !== undefined) headers.push(["grpc-message", message]);
    this.headers(stream, headers, true);
  }
}

/** A frame header followed by `payload`, whatever it says. */
export function rawFrame(
  type: number,
  flags: number,
  stream: number,
  payload: Uint8Array,
  length = payload.length,
): Uint8Array {
  const bytes = new Uint8Array(9 + payload.length);
  bytes[0] = length >>> 16;
  bytes[1] = (length >>> 8) & 0xff;
  bytes[2] = length & 0xff;
  bytes[3] = type;
  bytes[4] = flags;
  new DataView(bytes.buffer).setUint32(5, stream);
  bytes.set(payload, 9);
  return bytes;
}

/**
 * A server on a loopback port whose every connection is given to
 * `script`; disposing it closes the listener and the connections.
 */
export function hostilePeer(
  script: (peer: Peer, index: number) => Promise<void>,
): { endpoint: string; errors: unknown[] } & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const peers: Peer[] = [];
  const runs: Promise<void>[] = [];
  const errors: unknown[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      const peer = new Peer(conn);
      peers.push(peer);
      runs.push(
        script(peer, peers.length - 1).catch((error) => {
          errors.push(error);
        }),
      );
    }
  })();
  return {
    endpoint: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    errors,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const peer of peers) {
        try {
          peer.conn.close();
        } catch {
          // Closed already.
        }
      }
      await accepting.catch(() => {});
      await Promise.all(runs);
      // The script's own assertions count.
      if (errors.length > 0) throw errors[0];
    },
  };
}
