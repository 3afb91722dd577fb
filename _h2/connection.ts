// An HTTP/2 client connection (RFC 9113): the preface and settings, many
// streams multiplexed (queued beyond the server's MAX_CONCURRENT_STREAMS),
// flow control both ways, the frames of a tick coalesced into one socket
// write, PINGs answered, a PING while streams wait on a silent connection
// to notice a hung server, GOAWAY honoured. Streams report to a handler by
// callbacks, so that no promise is made per frame. Internal.

import { connectionError, ErrorCode, errorName, H2Error } from "./errors.ts";
import {
  DEFAULT_MAX_FRAME_SIZE,
  Flag,
  type Frame,
  FrameReader,
  FrameType,
  frameTypeName,
  FrameWriter,
  MAX_MAX_FRAME_SIZE,
  MAX_WINDOW,
  PREFACE,
  Setting,
  uint32,
} from "./frame.ts";
import { ReceiveWindow, SendWindow } from "./flow.ts";
import {
  type Header,
  HeaderListTooLarge,
  HpackDecoder,
  HpackEncoder,
} from "./hpack.ts";
import type { ByteStream, Dialer } from "./socket.ts";

export type { Header } from "./hpack.ts";

/** Options of {@linkcode H2Connection.connect}. */
export interface H2ConnectionOptions {
  /**
   * The window each stream gives the server (SETTINGS_INITIAL_WINDOW_SIZE).
   * Default 4 MiB: a large answer streams without waiting for updates.
   */
  streamWindow?: number;
  /** The connection's receive window. Default 16 MiB. */
  connectionWindow?: number;
  /** The largest header list accepted. Default 64 KiB. */
  maxHeaderListSize?: number;
  /**
   * Milliseconds of silence, while streams are open, before a PING asks
   * whether the server is still there. Default 5000: etcd answers PINGs
   * more frequent than every 5 s with GOAWAY ENHANCE_YOUR_CALM.
   */
  pingAfter?: number;
  /**
   * Milliseconds to wait for a PING's answer before the connection is
   * given up. Default 5000.
   */
  pingTimeout?: number;
  /** Milliseconds to wait for the server's SETTINGS. Default 10000. */
  connectTimeout?: number;
  /** What the connection is to, for messages (an endpoint). */
  name?: string;
}

/** What a stream tells its user. Called synchronously from the reader. */
export interface StreamHandler {
  /** A complete header block: the response headers, or the trailers. */
  onHeaders(headers: Header[], endStream: boolean): void;
  /**
   * Data. `data` is a view of the read buffer, valid only during the
   * call: copy what must be kept.
   */
  onData(data: Uint8Array, endStream: boolean): void;
  /**
   * The stream is over: `undefined` after the server ended it (its last
   * `onHeaders`/`onData` had `endStream`), otherwise the error. Called
   * once; nothing is called after it.
   */
  onClose(error: H2Error | undefined): void;
}

/** Options of {@linkcode H2Connection.open}. */
export interface OpenOptions {
  /** The request ends with its headers (no body). */
  endStream?: boolean;
  /**
   * The user gives received bytes back with {@linkcode H2Stream.release}
   * (backpressure), instead of their being given back on arrival.
   */
  manualFlow?: boolean;
}

const enum State {
  /** Waiting for a slot under MAX_CONCURRENT_STREAMS. */
  Queued,
  Open,
  Closed,
}

/** One request/response exchange on a connection. */
export class H2Stream {
  /** The stream id; 0 while queued. */
  id = 0;
  /** @internal */
  state: State = State.Queued;
  /** @internal We sent END_STREAM. */
  localEnded = false;
  /** @internal The server sent END_STREAM. */
  remoteEnded = false;
  /** @internal */
  readonly handler: StreamHandler;
  /** @internal */
  readonly headers: Header[];
  /** @internal */
  readonly manualFlow: boolean;
  /** @internal */
  sendWindow: SendWindow;
  /** @internal */
  receiveWindow: ReceiveWindow | undefined;
  /** @internal Data waiting for window: chunks, the first one partly sent. */
  readonly outgoing: {
    bytes: Uint8Array;
    end: boolean;
    done?: (() => void) | undefined;
  }[] = [];
  /** @internal */
  offset = 0;
  readonly #connection: H2Connection;

  /** @internal */
  constructor(
    connection: H2Connection,
    headers: Header[],
    handler: StreamHandler,
    options: OpenOptions,
  ) {
    this.#connection = connection;
    this.headers = headers;
    this.handler = handler;
    this.manualFlow = options.manualFlow ?? false;
    this.localEnded = options.endStream ?? false;
    this.sendWindow = new SendWindow(0);
  }

  /**
   * Sends `bytes` (queued when the windows are full); `end` ends our side.
   * The promise resolves once the bytes are handed to the connection: await
   * it to keep a sender from running ahead of the server.
   */
  send(bytes: Uint8Array, end = false): Promise<void> {
    if (this.state === State.Closed) return Promise.resolve();
    if (this.localEnded) {
      throw new TypeError("HTTP/2: data sent on a stream after its end");
    }
    this.localEnded = end;
    return new Promise((resolve) => {
      this.outgoing.push({ bytes, end, done: resolve });
      if (this.state === State.Open) this.#connection.pump(this);
    });
  }

  /**
   * Gives `length` received bytes back to the server (with `manualFlow`).
   */
  release(length: number): void {
    this.#connection.releaseStream(this, length);
  }

  /**
   * Cancels the stream: RST_STREAM to the server (if it was sent), then
   * `onClose(error)`. The connection stays usable.
   */
  cancel(error: H2Error, code: number = ErrorCode.CANCEL): void {
    this.#connection.reset(this, code, error);
  }
}

const DEFAULT_STREAM_WINDOW = 4 << 20;
const DEFAULT_CONNECTION_WINDOW = 16 << 20;
/** The windows every peer starts with. */
const INITIAL_WINDOW = 65535;

/** One HTTP/2 connection to a server. */
export class H2Connection {
  readonly name: string;
  readonly #socket: ByteStream;
  readonly #reader: FrameReader;
  readonly #writer = new FrameWriter();
  readonly #encoder = new HpackEncoder();
  readonly #decoder: HpackDecoder;
  readonly #streams = new Map<number, H2Stream>();
  readonly #queued: H2Stream[] = [];
  /** Streams with data waiting for the connection's window. */
  readonly #blocked = new Set<H2Stream>();
  #nextId = 1;
  // The server's settings.
  #maxConcurrent = 100;
  #peerStreamWindow = INITIAL_WINDOW;
  #peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  readonly #sendWindow = new SendWindow(INITIAL_WINDOW);
  readonly #receiveWindow: ReceiveWindow;
  readonly #streamWindow: number;
  readonly #maxBlock: number;
  // A header block being received in several frames.
  #blockStream = 0;
  #blockEnd = false;
  #blockParts: Uint8Array[] = [];
  #blockLength = 0;
  // Writes.
  #flushQueued = false;
  #writing = false;
  // Liveness.
  readonly #pingAfter: number;
  readonly #pingTimeout: number;
  #lastReceived = performance.now();
  #pingSentAt = 0;
  #pingOutstanding = false;
  #pinger: ReturnType<typeof setInterval> | undefined;
  // The end.
  #goaway: H2Error | undefined;
  #failure: H2Error | undefined;
  #settled = false;
  readonly #closed: Promise<H2Error | undefined>;
  #resolveClosed!: (error: H2Error | undefined) => void;
  #onSettings: ((error?: H2Error) => void) | undefined;
  /** Called once when the connection can take no more streams. */
  onUnavailable: ((error: H2Error | undefined) => void) | undefined;

  private constructor(
    socket: ByteStream,
    options: H2ConnectionOptions,
  ) {
    this.#socket = socket;
    this.name = options.name ?? "the server";
    this.#streamWindow = options.streamWindow ?? DEFAULT_STREAM_WINDOW;
    const connectionWindow = options.connectionWindow ??
      DEFAULT_CONNECTION_WINDOW;
    const maxList = options.maxHeaderListSize ?? 65536;
    this.#maxBlock = maxList;
    this.#decoder = new HpackDecoder({ maxListSize: maxList });
    this.#reader = new FrameReader(DEFAULT_MAX_FRAME_SIZE);
    this.#receiveWindow = new ReceiveWindow(connectionWindow);
    this.#pingAfter = options.pingAfter ?? 5000;
    this.#pingTimeout = options.pingTimeout ?? 5000;
    this.#closed = new Promise((resolve) => this.#resolveClosed = resolve);
    const writer = this.#writer;
    writer.raw(PREFACE);
    writer.settings([
      [Setting.ENABLE_PUSH, 0],
      [Setting.INITIAL_WINDOW_SIZE, this.#streamWindow],
      [Setting.MAX_HEADER_LIST_SIZE, maxList],
    ]);
    if (connectionWindow > INITIAL_WINDOW) {
      writer.windowUpdate(0, connectionWindow - INITIAL_WINDOW);
    }
    this.#scheduleFlush();
  }

  /**
   * Connects: dials, sends the preface and our settings, and waits for the
   * server's settings.
   *
   * @throws {H2Error} (`notProcessed`) when the server does not speak
   *   HTTP/2; the dialer's error when it cannot connect.
   */
  static async connect(
    dial: Dialer,
    options: H2ConnectionOptions = {},
    signal?: AbortSignal,
  ): Promise<H2Connection> {
    const timeout = options.connectTimeout ?? 10000;
    const giveUp = AbortSignal.any([
      AbortSignal.timeout(timeout),
      ...(signal ? [signal] : []),
    ]);
    const socket = await dial(giveUp);
    const connection = new H2Connection(socket, options);
    const settings = new Promise<void>((resolve, reject) => {
      connection.#onSettings = (error) => error ? reject(error) : resolve();
    });
    const onAbort = () =>
      connection.#fail(
        signal?.aborted
          ? new H2Error(
            `HTTP/2: connecting to ${connection.name} was given up`,
            ErrorCode.CANCEL,
            true,
            signal.reason,
          )
          : new H2Error(
            `HTTP/2: ${connection.name} sent no SETTINGS within ${timeout} ms`,
            ErrorCode.SETTINGS_TIMEOUT,
            true,
          ),
        false,
      );
    giveUp.addEventListener("abort", onAbort);
    connection.#readLoop();
    try {
      await settings;
    } finally {
      giveUp.removeEventListener("abort", onAbort);
    }
    return connection;
  }

  /** Resolves when the connection is over, with its error if it failed. */
  get closed(): Promise<H2Error | undefined> {
    return this.#closed;
  }

  /** Whether new streams may be opened (no GOAWAY, not failed). */
  get available(): boolean {
    return this.#goaway === undefined && this.#failure === undefined;
  }

  /** Streams open or queued. */
  get activeStreams(): number {
    return this.#streams.size + this.#queued.length;
  }

  /**
   * Opens a stream with these request headers (sent when a slot under the
   * server's MAX_CONCURRENT_STREAMS is free).
   *
   * @throws {H2Error} (`notProcessed`) when the connection is not
   *   available.
   */
  open(
    headers: Header[],
    handler: StreamHandler,
    options: OpenOptions = {},
  ): H2Stream {
    const refusal = this.#failure ?? this.#goaway;
    if (refusal !== undefined) {
      throw new H2Error(
        `HTTP/2: ${this.name} takes no new streams: ${refusal.message}`,
        refusal.code,
        true,
        refusal,
      );
    }
    const stream = new H2Stream(this, headers, handler, options);
    if (this.#streams.size < this.#maxConcurrent) {
      this.#start(stream);
    } else {
      this.#queued.push(stream);
    }
    return stream;
  }

  /** Sends GOAWAY and closes; open streams fail. */
  close(): void {
    if (this.#settled) return;
    this.#fail(
      new H2Error(
        `HTTP/2: the connection to ${this.name} was closed`,
        ErrorCode.CANCEL,
      ),
      true,
      ErrorCode.NO_ERROR,
    );
  }

  #start(stream: H2Stream): void {
    const id = this.#nextId;
    this.#nextId += 2;
    stream.id = id;
    stream.state = State.Open;
    stream.sendWindow = new SendWindow(this.#peerStreamWindow);
    stream.receiveWindow = new ReceiveWindow(this.#streamWindow);
    this.#streams.set(id, stream);
    const endStream = stream.localEnded && stream.outgoing.length === 0;
    this.#writer.headers(
      id,
      this.#encoder.encode(stream.headers),
      endStream,
      this.#peerMaxFrameSize,
    );
    if (stream.outgoing.length > 0) this.pump(stream);
    this.#scheduleFlush();
    if (this.#pinger === undefined) this.#startPinger();
  }

  /** @internal Sends what the windows allow of a stream's data. */
  pump(stream: H2Stream): void {
    const outgoing = stream.outgoing;
    const writer = this.#writer;
    while (outgoing.length > 0) {
      const chunk = outgoing[0]!;
      const left = chunk.bytes.length - stream.offset;
      const size = Math.min(
        left,
        stream.sendWindow.size,
        this.#sendWindow.size,
        this.#peerMaxFrameSize,
      );
      if (size <= 0 && left > 0) {
        this.#blocked.add(stream);
        break;
      }
      const last = size === left;
      writer.data(
        stream.id,
        chunk.bytes.subarray(stream.offset, stream.offset + size),
        last && chunk.end,
      );
      stream.sendWindow.size -= size;
      this.#sendWindow.size -= size;
      if (last) {
        outgoing.shift();
        stream.offset = 0;
        chunk.done?.();
        if (chunk.end) this.#endedLocally(stream);
      } else {
        stream.offset += size;
      }
    }
    this.#scheduleFlush();
  }

  #endedLocally(stream: H2Stream): void {
    if (stream.remoteEnded) this.#finish(stream, undefined);
  }

  /** @internal */
  releaseStream(stream: H2Stream, length: number): void {
    if (stream.state !== State.Open || stream.remoteEnded) return;
    const increment = stream.receiveWindow!.release(length);
    if (increment > 0) {
      this.#writer.windowUpdate(stream.id, increment);
      this.#scheduleFlush();
    }
  }

  /** @internal */
  reset(stream: H2Stream, code: number, error: H2Error): void {
    if (stream.state === State.Closed) return;
    if (stream.state === State.Queued) {
      this.#queued.splice(this.#queued.indexOf(stream), 1);
    } else if (this.#failure === undefined) {
      this.#writer.rstStream(stream.id, code);
      this.#scheduleFlush();
    }
    this.#finish(stream, error);
  }

  /** Closes a stream: frees its slot, tells its handler. */
  #finish(stream: H2Stream, error: H2Error | undefined): void {
    if (stream.state === State.Closed) return;
    const wasOpen = stream.state === State.Open;
    stream.state = State.Closed;
    this.#streams.delete(stream.id);
    this.#blocked.delete(stream);
    for (const chunk of stream.outgoing.splice(0)) chunk.done?.();
    if (wasOpen) {
      while (
        this.#queued.length > 0 && this.#streams.size < this.#maxConcurrent &&
        this.available
      ) {
        this.#start(this.#queued.shift()!);
      }
    }
    try {
      stream.handler.onClose(error);
    } finally {
      if (this.#goaway !== undefined && this.activeStreams === 0) {
        this.#shutdown(undefined);
      }
      // The pinger stops itself at its next tick if no stream is open by
      // then: one call at a time would otherwise start and stop a timer
      // each.
    }
  }

  // -------------------------------------------------------------------------
  // Writing

  #scheduleFlush(): void {
    if (this.#flushQueued || this.#writing) return;
    this.#flushQueued = true;
    queueMicrotask(this.#flush);
  }

  #flush = async (): Promise<void> => {
    this.#flushQueued = false;
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.#writer.pending > 0 && !this.#settled) {
        await this.#socket.write(this.#writer.take());
      }
    } catch (error) {
      this.#fail(
        new H2Error(
          `HTTP/2: writing to ${this.name} failed: ${describe(error)}`,
          ErrorCode.CONNECT_ERROR,
          false,
          error,
        ),
        false,
      );
    } finally {
      this.#writing = false;
    }
  };

  // -------------------------------------------------------------------------
  // Reading

  async #readLoop(): Promise<void> {
    const reader = this.#reader;
    try {
      for (;;) {
        const count = await this.#socket.read(reader.space());
        if (count === null) break;
        this.#lastReceived = performance.now();
        reader.filled(count);
        for (let frame = reader.next(); frame; frame = reader.next()) {
          this.#onFrame(frame);
          if (this.#settled) return;
        }
      }
      if (this.#settled) return;
      this.#fail(
        new H2Error(
          this.#onSettings
            ? `HTTP/2: ${this.name} closed the connection before its SETTINGS: it does not speak HTTP/2`
            : `HTTP/2: ${this.name} closed the connection`,
          ErrorCode.CONNECT_ERROR,
          this.#onSettings !== undefined,
        ),
        false,
      );
    } catch (error) {
      if (this.#settled) return;
      if (error instanceof H2Error) {
        this.#fail(this.#named(error), true);
      } else {
        this.#fail(
          new H2Error(
            `HTTP/2: reading from ${this.name} failed: ${describe(error)}`,
            ErrorCode.CONNECT_ERROR,
            false,
            error,
          ),
          false,
        );
      }
    }
  }

  /** A protocol error, with the server's name (and HTTP/1 named as such). */
  #named(error: H2Error): H2Error {
    if (this.#onSettings !== undefined) {
      return new H2Error(
        `HTTP/2: ${this.name} does not speak HTTP/2 (${error.message})`,
        error.code,
        true,
        error,
      );
    }
    return new H2Error(
      error.message.replace(
        /^HTTP\/2 (\w+): /,
        `HTTP/2 $1 from ${this.name}: `,
      ),
      error.code,
      false,
      error.cause,
    );
  }

  #onFrame(frame: Frame): void {
    if (this.#onSettings !== undefined && frame.type !== FrameType.SETTINGS) {
      throw connectionError(
        ErrorCode.PROTOCOL_ERROR,
        `its first frame is ${frameTypeName(frame.type)}, not SETTINGS`,
      );
    }
    if (this.#blockStream !== 0 && frame.type !== FrameType.CONTINUATION) {
      throw connectionError(
        ErrorCode.PROTOCOL_ERROR,
        `a ${
          frameTypeName(frame.type)
        } frame inside a header block (CONTINUATION expected)`,
      );
    }
    switch (frame.type) {
      case FrameType.DATA:
        return this.#onData(frame);
      case FrameType.HEADERS:
        return this.#onHeaders(frame);
      case FrameType.CONTINUATION:
        return this.#onContinuation(frame);
      case FrameType.RST_STREAM:
        return this.#onReset(frame);
      case FrameType.SETTINGS:
        return this.#onSettingsFrame(frame);
      case FrameType.PING:
        return this.#onPing(frame);
      case FrameType.GOAWAY:
        return this.#onGoaway(frame);
      case FrameType.WINDOW_UPDATE:
        return this.#onWindowUpdate(frame);
    }
  }

  /** The stream a frame is for; undefined for one that closed already. */
  #streamOf(frame: { streamId: number; type: number }): H2Stream | undefined {
    const id = frame.streamId;
    const stream = this.#streams.get(id);
    if (stream !== undefined) return stream;
    if (id % 2 === 0 || id >= this.#nextId) {
      throw connectionError(
        ErrorCode.PROTOCOL_ERROR,
        `a ${
          frameTypeName(frame.type)
        } frame on stream ${id}, which was never opened`,
      );
    }
    return undefined;
  }

  /** The server ended its side: the exchange is over. */
  #remoteEnd(stream: H2Stream): void {
    if (!stream.localEnded || stream.outgoing.length > 0) {
      // It answered before our request's end: stop sending.
      this.#writer.rstStream(stream.id, ErrorCode.NO_ERROR);
      this.#scheduleFlush();
    }
    this.#finish(stream, undefined);
  }

  #onData(frame: Frame): void {
    const length = frame.length;
    this.#receiveWindow.received(length, "the connection");
    // The connection's window is given back at once: one slow stream must
    // not hold up the others (each stream has its own window).
    this.#giveBack(length);
    const stream = this.#streamOf(frame);
    if (stream === undefined) return;
    if (stream.remoteEnded) {
      return this.reset(
        stream,
        ErrorCode.STREAM_CLOSED,
        this.#streamError(
          ErrorCode.STREAM_CLOSED,
          stream,
          "DATA after the stream's end",
        ),
      );
    }
    try {
      stream.receiveWindow!.received(length, `stream ${stream.id}`);
    } catch (error) {
      return this.reset(stream, ErrorCode.FLOW_CONTROL_ERROR, error as H2Error);
    }
    const endStream = (frame.flags & Flag.END_STREAM) !== 0;
    if (endStream) stream.remoteEnded = true;
    const payload = frame.payload;
    // Padding is never the user's to give back.
    const padding = length - payload.length;
    if (!stream.manualFlow) this.releaseStream(stream, length);
    else if (padding > 0) this.releaseStream(stream, padding);
    stream.handler.onData(payload, endStream);
    if (endStream) this.#remoteEnd(stream);
  }

  #giveBack(length: number): void {
    const increment = this.#receiveWindow.release(length);
    if (increment > 0) {
      this.#writer.windowUpdate(0, increment);
      this.#scheduleFlush();
    }
  }

  #onHeaders(frame: Frame): void {
    this.#blockStream = frame.streamId;
    this.#blockEnd = (frame.flags & Flag.END_STREAM) !== 0;
    this.#blockParts = [];
    this.#blockLength = 0;
    this.#addFragment(frame);
  }

  #onContinuation(frame: Frame): void {
    if (this.#blockStream !== frame.streamId) {
      throw connectionError(
        ErrorCode.PROTOCOL_ERROR,
        `a CONTINUATION frame on stream ${frame.streamId} that continues no header block`,
      );
    }
    this.#addFragment(frame);
  }

  #addFragment(frame: Frame): void {
    this.#blockLength += frame.payload.length;
    if (this.#blockLength > this.#maxBlock) {
      throw connectionError(
        ErrorCode.PROTOCOL_ERROR,
        `a header block of over ${this.#maxBlock} bytes on stream ${frame.streamId}`,
      );
    }
    const ended = (frame.flags & Flag.END_HEADERS) !== 0;
    // The payload is a view of the read buffer: keep a copy unless the
    // block is complete in this frame.
    if (ended && this.#blockParts.length === 0) {
      return this.#onBlock(frame.payload);
    }
    this.#blockParts.push(frame.payload.slice());
    if (!ended) return;
    const block = new Uint8Array(this.#blockLength);
    let at = 0;
    for (const part of this.#blockParts) {
      block.set(part, at);
      at += part.length;
    }
    this.#onBlock(block);
  }

  #onBlock(block: Uint8Array): void {
    const id = this.#blockStream;
    const endStream = this.#blockEnd;
    this.#blockStream = 0;
    this.#blockParts = [];
    // Decoded even for a closed stream: the table must stay in step.
    let headers: Header[];
    try {
      headers = this.#decoder.decode(block);
    } catch (error) {
      if (!(error instanceof HeaderListTooLarge)) throw error;
      const stream = this.#streams.get(id);
      if (stream !== undefined) {
        this.reset(
          stream,
          ErrorCode.PROTOCOL_ERROR,
          this.#streamError(
            ErrorCode.PROTOCOL_ERROR,
            stream,
            error.message.replace(/^HTTP\/2: /, ""),
          ),
        );
      }
      return;
    }
    const stream = this.#streamOf({ streamId: id, type: FrameType.HEADERS });
    if (stream === undefined) return;
    if (stream.remoteEnded) {
      return this.reset(
        stream,
        ErrorCode.STREAM_CLOSED,
        this.#streamError(
          ErrorCode.STREAM_CLOSED,
          stream,
          "HEADERS after the stream's end",
        ),
      );
    }
    if (endStream) stream.remoteEnded = true;
    stream.handler.onHeaders(headers, endStream);
    if (endStream && stream.state === State.Open) this.#remoteEnd(stream);
  }

  #streamError(code: number, stream: H2Stream, detail: string): H2Error {
    return new H2Error(
      `HTTP/2 ${
        errorName(code)
      } from ${this.name} on stream ${stream.id}: ${detail}`,
      code,
    );
  }

  #onReset(frame: Frame): void {
    const stream = this.#streamOf(frame);
    if (stream === undefined) return;
    const code = uint32(frame.payload, 0);
    const refused = code === ErrorCode.REFUSED_STREAM;
    this.#finish(
      stream,
      new H2Error(
        `HTTP/2: ${this.name} reset stream ${stream.id} (${errorName(code)})${
          refused ? ": the request was not processed" : ""
        }`,
        code,
        refused,
      ),
    );
  }

  #onSettingsFrame(frame: Frame): void {
    if (frame.flags & Flag.ACK) return;
    const payload = frame.payload;
    for (let at = 0; at < payload.length; at += 6) {
      const id = (payload[at]! << 8) | payload[at + 1]!;
      this.#applySetting(id, uint32(payload, at + 2));
    }
    this.#writer.settingsAck();
    this.#scheduleFlush();
    const settled = this.#onSettings;
    if (settled !== undefined) {
      this.#onSettings = undefined;
      settled();
    }
  }

  #applySetting(id: number, value: number): void {
    switch (id) {
      case Setting.HEADER_TABLE_SIZE:
        this.#encoder.setMaxTableSize(value);
        return;
      case Setting.ENABLE_PUSH:
        if (value > 1) {
          throw connectionError(
            ErrorCode.PROTOCOL_ERROR,
            `SETTINGS_ENABLE_PUSH ${value} (0 or 1 expected)`,
          );
        }
        return;
      case Setting.MAX_CONCURRENT_STREAMS:
        this.#maxConcurrent = value;
        while (
          this.#queued.length > 0 && this.#streams.size < value &&
          this.available
        ) {
          this.#start(this.#queued.shift()!);
        }
        return;
      case Setting.INITIAL_WINDOW_SIZE: {
        if (value > MAX_WINDOW) {
          throw connectionError(
            ErrorCode.FLOW_CONTROL_ERROR,
            `SETTINGS_INITIAL_WINDOW_SIZE ${value}, over 2^31-1`,
          );
        }
        const delta = value - this.#peerStreamWindow;
        this.#peerStreamWindow = value;
        for (const stream of this.#streams.values()) {
          stream.sendWindow.grow(delta, `stream ${stream.id}`);
        }
        if (delta > 0) this.#unblock();
        return;
      }
      case Setting.MAX_FRAME_SIZE:
        if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE) {
          throw connectionError(
            ErrorCode.PROTOCOL_ERROR,
            `SETTINGS_MAX_FRAME_SIZE ${value}, outside 16384-16777215`,
          );
        }
        this.#peerMaxFrameSize = value;
        return;
    }
  }

  #onPing(frame: Frame): void {
    if (frame.flags & Flag.ACK) {
      this.#pingOutstanding = false;
      return;
    }
    this.#writer.ping(frame.payload, true);
    this.#scheduleFlush();
  }

  #onGoaway(frame: Frame): void {
    const payload = frame.payload;
    const lastId = uint32(payload, 0) & 0x7fffffff;
    const code = uint32(payload, 4);
    const debug = new TextDecoder("utf-8", { ignoreBOM: true }).decode(
      payload.subarray(8, 8 + 200),
    )
      .replace(/[^\x20-\x7e]/g, "?");
    const detail = `${this.name} sent GOAWAY ${errorName(code)}${
      debug ? ` "${debug}"` : ""
    }`;
    this.#goaway = new H2Error(`HTTP/2: ${detail}`, code);
    this.onUnavailable?.(this.#goaway);
    const notProcessed = new H2Error(
      `HTTP/2: ${detail}: the request was not processed`,
      code,
      true,
    );
    for (const stream of this.#queued.splice(0)) {
      this.#finish(stream, notProcessed);
    }
    for (const stream of [...this.#streams.values()]) {
      if (stream.id > lastId) this.#finish(stream, notProcessed);
    }
    if (this.activeStreams === 0) this.#shutdown(undefined);
  }

  #onWindowUpdate(frame: Frame): void {
    const increment = uint32(frame.payload, 0) & 0x7fffffff;
    if (frame.streamId === 0) {
      if (increment === 0) {
        throw connectionError(
          ErrorCode.PROTOCOL_ERROR,
          "a WINDOW_UPDATE of 0 for the connection",
        );
      }
      this.#sendWindow.grow(increment, "the connection");
      this.#unblock();
      return;
    }
    const stream = this.#streamOf(frame);
    if (stream === undefined) return;
    if (increment === 0) {
      return this.reset(
        stream,
        ErrorCode.PROTOCOL_ERROR,
        this.#streamError(
          ErrorCode.PROTOCOL_ERROR,
          stream,
          "a WINDOW_UPDATE of 0",
        ),
      );
    }
    try {
      stream.sendWindow.grow(increment, `stream ${stream.id}`);
    } catch (error) {
      return this.reset(stream, ErrorCode.FLOW_CONTROL_ERROR, error as H2Error);
    }
    if (stream.outgoing.length > 0) this.pump(stream);
  }

  #unblock(): void {
    for (const stream of [...this.#blocked]) {
      if (this.#sendWindow.size <= 0) return;
      this.#blocked.delete(stream);
      this.pump(stream);
    }
  }

  // -------------------------------------------------------------------------
  // Liveness

  #startPinger(): void {
    const every = Math.max(
      100,
      Math.min(this.#pingAfter, this.#pingTimeout) / 4,
    );
    const pinger = setInterval(this.#checkAlive, every);
    unref(pinger);
    this.#pinger = pinger;
  }

  #stopPinger(): void {
    clearInterval(this.#pinger);
    this.#pinger = undefined;
  }

  #checkAlive = (): void => {
    if (this.activeStreams === 0) return this.#stopPinger();
    const now = performance.now();
    if (this.#pingOutstanding) {
      if (now - this.#pingSentAt >= this.#pingTimeout) {
        this.#fail(
          new H2Error(
            `HTTP/2: ${this.name} did not answer a PING within ${this.#pingTimeout} ms: it hangs`,
            ErrorCode.CANCEL,
          ),
          true,
        );
      }
      return;
    }
    if (
      this.#streams.size > 0 && now - this.#lastReceived >= this.#pingAfter &&
      now - this.#pingSentAt >= this.#pingAfter
    ) {
      this.#pingOutstanding = true;
      this.#pingSentAt = now;
      this.#writer.ping(PING_DATA, false);
      this.#scheduleFlush();
    }
  };

  // -------------------------------------------------------------------------
  // The end

  /**
   * Fails the connection: every stream ends with `error` (the queued ones
   * as not processed); with `goaway`, tells the server why first.
   */
  #fail(error: H2Error, goaway: boolean, code = error.code): void {
    if (this.#settled) return;
    this.#failure = error;
    this.onUnavailable?.(error);
    if (goaway) {
      // A client processes no stream of the server's: last id 0.
      this.#writer.goaway(0, code, error.message.slice(0, 100));
    }
    this.#onSettings?.(error);
    this.#onSettings = undefined;
    const notProcessed = new H2Error(error.message, error.code, true, error);
    for (const stream of this.#queued.splice(0)) {
      stream.state = State.Closed;
      stream.handler.onClose(notProcessed);
    }
    for (const stream of [...this.#streams.values()]) {
      this.#finish(stream, error);
    }
    this.#shutdown(error, goaway);
  }

  #shutdown(error: H2Error | undefined, flushFirst = false): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#stopPinger();
    if (this.#failure === undefined) {
      this.#failure = error ?? this.#goaway ??
        new H2Error(`HTTP/2: the connection to ${this.name} is over`, 0);
    }
    const socket = this.#socket;
    if (flushFirst && this.#writer.pending > 0 && !this.#writing) {
      const last = this.#writer.take();
      socket.write(last).catch(() => {}).finally(() => socket.close());
    } else {
      socket.close();
    }
    this.#resolveClosed(error);
  }
}

const PING_DATA = new Uint8Array(8);

/** Lets the process exit while only this timer is pending. */
function unref(timer: ReturnType<typeof setInterval>): void {
  const runtime = (globalThis as {
    Deno?: { unrefTimer(id: number): void };
  }).Deno;
  if (runtime !== undefined) runtime.unrefTimer(Number(timer));
  else (timer as { unref?: () => void }).unref?.();
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
