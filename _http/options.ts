// The connection options every protocol's client takes, checked once.
// Internal.

import { endpointList } from "./endpoints.ts";
import type { TlsOptions } from "./transport.ts";

/** What a client's connection options come to. */
export interface Connection {
  endpoints: string[];
  timeout: number;
  maxConcurrency: number;
  tls: TlsOptions | undefined;
  transport: "sockets" | "fetch";
  syncInterval: number | undefined;
  /** Told of things worth knowing that are not errors (skipped members). */
  warn: (message: string) => void;
}

/** The options that every client takes. */
export interface ConnectionOptions {
  endpoints?: string | readonly string[];
  timeout?: number;
  maxConcurrency?: number;
  tls?: TlsOptions;
  syncInterval?: number;
  transport?: "sockets" | "fetch";
  onWarning?: (message: string) => void;
}

const DEFAULT_ENDPOINT = "http://127.0.0.1:2379";

/** Checks the options; every problem is a `TypeError` or `RangeError`. */
export function connection(options: ConnectionOptions): Connection {
  const endpoints = endpointList(
    options.endpoints ?? DEFAULT_ENDPOINT,
    options.tls !== undefined,
  );
  const timeout = options.timeout ?? 5000;
  if (!(timeout >= 0) || !Number.isFinite(timeout)) {
    throw new RangeError(
      `Invalid timeout ${timeout}: expected milliseconds >= 0`,
    );
  }
  const maxConcurrency = options.maxConcurrency ?? 64;
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) {
    throw new RangeError(
      `Invalid maxConcurrency ${maxConcurrency}: expected an integer >= 1`,
    );
  }
  const tls = options.tls;
  if (
    tls !== undefined && (tls.cert === undefined) !== (tls.key === undefined)
  ) {
    throw new TypeError(
      "Invalid tls options: give a client cert and its key together",
    );
  }
  for (
    const [field, kind] of [
      ["caCert", "CERTIFICATE"],
      ["cert", "CERTIFICATE"],
      ["key", "PRIVATE KEY"],
    ] as const
  ) {
    const pem = tls?.[field];
    if (
      pem !== undefined &&
      !new RegExp(`-----BEGIN [A-Z ]*${kind}-----`).test(pem)
    ) {
      throw new TypeError(
        `Invalid tls.${field}: it holds no PEM ${
          kind === "CERTIFICATE" ? "certificate" : "private key"
        } ("-----BEGIN ${kind}-----")`,
      );
    }
  }
  if (tls !== undefined) {
    const plain = endpoints.find((endpoint) => endpoint.startsWith("http:"));
    if (plain !== undefined) {
      throw new TypeError(
        `Invalid endpoints: TLS settings were given, but ${plain} is http:// and would not use them; use https://`,
      );
    }
  }
  const transport = options.transport ?? "sockets";
  if (transport !== "sockets" && transport !== "fetch") {
    throw new TypeError(
      `Invalid transport ${
        JSON.stringify(transport)
      }: expected "sockets" or "fetch"`,
    );
  }
  const every = options.syncInterval;
  if (every !== undefined && (!(every > 0) || !Number.isFinite(every))) {
    throw new RangeError(
      `Invalid syncInterval ${every}: expected milliseconds > 0`,
    );
  }
  return {
    endpoints,
    timeout,
    maxConcurrency,
    tls,
    transport,
    syncInterval: every,
    warn: options.onWarning ??
      ((message) => console.warn(`etcd-tree: ${message}`)),
  };
}
