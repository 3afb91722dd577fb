// The errors of HTTP/2 (RFC 9113 section 7): a connection or stream error
// named by its code. Internal; the gRPC layer turns them into the
// transport errors of _http/errors.ts.

import { type ErrorKind, KIND } from "../_core/kinds.ts";
/** HTTP/2 error codes (RFC 9113 section 7). */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

const NAMES: readonly string[] = Object.keys(ErrorCode);

/** The name of an HTTP/2 error code, such as `"PROTOCOL_ERROR"`. */
export function errorName(code: number): string {
  return NAMES[code] ?? `error code 0x${code.toString(16)}`;
}

/**
 * A failure of the HTTP/2 connection or of one stream. A `TypeError`, as
 * the transport's network errors are, so that callers treat it as the
 * member's trouble.
 */
export class H2Error extends TypeError {
  /** The HTTP/2 error code. */
  readonly code: number;
  /**
   * The request never reached the server's application (a GOAWAY below
   * its stream, REFUSED_STREAM, or the connection could not be made): it
   * may go to another member, even a write.
   */
  readonly notProcessed: boolean;

  /**
   * @param message What happened, for people.
   * @param code The HTTP/2 error code.
   * @param notProcessed Whether the server surely did not process it.
   * @param cause The underlying error.
   */
  constructor(
    message: string,
    code: number,
    notProcessed = false,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "H2Error";
    this.code = code;
    this.notProcessed = notProcessed;
  }

  /** The code's name, such as `"FRAME_SIZE_ERROR"`. */
  get codeName(): string {
    return errorName(this.code);
  }

  /**
   * Always `"unavailable"`: the member's connection or stream failed, so a
   * watch or a read may go on there later, or elsewhere.
   */
  get kind(): ErrorKind {
    return "unavailable";
  }

  /** The kind, where the library's layers look for it. */
  get [KIND](): ErrorKind {
    return this.kind;
  }
}

/** A connection error we detected: `HTTP/2 <CODE>: <detail>`. */
export function connectionError(code: number, detail: string): H2Error {
  return new H2Error(`HTTP/2 ${errorName(code)}: ${detail}`, code);
}
