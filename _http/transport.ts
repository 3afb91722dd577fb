// How a request travels: HTTP/1.1 over Deno's sockets with keep-alive
// connections (the default), or the runtime's fetch. Internal and protocol
// neutral; failover and deadlines are the dispatcher's (dispatcher.ts), the
// meaning of an answer the protocol backend's.
//
// Own sockets because fetch costs more than etcd itself (BENCHMARKS.md has
// the figures). The protocol needed is small: one request at a time per
// connection, answers framed by Content-Length, chunked or the end of the
// connection.

/** What `ResponseHeaders.get(name)` looks for, by name. */
const SEARCH_KEYS = new Map<string, string>();

/**
 * An answer's headers. They are looked up in the head as received, not
 * parsed into a map: an answer is asked for a few of its headers, and
 * building a map cost about a tenth of a whole exchange.
 */
export class ResponseHeaders {
  /** The head after the status line, each header after a CRLF. */
  readonly #head: string;
  /** The same, in lower case, to find names in. */
  readonly #lower: string;

  /** @param head `"\r\nName: value\r\nName: value"` (a status line first may be). */
  constructor(head = "") {
    const lower = head.toLowerCase();
    if (lower.length === head.length) {
      this.#head = head;
      this.#lower = lower;
    } else {
      // Some character in a value changes length in lower case: lower the
      // names only, and look values up in the same text.
      this.#head = this.#lower = head.replace(
        /\r\n([^:\r]*):/g,
        (_, name: string) => `\r\n${name.toLowerCase()}:`,
      );
    }
  }

  /** The headers of a fetch `Response`. */
  static of(headers: Headers): ResponseHeaders {
    let head = "";
    for (const [name, value] of headers) head += `\r\n${name}: ${value}`;
    return new ResponseHeaders(head);
  }

  /** The header's value (several joined by `, `), or `null`. */
  get(name: string): string | null {
    let key = SEARCH_KEYS.get(name);
    if (key === undefined) {
      key = "\r\n" + name.toLowerCase() + ":";
      if (SEARCH_KEYS.size < 100) SEARCH_KEYS.set(name, key);
    }
    const lower = this.#lower;
    let value: string | null = null;
    for (
      let at = lower.indexOf(key);
      at >= 0;
      at = lower.indexOf(key, at + 1)
    ) {
      let end = lower.indexOf("\r", at + key.length);
      if (end < 0) end = lower.length;
      const found = this.#head.slice(at + key.length, end).trim();
      value = value === null ? found : `${value}, ${found}`;
    }
    return value;
  }
}

/** What the transport sends. */
export interface Outgoing {
  method: string;
  /** Path and query. */
  path: string;
  body?: string | undefined;
  contentType?: string | undefined;
  /** Further headers (lower-case names), such as `authorization`. */
  headers?: Readonly<Record<string, string>> | undefined;
  /**
   * Safe to send again: a connection that the server had closed while idle
   * is then replaced and the request sent on the new one.
   */
  idempotent?: boolean | undefined;
  /** A long poll or stream: fetch gives those connections of their own. */
  poll?: boolean | undefined;
  /** Called when the request is handed to the network (it may arrive). */
  onWritten?: (() => void) | undefined;
}

/** An answer whose head has arrived; its body is read once. */
export interface Incoming {
  readonly status: number;
  readonly headers: ResponseHeaders;
  /** The whole body, when it came with the head. */
  readonly body?: string | undefined;
  /** Reads the whole body. */
  text(): Promise<string>;
  /**
   * Passes each line of the body to `onLine` as it arrives; resolves with
   * what follows the last line break.
   */
  lines(onLine: (line: string) => void): Promise<string>;
  /** Gives up on the body. */
  discard(): void;
}

/** Sends requests; `signal` aborts the exchange at any point. */
export interface Transport {
  open(
    endpoint: string,
    outgoing: Outgoing,
    signal: AbortSignal,
  ): Promise<Incoming>;
  /** Closes idle connections to endpoints not among these. */
  retain(endpoints: readonly string[]): void;
  close(): void;
}

/** TLS settings: PEM text. */
export interface TlsOptions {
  /**
   * Certificates (PEM, one or several) of the authorities to trust besides
   * the system's.
   */
  caCert?: string;
  /** The client certificate chain. */
  cert?: string;
  /** The client certificate's private key. */
  key?: string;
}

/**
 * The transport failed: the connection could not be made, broke, or the
 * answer was not HTTP. A `TypeError`, as fetch's network errors are.
 */
export class NetworkError extends TypeError {
  /** Nothing was sent: the request may go elsewhere, even a write. */
  readonly connecting: boolean;

  constructor(message: string, connecting: boolean, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "NetworkError";
    this.connecting = connecting;
  }
}

// ---------------------------------------------------------------------------
// Sockets

const encoder = new TextEncoder();
// ignoreBOM: every byte of an answer is given as etcd sent it.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const CR = 13;
const LF = 10;
/** etcd sniffs the first request of a connection in this many bytes. */
const SNIFFED = 4000;

/** The length of the first line of a request's bytes. */
function requestLineLength(bytes: Uint8Array): number {
  const end = bytes.indexOf(LF);
  return end < 0 ? bytes.length : end;
}

/**
 * What a TLS handshake that failed most likely means: a server that speaks
 * plain HTTP on that port answers an HTTP request, so ask one.
 */
export async function plainHttpInstead(
  origin: { hostname: string; port: number },
  error: unknown,
): Promise<unknown> {
  const text = chainText(error);
  if (!/eof|end of file|closed|reset|corrupt|InvalidContentType/i.test(text)) {
    return error;
  }
  try {
    const conn = await Deno.connect({
      hostname: origin.hostname,
      port: origin.port,
      signal: AbortSignal.timeout(1000),
    });
    try {
      await conn.write(
        encoder.encode(
          `GET /version HTTP/1.1\r\nhost: ${origin.hostname}\r\nconnection: close\r\n\r\n`,
        ),
      );
      const buffer = new Uint8Array(512);
      const timer = setTimeout(() => conn.close(), 1000);
      const count = await conn.read(buffer).finally(() => clearTimeout(timer));
      const answer = count === null
        ? ""
        : decoder.decode(buffer.subarray(0, count));
      // A TLS server may answer plain HTTP too, to say it wants TLS.
      if (answer.startsWith("HTTP/1.") && !/HTTPS|TLS/i.test(answer)) {
        return new TypeError(
          `TLS: the server at ${origin.hostname}:${origin.port} speaks plain HTTP, not TLS: use http:// for it`,
          { cause: error },
        );
      }
    } finally {
      try {
        conn.close();
      } catch {
        // closed by the timer
      }
    }
  } catch {
    // No plain answer either: the handshake error stands.
  }
  return error;
}

/**
 * Whether the server at a plain-HTTP endpoint speaks TLS instead: a TLS
 * handshake with it gets as far as its certificate.
 */
export async function speaksTls(
  origin: { hostname: string; port: number },
): Promise<boolean> {
  let conn: Deno.TlsConn | undefined;
  try {
    conn = await Deno.connectTls({
      hostname: origin.hostname,
      port: origin.port,
    });
    const timer = setTimeout(() => conn?.close(), 1000);
    try {
      await conn.handshake();
      return true;
    } finally {
      clearTimeout(timer);
    }
  } catch (error) {
    return /certificate|UnknownIssuer|NotValidForName|CertificateRequired|BadCertificate|alert/i
      .test(chainText(error));
  } finally {
    try {
      conn?.close();
    } catch {
      // closed already
    }
  }
}

/** The messages of an error and its causes, joined. */
function chainText(error: unknown): string {
  let text = "";
  for (let at: unknown = error; at instanceof Error; at = at.cause) {
    text += " " + at.message;
  }
  return text;
}

/** Read buffer of a new connection; it grows for large answers. */
const BUFFER_SIZE = 16 * 1024;
/** A head larger than this is not etcd talking. */
const MAX_HEAD = 64 * 1024;

interface Origin {
  readonly endpoint: string;
  readonly secure: boolean;
  readonly hostname: string;
  readonly port: number;
  /** The `Host` header. */
  readonly host: string;
  /** A path prefix of the endpoint URL (usually ""). */
  readonly base: string;
}

/** How the body of an answer is framed. */
type Framing =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" };

/** One keep-alive connection: one exchange at a time. */
class Connection {
  readonly conn: Deno.Conn;
  readonly origin: Origin;
  buffer = new Uint8Array(BUFFER_SIZE);
  start = 0;
  end = 0;
  /** Has answered before: it may have been closed by the server since. */
  reused = false;
  /** In the idle pool, with a read pending that should not complete. */
  idle = false;
  closed = false;
  /** How far past `start` the search for the end of a head got. */
  scanned = 0;
  #pending: Promise<number | null> | undefined;

  constructor(conn: Deno.Conn, origin: Origin) {
    this.conn = conn;
    this.origin = origin;
  }

  /** The next read into the buffer: first the one pending while idle. */
  next(): Promise<number | null> {
    const pending = this.#pending;
    if (pending !== undefined) {
      this.#pending = undefined;
      return pending;
    }
    this.#room();
    return this.conn.read(this.buffer.subarray(this.end));
  }

  /** Reads more bytes into the buffer; false at the end of the stream. */
  async fill(): Promise<boolean> {
    const count = await this.next();
    if (count === null) return false;
    this.end += count;
    return true;
  }

  /** Makes room after `end`, keeping the unread bytes. */
  #room(): void {
    const buffer = this.buffer;
    if (this.end < buffer.length) return;
    const unread = this.end - this.start;
    if (this.start > 0 && unread <= buffer.length / 2) {
      buffer.copyWithin(0, this.start, this.end);
    } else {
      const larger = new Uint8Array(buffer.length * 2);
      larger.set(buffer.subarray(this.start, this.end));
      this.buffer = larger;
    }
    this.start = 0;
    this.end = unread;
  }

  /** Reads exactly `length` more bytes of body. */
  async take(length: number): Promise<Uint8Array> {
    const buffered = this.end - this.start;
    if (buffered >= length) {
      const bytes = this.buffer.subarray(this.start, this.start + length);
      this.start += length;
      return bytes;
    }
    // A large body is read straight into its own array.
    const bytes = new Uint8Array(length);
    bytes.set(this.buffer.subarray(this.start, this.end));
    this.start = this.end = 0;
    let have = buffered;
    while (have < length) {
      const count = await this.conn.read(bytes.subarray(have));
      if (count === null) throw truncated();
      have += count;
    }
    return bytes;
  }

  /**
   * Waits in the pool: a read stays pending so that the server closing the
   * connection is noticed at once, and is the first read of the next answer.
   */
  park(onLost: (connection: Connection) => void): void {
    this.idle = true;
    this.reused = true;
    this.start = this.end = 0;
    const pending = this.conn.read(this.buffer);
    this.#pending = pending;
    this.conn.unref();
    // Anything but a pending read while idle (data, end, error) means the
    // connection cannot carry the next exchange.
    const lost = () => {
      if (this.idle) onLost(this);
    };
    pending.then(lost, lost);
  }

  /** Takes it out of the pool. */
  unpark(): void {
    this.idle = false;
    this.conn.ref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

/** HTTP/1.1 over `Deno.connect` / `Deno.connectTls`. */
export class SocketTransport implements Transport {
  readonly #idle = new Map<Origin, Connection[]>();
  readonly #open = new Set<Connection>();
  readonly #origins = new Map<string, Origin>();
  readonly #tls: TlsOptions | undefined;
  readonly #maxIdle: number;

  /**
   * @param tls PEM text for https endpoints.
   * @param maxIdle Most connections kept open per endpoint between requests.
   */
  constructor(tls: TlsOptions | undefined, maxIdle: number) {
    this.#tls = tls;
    this.#maxIdle = maxIdle;
  }

  close(): void {
    for (const connection of this.#open) connection.close();
    this.#open.clear();
    this.#idle.clear();
  }

  retain(endpoints: readonly string[]): void {
    for (const [endpoint, origin] of this.#origins) {
      if (endpoints.includes(endpoint)) continue;
      this.#origins.delete(endpoint);
      for (const connection of this.#idle.get(origin) ?? []) {
        connection.idle = false;
        this.drop(connection);
      }
      this.#idle.delete(origin);
    }
  }

  #origin(endpoint: string): Origin {
    let origin = this.#origins.get(endpoint);
    if (origin === undefined) {
      const url = new URL(endpoint);
      const secure = url.protocol === "https:";
      origin = {
        endpoint,
        secure,
        hostname: url.hostname,
        port: url.port === "" ? (secure ? 443 : 80) : Number(url.port),
        host: url.host,
        base: url.pathname === "/" ? "" : url.pathname,
      };
      this.#origins.set(endpoint, origin);
    }
    return origin;
  }

  async open(
    endpoint: string,
    outgoing: Outgoing,
    signal: AbortSignal,
  ): Promise<Incoming> {
    const origin = this.#origin(endpoint);
    const bytes = requestBytes(origin, outgoing);
    for (;;) {
      let connection = this.#idle.get(origin)?.pop();
      if (connection === undefined) {
        connection = await this.#connect(origin, signal);
        if (requestLineLength(bytes) > SNIFFED) {
          try {
            await this.#prime(connection, signal);
          } catch (error) {
            connection.close();
            this.#open.delete(connection);
            signal.throwIfAborted();
            throw error instanceof NetworkError
              ? error
              : new NetworkError(messageOf(error), false, error);
          }
          // The priming answer released the connection to the pool.
          connection = this.#idle.get(origin)?.pop() ?? connection;
        }
      }
      connection.unpark();
      const reused = connection.reused;
      const abort = () => connection.close();
      signal.addEventListener("abort", abort);
      // The write is not awaited before reading: one step less per
      // exchange. If it fails, the connection is closed, which ends the read.
      let failed: unknown;
      const conn = connection.conn;
      outgoing.onWritten?.();
      conn.write(bytes).then(
        (count) =>
          count < bytes.length
            ? writeAll(conn, bytes.subarray(count))
            : undefined,
      ).catch((error) => {
        failed = error;
        connection.close();
      });
      try {
        let head: Head | undefined;
        for (;;) {
          let count: number | null;
          try {
            count = await connection.next();
          } catch (error) {
            throw failed ?? error;
          }
          if (count === null) break;
          connection.end += count;
          head = parseHead(connection);
          if (head !== undefined) break;
        }
        if (head === undefined) {
          if (connection.end !== connection.start) throw truncated();
          // Closed before answering. On a connection that answered before,
          // the server had most likely closed it while idle: a read is
          // safely asked again on a new one.
          this.drop(connection);
          signal.removeEventListener("abort", abort);
          if (reused && outgoing.idempotent) continue;
          throw new NetworkError(
            reused || origin.secure
              ? "the connection was closed before an answer"
              : await speaksTls(origin)
              ? `TLS: the server at ${origin.hostname}:${origin.port} speaks only TLS here: use https://`
              : "the server closed the connection without answering",
            false,
            failed,
          );
        }
        return new SocketAnswer(this, connection, head, signal, abort);
      } catch (error) {
        signal.removeEventListener("abort", abort);
        connection.close();
        this.#open.delete(connection);
        signal.throwIfAborted();
        throw error instanceof NetworkError
          ? error
          : new NetworkError(messageOf(error), false, error);
      }
    }
  }

  async #connect(origin: Origin, signal: AbortSignal): Promise<Connection> {
    let conn: Deno.Conn;
    try {
      if (origin.secure) {
        const tls = this.#tls;
        const options: Deno.ConnectTlsOptions = {
          hostname: origin.hostname,
          port: origin.port,
          alpnProtocols: ["http/1.1"],
        };
        if (tls?.caCert !== undefined) options.caCerts = [tls.caCert];
        const connecting = tls?.cert !== undefined && tls.key !== undefined
          ? Deno.connectTls({ ...options, cert: tls.cert, key: tls.key })
          : Deno.connectTls(options);
        const tlsConn = await abortable(connecting, signal);
        try {
          await abortable(tlsConn.handshake(), signal);
        } catch (error) {
          tlsConn.close();
          signal.throwIfAborted();
          throw await plainHttpInstead(origin, error);
        }
        conn = tlsConn;
      } else {
        const tcp = await Deno.connect({
          hostname: origin.hostname,
          port: origin.port,
          signal,
        });
        tcp.setNoDelay(true);
        conn = tcp;
      }
    } catch (error) {
      signal.throwIfAborted();
      if (error instanceof Deno.errors.NotCapable) throw error;
      throw new NetworkError(messageOf(error), true, error);
    }
    const connection = new Connection(conn, origin);
    this.#open.add(connection);
    return connection;
  }

  /**
   * Readies a new connection for a request line too long for etcd's first
   * look: etcd's connection multiplexer sniffs the first request of a
   * connection from a 4 KiB buffer and drops the connection if the request
   * line does not fit; later requests on the same connection are not
   * sniffed. A short request first gets past it.
   */
  async #prime(connection: Connection, signal: AbortSignal): Promise<void> {
    const origin = connection.origin;
    const abort = () => connection.close();
    signal.addEventListener("abort", abort, { once: true });
    try {
      await this.#primed(connection, origin, signal);
    } finally {
      signal.removeEventListener("abort", abort);
    }
  }

  async #primed(
    connection: Connection,
    origin: Origin,
    signal: AbortSignal,
  ): Promise<void> {
    await writeAll(
      connection.conn,
      encoder.encode(
        `GET ${origin.base}/version HTTP/1.1\r\nhost: ${origin.host}\r\n\r\n`,
      ),
    );
    let head: Head | undefined;
    while (head === undefined) {
      signal.throwIfAborted();
      if (!await connection.fill()) throw truncated();
      head = parseHead(connection);
    }
    const answer = new SocketAnswer(this, connection, head, signal, () => {});
    if (answer.body === undefined) await answer.text();
    connection.reused = true;
  }

  /** The answer was read to its end: keep the connection for the next. */
  release(connection: Connection): void {
    const origin = connection.origin;
    const idle = this.#idle.get(origin) ?? [];
    if (
      connection.closed ||
      connection.start !== connection.end || idle.length >= this.#maxIdle ||
      // An endpoint that is no longer used.
      this.#origins.get(origin.endpoint) !== origin
    ) {
      this.drop(connection);
      return;
    }
    if (idle.length === 0) this.#idle.set(origin, idle);
    idle.push(connection);
    connection.park(this.#lost);
  }

  drop(connection: Connection): void {
    connection.close();
    this.#open.delete(connection);
  }

  #lost = (connection: Connection): void => {
    const idle = this.#idle.get(connection.origin);
    const at = idle?.indexOf(connection) ?? -1;
    if (at >= 0) idle!.splice(at, 1);
    this.drop(connection);
  };
}

interface Head {
  status: number;
  headers: ResponseHeaders;
  framing: Framing;
  keepAlive: boolean;
}

class SocketAnswer implements Incoming {
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly #transport: SocketTransport;
  readonly #connection: Connection;
  readonly #head: Head;
  readonly body: string | undefined;
  readonly #signal: AbortSignal;
  readonly #abort: () => void;
  #finished = false;

  constructor(
    transport: SocketTransport,
    connection: Connection,
    head: Head,
    signal: AbortSignal,
    abort: () => void,
  ) {
    this.status = head.status;
    this.headers = head.headers;
    this.#transport = transport;
    this.#connection = connection;
    this.#head = head;
    this.#signal = signal;
    this.#abort = abort;
    // The common case: the whole body is already in the buffer.
    const framing = head.framing;
    if (
      framing.kind === "length" &&
      connection.end - connection.start >= framing.length
    ) {
      const start = connection.start;
      connection.start += framing.length;
      this.body = decoder.decode(
        connection.buffer.subarray(start, connection.start),
      );
      this.#done(true);
    } else if (framing.kind === "none") {
      this.body = "";
      this.#done(true);
    }
  }

  text(): Promise<string> {
    const body = this.body;
    return body === undefined ? this.#read(undefined) : Promise.resolve(body);
  }

  lines(onLine: (line: string) => void): Promise<string> {
    const body = this.body;
    if (body === undefined) return this.#read(onLine);
    try {
      return Promise.resolve(splitLines(body, onLine));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  discard(): void {
    this.#done(false);
  }

  async #read(given: ((line: string) => void) | undefined): Promise<string> {
    const connection = this.#connection;
    const framing = this.#head.framing;
    const streaming = new TextDecoder("utf-8", { ignoreBOM: true });
    const parts: Uint8Array[] = [];
    let rest = "";
    // What the caller's line handler throws is the caller's, not a network
    // failure: it is passed on as it is.
    let refused: { error: unknown } | undefined;
    const onLine = given === undefined ? undefined : (line: string) => {
      try {
        given(line);
      } catch (error) {
        refused = { error };
        throw error;
      }
    };
    const deliver = (bytes: Uint8Array) => {
      if (onLine === undefined) {
        // `take` may hand out the read buffer itself: keep a copy.
        parts.push(
          bytes.buffer === connection.buffer.buffer ? bytes.slice() : bytes,
        );
        return;
      }
      rest = splitLines(
        rest + streaming.decode(bytes, { stream: true }),
        onLine,
      );
    };
    // `length` bytes of body: whole, or for a stream as they come.
    const pass = async (length: number) => {
      if (onLine === undefined) {
        deliver(await connection.take(length));
        return;
      }
      for (let left = length; left > 0;) {
        if (connection.end === connection.start && !await connection.fill()) {
          throw truncated();
        }
        const count = Math.min(left, connection.end - connection.start);
        deliver(await connection.take(count));
        left -= count;
      }
    };
    try {
      if (framing.kind === "length") {
        await pass(framing.length);
      } else if (framing.kind === "chunked") {
        for (;;) {
          const size = await readChunkSize(connection);
          if (size === 0) break;
          await pass(size);
          await expectLineEnd(connection);
        }
        await skipTrailers(connection);
      } else if (framing.kind === "close") {
        for (;;) {
          if (connection.end > connection.start) {
            deliver(await connection.take(connection.end - connection.start));
          }
          if (!await connection.fill()) break;
        }
      }
    } catch (error) {
      this.#done(false);
      if (refused !== undefined) throw refused.error;
      this.#signal.throwIfAborted();
      throw error instanceof NetworkError
        ? error
        : new NetworkError(messageOf(error), false, error);
    }
    this.#done(framing.kind !== "close");
    if (onLine !== undefined) return rest + streaming.decode();
    return decoder.decode(parts.length === 1 ? parts[0] : concat(parts));
  }

  #done(reusable: boolean): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#signal.removeEventListener("abort", this.#abort);
    if (reusable && this.#head.keepAlive) {
      this.#transport.release(this.#connection);
    } else {
      this.#transport.drop(this.#connection);
    }
  }
}

/**
 * Passes each non-empty line of `text` to `onLine`; returns what follows the
 * last line break.
 */
function splitLines(text: string, onLine: (line: string) => void): string {
  let start = 0;
  for (let end; (end = text.indexOf("\n", start)) !== -1; start = end + 1) {
    if (end > start) onLine(text.slice(start, end));
  }
  return text.slice(start);
}

/** The request as bytes: one write. */
function requestBytes(origin: Origin, outgoing: Outgoing): Uint8Array {
  let head = `${outgoing.method} ${origin.base}${outgoing.path} HTTP/1.1\r\n` +
    `host: ${origin.host}\r\n`;
  const headers = outgoing.headers;
  if (headers !== undefined) {
    for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  }
  const body = outgoing.body;
  if (body === undefined) {
    if (outgoing.method !== "GET") head += "content-length: 0\r\n";
    return encoder.encode(head + "\r\n");
  }
  const payload = encoder.encode(body);
  head += `content-type: ${outgoing.contentType}\r\n` +
    `content-length: ${payload.length}\r\n\r\n`;
  const start = encoder.encode(head);
  const bytes = new Uint8Array(start.length + payload.length);
  bytes.set(start);
  bytes.set(payload, start.length);
  return bytes;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await conn.write(bytes.subarray(written));
  }
}

/**
 * Parses the status line and headers from the buffer; `undefined` until
 * they are all there.
 */
function parseHead(connection: Connection): Head | undefined {
  for (;;) {
    const end = headEnd(
      connection.buffer,
      connection.start + connection.scanned,
      connection.end,
    );
    if (end < 0) {
      // The buffer may move before the next look: remember the offset.
      connection.scanned = Math.max(0, connection.end - connection.start - 3);
      if (connection.end - connection.start > MAX_HEAD) {
        throw new NetworkError("the answer's head is too large", false);
      }
      return undefined;
    }
    connection.scanned = 0;
    const text = decoder.decode(
      connection.buffer.subarray(connection.start, end),
    );
    connection.start = end + 4;
    const lineEnd = text.indexOf("\r\n");
    const statusLine = lineEnd < 0 ? text : text.slice(0, lineEnd);
    const status = Number(statusLine.slice(9, 12));
    if (
      !statusLine.startsWith("HTTP/1.") || statusLine.length < 12 ||
      !(status >= 100 && status <= 999)
    ) {
      throw new NetworkError(
        `the answer is not HTTP/1.1: ${
          JSON.stringify(statusLine.slice(0, 40))
        }`,
        false,
      );
    }
    // An interim answer (100 Continue) is followed by the real one.
    if (status < 200 && status !== 101) continue;
    const headers = new ResponseHeaders(lineEnd < 0 ? "" : text.slice(lineEnd));
    const connectionHeader = headers.get("connection")?.toLowerCase() ?? "";
    let keepAlive = statusLine.startsWith("HTTP/1.1")
      ? !connectionHeader.includes("close")
      : connectionHeader.includes("keep-alive");
    let framing: Framing;
    const length = headers.get("content-length");
    if (status === 204 || status === 304) {
      framing = { kind: "none" };
    } else if (
      headers.get("transfer-encoding")?.toLowerCase().includes("chunked")
    ) {
      framing = { kind: "chunked" };
    } else if (length !== null) {
      const parsed = Number(length);
      if (!Number.isSafeInteger(parsed) || parsed < 0) {
        throw new NetworkError(
          `the answer has a bad content-length: ${JSON.stringify(length)}`,
          false,
        );
      }
      framing = parsed === 0
        ? { kind: "none" }
        : { kind: "length", length: parsed };
    } else {
      framing = { kind: "close" };
      keepAlive = false;
    }
    return { status, headers, framing, keepAlive };
  }
}

/** Where `\r\n\r\n` starts in `buffer[from, to)`, or -1. */
function headEnd(buffer: Uint8Array, from: number, to: number): number {
  for (
    let at = buffer.indexOf(CR, from);
    at >= 0 && at + 3 < to;
    at = buffer.indexOf(CR, at + 1)
  ) {
    if (
      buffer[at + 1] === LF && buffer[at + 2] === CR && buffer[at + 3] === LF
    ) {
      return at;
    }
  }
  return -1;
}

/** Reads a line ending in CRLF, without it. */
async function readLine(connection: Connection): Promise<string> {
  for (;;) {
    const found = connection.buffer
      .subarray(connection.start, connection.end)
      .indexOf(LF);
    if (found >= 0) {
      const at = connection.start + found;
      const lineEnd = at > connection.start && connection.buffer[at - 1] === CR
        ? at - 1
        : at;
      const line = decoder.decode(
        connection.buffer.subarray(connection.start, lineEnd),
      );
      connection.start = at + 1;
      return line;
    }
    if (connection.end - connection.start > MAX_HEAD) {
      throw new NetworkError("a chunk header is too long", false);
    }
    if (!await connection.fill()) throw truncated();
  }
}

async function readChunkSize(connection: Connection): Promise<number> {
  const line = await readLine(connection);
  const semicolon = line.indexOf(";");
  const hex = (semicolon < 0 ? line : line.slice(0, semicolon)).trim();
  const size = /^[0-9a-fA-F]{1,12}$/.test(hex) ? parseInt(hex, 16) : NaN;
  if (!Number.isSafeInteger(size)) {
    throw new NetworkError(
      `the answer has a bad chunk size: ${JSON.stringify(line.slice(0, 20))}`,
      false,
    );
  }
  return size;
}

async function expectLineEnd(connection: Connection): Promise<void> {
  if ((await readLine(connection)) !== "") {
    throw new NetworkError("the answer has a malformed chunk", false);
  }
}

async function skipTrailers(connection: Connection): Promise<void> {
  while ((await readLine(connection)) !== "");
}

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

function truncated(): NetworkError {
  return new NetworkError(
    "the connection was closed in the middle of the answer",
    false,
  );
}

/** Rejects with the signal's reason when it aborts first. */
function abortable<T extends Deno.Conn | Deno.TlsHandshakeInfo>(
  promise: Promise<T>,
  signal: AbortSignal,
): Promise<T> {
  if (signal.aborted) {
    promise.then((value) => "close" in value && value.close(), () => {});
    return Promise.reject(signal.reason);
  }
  return new Promise((resolve, reject) => {
    const abort = () => {
      reject(signal.reason);
      // A connection that arrives after all is closed at once.
      promise.then((value) => "close" in value && value.close(), () => {});
    };
    signal.addEventListener("abort", abort, { once: true });
    promise.then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", abort)
    );
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------
// fetch

/** The runtime's `fetch`: honours `HTTP_PROXY`, slower. */
export class FetchTransport implements Transport {
  readonly #tls: TlsOptions | undefined;
  #client: Deno.HttpClient | undefined;
  // Long polls get connections of their own, so that a burst of other
  // requests cannot hold them up until etcd's history has moved on.
  #pollClient: Deno.HttpClient | undefined;

  constructor(tls: TlsOptions | undefined) {
    this.#tls = tls;
  }

  retain(): void {
    // fetch keeps its own pool.
  }

  close(): void {
    this.#client?.close();
    this.#client = undefined;
    this.#pollClient?.close();
    this.#pollClient = undefined;
  }

  #newClient(): Deno.HttpClient {
    const tls = this.#tls;
    const options: Deno.CreateHttpClientOptions = {};
    if (tls?.caCert !== undefined) options.caCerts = [tls.caCert];
    return tls?.cert !== undefined && tls.key !== undefined
      ? Deno.createHttpClient({ ...options, cert: tls.cert, key: tls.key })
      : Deno.createHttpClient(options);
  }

  async open(
    endpoint: string,
    outgoing: Outgoing,
    signal: AbortSignal,
  ): Promise<Incoming> {
    const init: RequestInit & { client?: Deno.HttpClient } = {
      method: outgoing.method,
      redirect: "manual",
      signal,
    };
    if (outgoing.poll) {
      init.client = this.#pollClient ??= this.#newClient();
    } else if (this.#tls !== undefined) {
      init.client = this.#client ??= this.#newClient();
    }
    const headers: Record<string, string> = {};
    if (outgoing.body !== undefined) {
      init.body = outgoing.body;
      headers["content-type"] = outgoing.contentType ?? "text/plain";
    }
    if (outgoing.headers !== undefined) {
      Object.assign(headers, outgoing.headers);
    }
    init.headers = headers;
    outgoing.onWritten?.();
    let response: Response;
    try {
      response = await fetch(endpoint + outgoing.path, init);
    } catch (error) {
      signal.throwIfAborted();
      const url = new URL(endpoint);
      const secure = endpoint.startsWith("https:");
      const origin = {
        hostname: url.hostname,
        port: Number(url.port || (secure ? 443 : 80)),
      };
      if (secure) throw await plainHttpInstead(origin, error);
      if (
        /closed|reset|eof|end of file|incomplete/i.test(chainText(error)) &&
        await speaksTls(origin)
      ) {
        throw new TypeError(
          `TLS: the server at ${origin.hostname}:${origin.port} speaks only TLS here: use https://`,
          { cause: error },
        );
      }
      throw error;
    }
    return {
      status: response.status,
      headers: ResponseHeaders.of(response.headers),
      // Deno ends a body read on abort only while the Response object is
      // alive: once it has been collected, an aborted long poll would hang
      // forever. A stream is read through our own reader, cancelled on
      // abort; a whole body by the native text(), with the Response kept
      // reachable until it is read.
      text: async () => {
        const text = await response.text();
        void response.headers;
        return text;
      },
      lines: (onLine) => readLines(response.body, signal, onLine),
      discard: () => void response.body?.cancel().catch(() => {}),
    };
  }
}

/**
 * Passes each line of `body` to `onLine` as it arrives; returns what follows
 * the last line break. Rejects with the signal's reason as soon as `signal`
 * aborts.
 */
async function readLines(
  body: ReadableStream<Uint8Array> | null,
  signal: AbortSignal,
  onLine: (line: string) => void,
): Promise<string> {
  if (body === null) return "";
  const reader = body.getReader();
  const cancel = () => void reader.cancel(signal.reason).catch(() => {});
  signal.addEventListener("abort", cancel, { once: true });
  try {
    const streaming = new TextDecoder("utf-8", { ignoreBOM: true });
    let rest = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest = splitLines(
        rest + streaming.decode(value, { stream: true }),
        onLine,
      );
    }
    signal.throwIfAborted();
    return rest + streaming.decode();
  } finally {
    signal.removeEventListener("abort", cancel);
  }
}
