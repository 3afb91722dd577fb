// The HTTP/2 framer (RFC 9113 section 4 and 6): frames parsed out of one
// read buffer as views, without a copy, each checked for what its type
// requires; frames serialized into one write buffer that the connection
// sends in one socket write. Internal.

import { connectionError, ErrorCode } from "./errors.ts";

/** Frame types. */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Frame flags. */
export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** Setting identifiers. */
export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** What a client sends first (RFC 9113 section 3.4). */
export const PREFACE: Uint8Array = new TextEncoder().encode(
  "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
);

/** The frame size every peer accepts (and the least it may announce). */
export const DEFAULT_MAX_FRAME_SIZE = 16384;
/** The largest frame size a peer may announce. */
export const MAX_MAX_FRAME_SIZE = 16777215;
/** A window may not exceed this. */
export const MAX_WINDOW = 0x7fffffff;

const HEADER_LENGTH = 9;
const TYPE_NAMES = Object.keys(FrameType);

/** The name of a frame type, such as `"DATA"`. */
export function frameTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `frame type 0x${type.toString(16)}`;
}

/**
 * One frame. The reader reuses one object: its `payload` is a view of the
 * read buffer, valid until the reader is asked for more room.
 */
export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  /** The payload without padding (and, for HEADERS, without priority). */
  payload: Uint8Array;
  /** The frame's whole payload length, which flow control counts. */
  length: number;
}

/** Parses frames out of the bytes read from the connection. */
export class FrameReader {
  /**
   * The largest frame accepted: what we announced as
   * SETTINGS_MAX_FRAME_SIZE.
   */
  maxFrameSize: number;
  #buffer: Uint8Array;
  #start = 0;
  #end = 0;
  readonly #frame: Frame = {
    type: 0,
    flags: 0,
    streamId: 0,
    payload: new Uint8Array(0),
    length: 0,
  };

  /**
   * @param maxFrameSize What we announce as SETTINGS_MAX_FRAME_SIZE.
   * @param bufferSize The read buffer's initial size.
   */
  constructor(maxFrameSize = DEFAULT_MAX_FRAME_SIZE, bufferSize = 65536) {
    this.maxFrameSize = maxFrameSize;
    this.#buffer = new Uint8Array(
      Math.max(bufferSize, maxFrameSize + HEADER_LENGTH),
    );
  }

  /**
   * Room to read into, at the buffer's end; earlier frames' payloads are
   * invalid after this.
   */
  space(): Uint8Array {
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
    } else if (this.#buffer.length - this.#end < this.#buffer.length / 4) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    return this.#buffer.subarray(this.#end);
  }

  /** Counts `count` bytes read into {@linkcode FrameReader.space}. */
  filled(count: number): void {
    this.#end += count;
  }

  /**
   * The next complete frame, checked; `undefined` until one has arrived.
   *
   * @throws {H2Error} FRAME_SIZE_ERROR or PROTOCOL_ERROR, connection errors.
   */
  next(): Frame | undefined {
    const available = this.#end - this.#start;
    if (available < HEADER_LENGTH) return undefined;
    const buffer = this.#buffer;
    const at = this.#start;
    const length = (buffer[at]! << 16) | (buffer[at + 1]! << 8) |
      buffer[at + 2]!;
    if (length > this.maxFrameSize) {
      throw connectionError(
        ErrorCode.FRAME_SIZE_ERROR,
        `a ${
          frameTypeName(buffer[at + 3]!)
        } frame of ${length} bytes, over the ${this.maxFrameSize} announced (SETTINGS_MAX_FRAME_SIZE)`,
      );
    }
    if (available < HEADER_LENGTH + length) return undefined;
    const frame = this.#frame;
    frame.type = buffer[at + 3]!;
    frame.flags = buffer[at + 4]!;
    frame.streamId = ((buffer[at + 5]! & 0x7f) << 24 | buffer[at + 6]! << 16 |
      buffer[at + 7]! << 8 | buffer[at + 8]!) >>> 0;
    frame.length = length;
    frame.payload = buffer.subarray(
      at + HEADER_LENGTH,
      at + HEADER_LENGTH + length,
    );
    this.#start += HEADER_LENGTH + length;
    checkFrame(frame);
    return frame;
  }
}

function protocol(detail: string) {
  return connectionError(ErrorCode.PROTOCOL_ERROR, detail);
}

function frameSize(frame: Frame, expected: string) {
  return connectionError(
    ErrorCode.FRAME_SIZE_ERROR,
    `a ${
      frameTypeName(frame.type)
    } frame of ${frame.length} bytes (expected ${expected})`,
  );
}

/** Checks what a frame's type requires; strips padding and priority. */
function checkFrame(frame: Frame): void {
  const { type, streamId, length } = frame;
  switch (type) {
    case FrameType.DATA:
    case FrameType.HEADERS:
      if (streamId === 0) {
        throw protocol(`a ${frameTypeName(type)} frame on stream 0`);
      }
      if (frame.flags & Flag.PADDED) unpad(frame);
      if (type === FrameType.HEADERS && frame.flags & Flag.PRIORITY) {
        if (frame.payload.length < 5) {
          throw frameSize(frame, "5 bytes of priority at least");
        }
        frame.payload = frame.payload.subarray(5);
      }
      return;
    case FrameType.PRIORITY:
      if (streamId === 0) throw protocol("a PRIORITY frame on stream 0");
      if (length !== 5) throw frameSize(frame, "5");
      return;
    case FrameType.RST_STREAM:
      if (streamId === 0) throw protocol("a RST_STREAM frame on stream 0");
      if (length !== 4) throw frameSize(frame, "4");
      return;
    case FrameType.SETTINGS:
      if (streamId !== 0) {
        throw protocol(`a SETTINGS frame on stream ${streamId}`);
      }
      if (frame.flags & Flag.ACK && length !== 0) {
        throw frameSize(frame, "0 with ACK");
      }
      if (length % 6 !== 0) throw frameSize(frame, "a multiple of 6");
      return;
    case FrameType.PUSH_PROMISE:
      // We announce SETTINGS_ENABLE_PUSH 0.
      throw protocol("a PUSH_PROMISE although push is disabled");
    case FrameType.PING:
      if (streamId !== 0) throw protocol(`a PING frame on stream ${streamId}`);
      if (length !== 8) throw frameSize(frame, "8");
      return;
    case FrameType.GOAWAY:
      if (streamId !== 0) {
        throw protocol(`a GOAWAY frame on stream ${streamId}`);
      }
      if (length < 8) throw frameSize(frame, "8 at least");
      return;
    case FrameType.WINDOW_UPDATE:
      if (length !== 4) throw frameSize(frame, "4");
      return;
    case FrameType.CONTINUATION:
      if (streamId === 0) throw protocol("a CONTINUATION frame on stream 0");
      return;
  }
  // Unknown types are ignored (RFC 9113 section 4.1).
}

function unpad(frame: Frame): void {
  const payload = frame.payload;
  if (payload.length < 1) throw frameSize(frame, "1 byte of padding length");
  const padding = payload[0]!;
  if (padding >= payload.length) {
    throw protocol(
      `a ${
        frameTypeName(frame.type)
      } frame padded with ${padding} bytes of its ${payload.length}`,
    );
  }
  frame.payload = payload.subarray(1, payload.length - padding);
}

/** A 32-bit big-endian number at `at`. */
export function uint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) |
    (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/**
 * Serializes frames into a buffer; {@linkcode FrameWriter.take} hands the
 * pending bytes to the socket. Two buffers alternate, so that frames can
 * be added while the previous batch is being written.
 */
export class FrameWriter {
  #buffer = new Uint8Array(65536);
  #spare = new Uint8Array(65536);
  #length = 0;

  /** Bytes waiting for {@linkcode FrameWriter.take}. */
  get pending(): number {
    return this.#length;
  }

  /**
   * The pending bytes, to be written before the next `take()` (the buffer
   * is reused after that).
   */
  take(): Uint8Array {
    const taken = this.#buffer.subarray(0, this.#length);
    const buffer = this.#buffer;
    this.#buffer = this.#spare;
    this.#spare = buffer;
    this.#length = 0;
    return taken;
  }

  /** Appends raw bytes (the preface). */
  raw(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  #reserve(more: number): void {
    if (this.#length + more <= this.#buffer.length) return;
    let size = this.#buffer.length * 2;
    while (size < this.#length + more) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = bigger;
  }

  /** Appends a frame header; the caller then writes `length` bytes. */
  #header(length: number, type: number, flags: number, streamId: number) {
    this.#reserve(HEADER_LENGTH + length);
    const buffer = this.#buffer;
    const at = this.#length;
    buffer[at] = length >>> 16;
    buffer[at + 1] = (length >>> 8) & 0xff;
    buffer[at + 2] = length & 0xff;
    buffer[at + 3] = type;
    buffer[at + 4] = flags;
    buffer[at + 5] = (streamId >>> 24) & 0x7f;
    buffer[at + 6] = (streamId >>> 16) & 0xff;
    buffer[at + 7] = (streamId >>> 8) & 0xff;
    buffer[at + 8] = streamId & 0xff;
    this.#length += HEADER_LENGTH;
  }

  #uint32(value: number): void {
    const buffer = this.#buffer;
    const at = this.#length;
    buffer[at] = value >>> 24;
    buffer[at + 1] = (value >>> 16) & 0xff;
    buffer[at + 2] = (value >>> 8) & 0xff;
    buffer[at + 3] = value & 0xff;
    this.#length += 4;
  }

  #bytes(bytes: Uint8Array): void {
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /**
   * A header block as HEADERS and, beyond `maxFrameSize`, CONTINUATION
   * frames.
   */
  headers(
    streamId: number,
    block: Uint8Array,
    endStream: boolean,
    maxFrameSize: number,
  ): void {
    let at = 0;
    let type: number = FrameType.HEADERS;
    let flags = endStream ? Flag.END_STREAM : 0;
    do {
      const size = Math.min(maxFrameSize, block.length - at);
      const last = at + size === block.length;
      this.#header(size, type, flags | (last ? Flag.END_HEADERS : 0), streamId);
      this.#bytes(block.subarray(at, at + size));
      at += size;
      type = FrameType.CONTINUATION;
      flags = 0;
    } while (at < block.length);
  }

  /** One DATA frame; the caller keeps it within the peer's frame size. */
  data(streamId: number, bytes: Uint8Array, endStream: boolean): void {
    this.#header(
      bytes.length,
      FrameType.DATA,
      endStream ? Flag.END_STREAM : 0,
      streamId,
    );
    this.#bytes(bytes);
  }

  /**
   * One DATA frame whose payload is gRPC's 5-byte prefix then `message`
   * (saves a copy of the message).
   */
  prefixedData(
    streamId: number,
    prefix: Uint8Array,
    message: Uint8Array,
    endStream: boolean,
  ): void {
    this.#header(
      prefix.length + message.length,
      FrameType.DATA,
      endStream ? Flag.END_STREAM : 0,
      streamId,
    );
    this.#bytes(prefix);
    this.#bytes(message);
  }

  /** A SETTINGS frame with these [identifier, value] pairs. */
  settings(entries: readonly (readonly [number, number])[]): void {
    this.#header(entries.length * 6, FrameType.SETTINGS, 0, 0);
    for (const [id, value] of entries) {
      this.#buffer[this.#length++] = id >>> 8;
      this.#buffer[this.#length++] = id & 0xff;
      this.#uint32(value);
    }
  }

  /** Acknowledges the peer's SETTINGS. */
  settingsAck(): void {
    this.#header(0, FrameType.SETTINGS, Flag.ACK, 0);
  }

  /** A PING, or its answer. */
  ping(data: Uint8Array, ack: boolean): void {
    this.#header(8, FrameType.PING, ack ? Flag.ACK : 0, 0);
    this.#bytes(data.subarray(0, 8));
  }

  /** A GOAWAY. */
  goaway(lastStreamId: number, code: number, debug = ""): void {
    const text = new TextEncoder().encode(debug);
    this.#header(8 + text.length, FrameType.GOAWAY, 0, 0);
    this.#uint32(lastStreamId);
    this.#uint32(code);
    this.#bytes(text);
  }

  /** A RST_STREAM. */
  rstStream(streamId: number, code: number): void {
    this.#header(4, FrameType.RST_STREAM, 0, streamId);
    this.#uint32(code);
  }

  /** A WINDOW_UPDATE (stream 0: the connection's window). */
  windowUpdate(streamId: number, increment: number): void {
    this.#header(4, FrameType.WINDOW_UPDATE, 0, streamId);
    this.#uint32(increment);
  }
}
