// The byte stream HTTP/2 runs on, and how Deno makes one: cleartext with
// prior knowledge, or TLS with ALPN "h2". Nothing above this module is
// Deno-specific. Internal.

import type { TlsOptions } from "../_http/transport.ts";
import { ErrorCode, H2Error } from "./errors.ts";

/** A connected, ordered, reliable byte stream. */
export interface ByteStream {
  /** Reads into `into`; the count read, or `null` at the end. */
  read(into: Uint8Array): Promise<number | null>;
  /** Writes all of `bytes`. */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes both directions; pending reads end. */
  close(): void;
}

/** Makes a byte stream to one server; `signal` gives up. */
export type Dialer = (signal: AbortSignal) => Promise<ByteStream>;

class DenoStream implements ByteStream {
  readonly #conn: Deno.Conn;
  #closed = false;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  read(into: Uint8Array): Promise<number | null> {
    return this.#conn.read(into);
  }

  async write(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) {
      at += await this.#conn.write(at === 0 ? bytes : bytes.subarray(at));
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Closed already by the peer.
    }
  }
}

/**
 * A dialer of `endpoint` (`http://host:port` or `https://host:port`):
 * TCP with prior knowledge of HTTP/2, or TLS with ALPN `h2` (refused when
 * the server does not choose h2).
 *
 * @param endpoint The member's base URL.
 * @param tls PEM certificates for https.
 */
export function denoDialer(endpoint: string, tls?: TlsOptions): Dialer {
  const url = new URL(endpoint);
  const secure = url.protocol === "https:";
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || (secure ? 443 : 80));
  return async (signal) => {
    if (!secure) {
      const conn = await Deno.connect({ hostname, port, signal });
      conn.setNoDelay(true);
      return new DenoStream(conn);
    }
    const options: Deno.ConnectTlsOptions = {
      hostname,
      port,
      alpnProtocols: ["h2"],
    };
    if (tls?.caCert !== undefined) options.caCerts = [tls.caCert];
    const conn = tls?.cert !== undefined && tls.key !== undefined
      ? await Deno.connectTls({ ...options, cert: tls.cert, key: tls.key })
      : await Deno.connectTls(options);
    const onAbort = () => conn.close();
    signal.addEventListener("abort", onAbort);
    try {
      const { alpnProtocol } = await conn.handshake();
      signal.throwIfAborted();
      if (alpnProtocol !== "h2") {
        throw new H2Error(
          `HTTP/2: ${endpoint} did not choose HTTP/2 in the TLS handshake (ALPN ${
            alpnProtocol === null ? "none" : JSON.stringify(alpnProtocol)
          }): it does not serve gRPC`,
          ErrorCode.HTTP_1_1_REQUIRED,
          true,
        );
      }
    } catch (error) {
      try {
        conn.close();
      } catch {
        // Closed already.
      }
      throw error;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    return new DenoStream(conn);
  };
}
