// HTTP/2 flow control (RFC 9113 section 5.2): what the peer lets us send,
// and what we let the peer send, given back as it is consumed. Internal.

import { connectionError, ErrorCode, H2Error } from "./errors.ts";
import { MAX_WINDOW } from "./frame.ts";

/** The window the peer gives us: bytes we may still send. */
export class SendWindow {
  size: number;

  constructor(initial: number) {
    this.size = initial;
  }

  /**
   * Adds the peer's WINDOW_UPDATE increment (or a SETTINGS change).
   *
   * @throws {H2Error} FLOW_CONTROL_ERROR beyond 2^31-1.
   */
  grow(increment: number, what: string): void {
    if (this.size + increment > MAX_WINDOW) {
      throw new H2Error(
        `HTTP/2 FLOW_CONTROL_ERROR: the server grew ${what}'s send window to ${
          this.size + increment
        }, over 2^31-1`,
        ErrorCode.FLOW_CONTROL_ERROR,
      );
    }
    this.size += increment;
  }
}

/**
 * The window we give the peer: bytes it may still send. Consumed bytes are
 * given back once half the window is used, in one WINDOW_UPDATE.
 */
export class ReceiveWindow {
  /** Bytes the peer may still send. */
  #left: number;
  /** Bytes consumed but not given back yet. */
  #unannounced = 0;
  readonly #target: number;

  /**
   * @param size The window the peer knows (as announced).
   * @param target The window to keep giving back up to.
   */
  constructor(size: number, target = size) {
    this.#left = size;
    this.#target = target;
  }

  /**
   * Counts `length` bytes received.
   *
   * @throws {H2Error} FLOW_CONTROL_ERROR when the peer sent more than it
   *   was allowed.
   */
  received(length: number, what: string): void {
    this.#left -= length;
    if (this.#left < 0) {
      throw connectionError(
        ErrorCode.FLOW_CONTROL_ERROR,
        `the server sent ${-this.#left} bytes beyond ${what}'s window`,
      );
    }
  }

  /**
   * Counts `length` bytes consumed; returns the increment to announce now
   * (0 for none yet).
   */
  release(length: number): number {
    this.#unannounced += length;
    if (this.#unannounced < this.#target / 2) return 0;
    const increment = this.#unannounced;
    this.#left += increment;
    this.#unannounced = 0;
    return increment;
  }
}
