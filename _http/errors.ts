// The errors below etcd's protocols, shared by every backend: the request
// got no etcd answer at all. Public through errors.ts.

import { type ErrorKind, KIND } from "../_core/kinds.ts";

/**
 * Base class of the errors below etcd's protocol: the request did not get an
 * etcd answer at all.
 *
 * @example Usage
 * ```ts
 * import { Client, TransportError } from "@etcd-tree/etcd-tree/v2";
 *
 * async function reachable(client: Client): Promise<boolean> {
 *   try {
 *     await client.version();
 *     return true;
 *   } catch (error) {
 *     if (error instanceof TransportError) return false;
 *     throw error;
 *   }
 * }
 * ```
 */
export class TransportError extends Error {
  /**
   * Constructs the error.
   *
   * @param message What failed, then the detail after a colon.
   * @param options The underlying cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }

  /**
   * What kind of failure this is: `"unavailable"` (another member, or a
   * later try, may do better), unless a subclass says otherwise.
   */
  get kind(): ErrorKind {
    return "unavailable";
  }

  /** The kind, for {@linkcode errorKind}. */
  get [KIND](): ErrorKind {
    return this.kind;
  }
}

/** One endpoint a request tried, and why it failed. */
export interface EndpointFailure {
  /** The endpoint's base URL. */
  endpoint: string;
  /** What went wrong there. */
  error: unknown;
}

/**
 * No endpoint could be reached. The message names every endpoint tried and
 * why it failed; {@linkcode ConnectionFailed.failures} has the details.
 *
 * @example Usage
 * ```ts
 * import { ConnectionFailed } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * const error = new ConnectionFailed("GET /v2/keys/a", [
 *   { endpoint: "http://127.0.0.1:1", error: new Error("Connection refused") },
 * ]);
 * assert.match(error.message, /127\.0\.0\.1:1: Connection refused/);
 * ```
 */
export class ConnectionFailed extends TransportError {
  /** Each endpoint tried, in order, with its error. */
  readonly failures: readonly EndpointFailure[];
  /**
   * Whether the request was a write that reached a member before the
   * connection broke: etcd may have applied it.
   */
  readonly mayHaveBeenApplied: boolean;

  /**
   * Constructs the error.
   *
   * @param request What was being requested, such as `"GET /v2/keys/a"`.
   * @param failures Each endpoint tried and its error.
   * @param mayHaveBeenApplied Whether a write reached a member first.
   */
  constructor(
    request: string,
    failures: readonly EndpointFailure[],
    mayHaveBeenApplied = false,
  ) {
    const detail = failures.map(({ endpoint, error }) =>
      `${endpoint}: ${describe(error)}`
    ).join("; ");
    super(
      `Cannot reach etcd for ${request}: ${detail}` +
        (mayHaveBeenApplied ? MAY_HAVE_BEEN_APPLIED : ""),
      { cause: failures.at(-1)?.error },
    );
    this.failures = failures;
    this.mayHaveBeenApplied = mayHaveBeenApplied;
  }
}

const MAY_HAVE_BEEN_APPLIED =
  "; the write may have been applied; read the key before retrying";

/**
 * The request did not finish within the client's `timeout`.
 *
 * For a write, {@linkcode RequestTimeout.mayHaveBeenApplied} is `true`: etcd
 * may still apply it after the client gave up, so read the key before
 * retrying a non-idempotent write.
 *
 * @example Usage
 * ```ts
 * import { RequestTimeout } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * const error = new RequestTimeout("PUT /v2/keys/a", "http://127.0.0.1:2379", 5000, true);
 * assert.ok(error.mayHaveBeenApplied);
 * assert.match(error.message, /may have been applied/);
 * ```
 */
export class RequestTimeout extends TransportError {
  /** The timeout that elapsed, in milliseconds. */
  readonly timeout: number;
  /** Whether the request was a write that etcd may still apply. */
  readonly mayHaveBeenApplied: boolean;

  /**
   * Constructs the error.
   *
   * @param request What was being requested, such as `"PUT /v2/keys/a"`.
   * @param endpoint The endpoint that did not answer in time.
   * @param timeout The timeout in milliseconds.
   * @param mayHaveBeenApplied Whether the request was a write.
   */
  constructor(
    request: string,
    endpoint: string,
    timeout: number,
    mayHaveBeenApplied: boolean,
  ) {
    super(
      `Timed out after ${timeout} ms for ${request} at ${endpoint}` +
        (mayHaveBeenApplied ? MAY_HAVE_BEEN_APPLIED : ""),
    );
    this.timeout = timeout;
    this.mayHaveBeenApplied = mayHaveBeenApplied;
  }
}

/**
 * A write was aborted (by the caller's signal) after it had been sent:
 * etcd may still apply it. The signal's reason is the `cause`.
 *
 * @example Usage
 * ```ts
 * import { RequestAborted } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * const error = new RequestAborted("PUT /v2/keys/a", "http://127.0.0.1:2379", new Error("enough"));
 * assert.ok(error.mayHaveBeenApplied);
 * assert.match(error.message, /may have been applied/);
 * ```
 */
export class RequestAborted extends TransportError {
  /** Always `true`: the write reached the network before the abort. */
  readonly mayHaveBeenApplied: true = true;

  /**
   * Constructs the error.
   *
   * @param request What was being requested, such as `"PUT /v2/keys/a"`.
   * @param endpoint Where it was sent.
   * @param reason The signal's reason.
   */
  constructor(request: string, endpoint: string, reason: unknown) {
    super(
      `Aborted ${request} at ${endpoint} after it was sent` +
        MAY_HAVE_BEEN_APPLIED,
      { cause: reason },
    );
  }

  /** Always `"unknown"`: the caller gave up; nothing to retry. */
  override get kind(): ErrorKind {
    return "unknown";
  }
}

/**
 * The server answered with something that is not an etcd v2 answer: an
 * unexpected status, a redirect, or a body that is not the expected JSON.
 *
 * @example Usage
 * ```ts
 * import { UnexpectedResponse } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * const error = new UnexpectedResponse("GET /v2/keys/a", 502, "<html>Bad gateway</html>");
 * assert.equal(error.status, 502);
 * assert.match(error.message, /HTTP 502/);
 * ```
 */
export class UnexpectedResponse extends TransportError {
  /** The HTTP status code. */
  readonly status: number;
  /** The start of the response body (at most 200 characters). */
  readonly excerpt: string;
  /**
   * Whether the request was a write that a member may have applied before
   * this answer (a gateway's 5xx, say, after forwarding it).
   */
  readonly mayHaveBeenApplied: boolean;

  /**
   * Constructs the error.
   *
   * @param request What was being requested, such as `"GET /v2/keys/a"`.
   * @param status The HTTP status.
   * @param body The response body (shortened in the message).
   * @param detail What was wrong with the answer, if more is known.
   * @param mayHaveBeenApplied Whether a write may have been applied.
   */
  constructor(
    request: string,
    status: number,
    body: string,
    detail?: string,
    mayHaveBeenApplied = false,
  ) {
    const excerpt = body.length > 200 ? `${body.slice(0, 200)}...` : body;
    super(
      `Unexpected answer from etcd for ${request}: ${
        detail ?? `HTTP ${status}`
      }: ${JSON.stringify(excerpt)}` +
        (mayHaveBeenApplied ? MAY_HAVE_BEEN_APPLIED : ""),
    );
    this.status = status;
    this.excerpt = excerpt;
    this.mayHaveBeenApplied = mayHaveBeenApplied;
  }

  /** `"unavailable"` for a 5xx answer, else `"unknown"`. */
  override get kind(): ErrorKind {
    return this.status >= 500 ? "unavailable" : "unknown";
  }
}

/**
 * An endpoint answered for another etcd cluster than the one the client
 * first talked to (by the protocol's cluster id): its answer is not used.
 *
 * @example Usage
 * ```ts
 * import { ClusterMismatch } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * const error = new ClusterMismatch("http://10.0.0.9:2379", "cdf818194e3a8c32", "48276a8f75b6a87");
 * assert.match(error.message, /belongs to cluster 48276a8f75b6a87, not cdf818194e3a8c32/);
 * ```
 */
export class ClusterMismatch extends TransportError {
  /** The endpoint that answered. */
  readonly endpoint: string;
  /** The cluster id the client is pinned to. */
  readonly expected: string;
  /** The cluster id the endpoint answered with. */
  readonly actual: string;

  /**
   * Constructs the error.
   *
   * @param endpoint The endpoint that answered.
   * @param expected The cluster id the client is pinned to.
   * @param actual The cluster id in the answer.
   */
  constructor(endpoint: string, expected: string, actual: string) {
    super(
      `Cannot use the answer of ${endpoint}: it belongs to cluster ${actual}, not ${expected}`,
    );
    this.endpoint = endpoint;
    this.expected = expected;
    this.actual = actual;
  }

  /** Always `"invalid"`: the endpoint is not one of this cluster's. */
  override get kind(): ErrorKind {
    return "invalid";
  }
}

/**
 * `sync()` found no member URL the client may use: every member advertises
 * only URLs of another scheme than the client was given (an https client
 * never moves to http, where its credentials would travel in clear). The
 * endpoints stay as they were.
 *
 * @example Usage
 * ```ts
 * import { EndpointsRefused } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * const error = new EndpointsRefused(["http://10.0.0.1:2379"], [
 *   "http://10.0.0.1:2379: not https, the scheme the client was given",
 * ]);
 * assert.match(error.message, /not https/);
 * ```
 */
export class EndpointsRefused extends TransportError {
  /** The client URLs the members advertised. */
  readonly advertised: readonly string[];

  /**
   * Constructs the error.
   *
   * @param advertised The URLs the members advertised.
   * @param reasons Why each was left out.
   */
  constructor(advertised: readonly string[], reasons: readonly string[]) {
    super(
      `Cannot use the members' client URLs: ${
        reasons.join("; ")
      }; keeping the endpoints as they were`,
    );
    this.advertised = advertised;
  }

  /** Always `"invalid"`. */
  override get kind(): ErrorKind {
    return "invalid";
  }
}

/**
 * The client was closed; no request can be made with it.
 *
 * @example Usage
 * ```ts
 * import { Client, ClientClosed } from "@etcd-tree/etcd-tree/v2";
 * import assert from "node:assert/strict";
 *
 * const client = new Client();
 * await client.close();
 * await assert.rejects(client.get("a"), ClientClosed);
 * ```
 */
export class ClientClosed extends Error {
  /** Constructs the error. */
  constructor() {
    super("Cannot use the etcd client: it is closed");
    this.name = "ClientClosed";
  }

  /** Always `"closed"`. */
  get kind(): ErrorKind {
    return "closed";
  }

  /** The kind, for {@linkcode errorKind}. */
  get [KIND](): ErrorKind {
    return this.kind;
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Deno's fetch wraps the OS error: "error sending request for url (...):
  // client error (Connect): tcp connect error: Connection refused ..." (or
  // "error sending request from A for URL (B): ...").
  let message = error.message;
  let cause: unknown = error.cause;
  while (cause instanceof Error && !message.startsWith("TLS: ")) {
    message = cause.message;
    cause = cause.cause;
  }
  if (message.startsWith("TLS: ")) return message;
  message = message.replace(/^error sending request .*? \([^)]*\): /, "");
  return explainTls(message) ?? message;
}

/** Says in words which TLS problem a message from the TLS library means. */
function explainTls(message: string): string | undefined {
  const known: [RegExp, string][] = [
    // An alert the server sent about the certificate we gave: ours was
    // refused (rustls says "received fatal alert: UnknownCA").
    [
      /received fatal alert: (UnknownCA|UnsupportedCertificate|CertificateExpired|CertificateRevoked|AccessDenied)/i,
      "TLS: the server refused our client certificate (cert / --cert): it is not signed by a CA the server trusts (its --trusted-ca-file), has expired, or is not for client use",
    ],
    [
      /KeyMismatch|keys may not be consistent/i,
      "TLS: the client certificate and the private key do not belong together (cert and key / --cert and --key): give the key the certificate was made for",
    ],
    [
      /UnknownIssuer|unknown ?ca|self.signed/i,
      "TLS: the server's certificate is not signed by a trusted CA (give the CA with caCert / --cacert)",
    ],
    [
      /NotValidForName|not valid for name|hostname/i,
      "TLS: the server's certificate is not valid for this host name",
    ],
    [
      /CertificateRequired|certificate required|HandshakeFailure|BadCertificate|bad certificate/i,
      "TLS: the server requires a client certificate it accepts (give cert and key / --cert and --key)",
    ],
    [
      /Expired/i,
      "TLS: the server's certificate has expired",
    ],
    [
      /InvalidContentType|CorruptMessage|wrong version number/i,
      "TLS: the server does not speak TLS here (use http://) or speaks only TLS (use https://)",
    ],
  ];
  for (const [pattern, text] of known) {
    if (pattern.test(message)) return `${text}: ${message}`;
  }
  return undefined;
}
