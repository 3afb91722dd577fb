// What the command-line tools share: flags, the client they make, exit
// codes, one-line error messages and progress on a terminal. Internal.

import { createPrivateKey, X509Certificate } from "node:crypto";
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { EtcdClient } from "../client.ts";
import { Client, type ClientOptions } from "../v2/_client.ts";
import { errorKind } from "../_core/kinds.ts";
import { otherSpelling } from "../_core/spelling.ts";
import { type Store, storeOf, type Subtree } from "../_core/store.ts";
import { UnexpectedResponse } from "../_http/errors.ts";
import { redact } from "../_http/endpoints.ts";
import { Client as V3Client } from "../v3/_client.ts";
import { UserRequired } from "../v3/_errors.ts";
import { Unauthorized } from "../v2/_errors.ts";
import { visible } from "./_escape.ts";
import denoJson from "../deno.json" with { type: "json" };

/** The package version, for `--version`. */
export const VERSION: string = denoJson.version;

/** Where a tool reads and writes; tests pass their own. */
export interface Io {
  /** Standard output. */
  stdout: WritableStream<Uint8Array>;
  /** Standard error. */
  stderr: WritableStream<Uint8Array>;
  /** Standard input. */
  stdin: ReadableStream<Uint8Array>;
  /** Whether standard error is a terminal (progress is shown only then). */
  stderrIsTerminal: boolean;
  /** Environment variables. */
  env: (name: string) => string | undefined;
  /** Ends a long-running tool (etcdmon) cleanly. */
  signal?: AbortSignal;
  /** Asks for a secret on a terminal; `undefined` when there is none. */
  prompt?: (question: string) => Promise<string | undefined>;
}

/** The process's own streams and environment. */
export function processIo(): Io {
  return {
    stdout: Deno.stdout.writable,
    stderr: Deno.stderr.writable,
    stdin: Deno.stdin.readable,
    stderrIsTerminal: Deno.stderr.isTerminal(),
    env: (name) => Deno.env.get(name),
    prompt: promptHidden,
  };
}

/** A bad command line: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** An expected failure with a message of its own: exit code 1. */
export class Failure extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "Failure";
  }
}

/** Flags every tool takes. */
export const COMMON_OPTIONS = {
  api: { type: "string" },
  endpoints: { type: "string" },
  cacert: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  user: { type: "string" },
  "password-file": { type: "string" },
  timeout: { type: "string" },
  transport: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const satisfies ParseArgsConfig["options"];

/** The help text of the common flags. */
export const COMMON_HELP = `Connection:
  --api v3|v2               etcd's API (env ETCD_API; default: v3 when the
                            server has its v3 gateway, else v2); etcd keeps
                            the keys of the two apart
  --endpoints URL[,URL...]  etcd members (env ETCD_ENDPOINTS, then
                            ETCDCTL_ENDPOINTS; default
                            http://127.0.0.1:2379); HOST:PORT means http://,
                            or https:// with --cacert/--cert
  --cacert FILE             PEM certificates of authorities to trust (env
                            ETCDCTL_CACERT)
  --cert FILE, --key FILE   a client certificate and its key (PEM; env
                            ETCDCTL_CERT, ETCDCTL_KEY)
  --user NAME               etcd user (env ETCD_USER, then ETCDCTL_USER);
                            the password comes from env ETCD_PASSWORD (then
                            ETCDCTL_PASSWORD), --password-file, or a prompt
                            on a terminal (NAME:PASSWORD works too, but
                            shows the password in the process list)
  --password-file FILE      read the password from FILE (its first line)
  --timeout MS              milliseconds per request (default 5000)
  --transport grpc|gateway  v3's wire: etcd's gRPC (the default; the gateway
                            where an endpoint answers only HTTP/1.1) or its
                            JSON gateway over HTTP/1.1
  -h, --help                this help
  --version                 the version`;

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parses a command line strictly; problems become a {@linkcode UsageError}. */
export function parse<T extends Options>(
  args: readonly string[],
  options: T,
) {
  try {
    return parseArgs({
      args: [...args],
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // "-1" looks like an option to the parser: say what to write instead.
    const ambiguous = /^Option '(--[\w-]+)[^']*' argument is ambiguous/.exec(
      message,
    );
    if (ambiguous) {
      throw new UsageError(
        `Invalid ${ambiguous[1]}: its value starts with "-"; write ${
          ambiguous[1]
        }=VALUE if that is meant`,
      );
    }
    throw new UsageError(message);
  }
}

/** Prints `--help` or `--version` if asked for; returns whether it did. */
export async function answerInfo(
  values: { help?: boolean | undefined; version?: boolean | undefined },
  io: Io,
  tool: string,
  help: string,
): Promise<boolean> {
  if (values.help) await write(io.stdout, help + "\n");
  else if (values.version) await write(io.stdout, `${tool} ${VERSION}\n`);
  else return false;
  return true;
}

/**
 * The PREFIX argument (the first positional). Without one, `missing` is
 * the usage error, or `undefined` (every key) when it is not given; more
 * than `max` positionals are a usage error too.
 */
export function prefixArgument(
  positionals: readonly string[],
  max: number,
  missing?: string,
): string | undefined {
  if (positionals.length > max) {
    throw new UsageError(
      `Too many arguments: ${positionals.slice(max).join(" ")}`,
    );
  }
  const given = positionals[0];
  if (given === undefined && missing !== undefined) {
    throw new UsageError(missing);
  }
  return given;
}

/**
 * The subtree of PREFIX in a store: v2's root is `/`; on v3 keys are bytes,
 * so `/app` and `app` differ, and no PREFIX means every key.
 */
export function subtreeOf(store: Store, prefix: string | undefined): Subtree {
  try {
    return store.subtree(
      prefix ?? (store.capabilities.protocol === "v2" ? "/" : ""),
      "PREFIX",
    );
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * When PREFIX holds nothing in the API in use, what does hold something:
 * the other API's store (etcd keeps v2 and v3 keys apart), or on v3 the
 * same prefix with or without its leading "/". `undefined` when neither.
 */
export async function elsewhere(
  client: EtcdClient,
  prefix: string | undefined,
): Promise<string | undefined> {
  const store = storeOf(client);
  const api = store.capabilities.protocol;
  const count = async (other: Store, key: string | undefined) => {
    const subtree = subtreeOf(other, key);
    const snapshot = await other.snapshot(subtree);
    return {
      key: subtree.key,
      n: snapshot.entries.filter((e) => !e.dir).length,
    };
  };
  try {
    const twin = prefix === undefined
      ? undefined
      : await otherSpelling(store, prefix);
    if (twin !== undefined) return twin;
    const options = optionsOf.get(client);
    if (options === undefined) return undefined;
    await using other = api === "v2"
      ? new V3Client({ ...options, timeout: 2000 })
      : new Client({ ...options, timeout: 2000 });
    const found = await count(storeOf(other), prefix);
    if (found.n > 0) {
      return `no ${api} keys under ${
        JSON.stringify(prefix ?? (api === "v2" ? "/" : ""))
      }, but etcd's ${
        api === "v2" ? "v3" : "v2"
      } store has ${found.n} (etcd keeps the keys of its two APIs apart): give --api ${
        api === "v2" ? "v3" : "v2"
      }`;
    }
  } catch {
    // The other API is not served, or not to us: nothing to say.
  }
  return undefined;
}

/**
 * A signal that aborts on Ctrl-C, or on `io.signal` when the caller gave
 * one; disposing it stops listening.
 */
export function interruption(io: Io): {
  readonly signal: AbortSignal;
  [Symbol.dispose](): void;
} {
  const controller = new AbortController();
  const stop = () => controller.abort();
  if (io.signal) {
    if (io.signal.aborted) controller.abort();
    else io.signal.addEventListener("abort", stop, { once: true });
  } else {
    Deno.addSignalListener("SIGINT", stop);
  }
  return {
    signal: controller.signal,
    [Symbol.dispose]() {
      if (io.signal) io.signal.removeEventListener("abort", stop);
      else Deno.removeSignalListener("SIGINT", stop);
    },
  };
}

/** The common flags' values. */
export interface ConnectionFlags {
  api?: string | undefined;
  endpoints?: string | undefined;
  cacert?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  user?: string | undefined;
  "password-file"?: string | undefined;
  timeout?: string | undefined;
  transport?: string | undefined;
}

/**
 * Makes the client the flags and environment describe: of `--api`, or
 * without it v3 when the server has its v3 gateway, else v2.
 */
export async function connect(
  flags: ConnectionFlags,
  io: Io,
  extra: { maxConcurrency?: number; maxTxnOps?: number } = {},
): Promise<EtcdClient> {
  const api = flags.api ?? io.env("ETCD_API");
  if (api !== undefined && api !== "v2" && api !== "v3") {
    throw new UsageError(
      `Invalid ${flags.api === undefined ? "ETCD_API" : "--api"} ${
        JSON.stringify(api)
      }: expected v3 or v2`,
    );
  }
  const transport = flags.transport;
  if (transport !== undefined) {
    if (transport !== "grpc" && transport !== "gateway") {
      throw new UsageError(
        `Invalid --transport ${
          JSON.stringify(transport)
        }: expected grpc or gateway`,
      );
    }
    if (api === "v2") {
      throw new UsageError(
        "Invalid --transport: it chooses v3's wire, and --api v2 was given",
      );
    }
  }
  const { maxTxnOps, ...common } = extra;
  const options = await clientOptions(flags, io, common);
  const make = (which: "v2" | "v3"): EtcdClient => {
    try {
      // The server's --max-txn-ops, where the user gave it, and the wire
      // (v3 only).
      const client = which === "v2" ? new Client(options) : new V3Client({
        ...options,
        ...(maxTxnOps === undefined ? {} : { maxTxnOps }),
        ...(transport === undefined ? {} : { transport }),
      });
      optionsOf.set(client, options);
      return client;
    } catch (error) {
      throw new UsageError(
        error instanceof Error ? error.message : String(error),
      );
    }
  };
  if (api === "v2" || api === "v3") return make(api);
  const v3 = make("v3") as V3Client;
  if (await servesV3(v3)) return v3;
  await v3.close();
  return make("v2");
}

/**
 * A v3 client made as `client` was (its TLS and credentials) for other
 * `endpoints`, such as one member's; `undefined` for a client `connect`
 * did not make.
 */
export function clientLike(
  client: EtcdClient,
  endpoints: readonly string[],
): V3Client | undefined {
  const options = optionsOf.get(client);
  if (options === undefined) return undefined;
  return new V3Client({ ...options, endpoints, timeout: 2000 });
}

/** The options each client of `connect` was made with (for `elsewhere`). */
const optionsOf = new WeakMap<EtcdClient, ClientOptions>();

/**
 * Whether the server answers etcd's v3 gateway: any JSON answer of it (a
 * permission error too) says so; a 404 says it is not there.
 */
async function servesV3(client: V3Client): Promise<boolean> {
  try {
    await client.get(new Uint8Array([0]), { serializable: true });
    return true;
  } catch (error) {
    if (error instanceof UnexpectedResponse && error.status === 404) {
      return false;
    }
    if (errorKind(error) !== undefined && errorKind(error) !== "unavailable") {
      return true; // the gateway answered, refusing: v3 it is
    }
    throw error;
  }
}

/** The client options the flags and environment describe. */
async function clientOptions(
  flags: ConnectionFlags,
  io: Io,
  extra: { maxConcurrency?: number },
): Promise<ClientOptions> {
  const options: ClientOptions = { ...extra };
  const endpoints = setting(flags.endpoints, io, "ETCD_ENDPOINTS") ??
    setting(undefined, io, "ETCDCTL_ENDPOINTS");
  if (endpoints !== undefined) options.endpoints = endpoints.value;
  if (flags.timeout !== undefined) {
    const timeout = Number(flags.timeout);
    if (!/^\d+$/.test(flags.timeout) || !Number.isSafeInteger(timeout)) {
      throw new UsageError(
        `Invalid --timeout ${
          JSON.stringify(flags.timeout)
        }: expected whole milliseconds`,
      );
    }
    options.timeout = timeout;
  }
  const cacert = setting(flags.cacert, io, "ETCDCTL_CACERT", "--cacert");
  const cert = setting(flags.cert, io, "ETCDCTL_CERT", "--cert");
  const key = setting(flags.key, io, "ETCDCTL_KEY", "--key");
  if ((cert === undefined) !== (key === undefined)) {
    const given = (cert ?? key)!.name;
    throw new UsageError(
      given.startsWith("--")
        ? "Invalid --cert/--key: give both or neither"
        : "Invalid ETCDCTL_CERT/ETCDCTL_KEY: give both or neither",
    );
  }
  if (cacert !== undefined || cert !== undefined) {
    const tls: NonNullable<ClientOptions["tls"]> = {};
    if (cacert !== undefined) {
      tls.caCert = await readPem(cacert.value, cacert.name, "CERTIFICATE");
    }
    if (cert !== undefined && key !== undefined) {
      tls.cert = await readPem(cert.value, cert.name, "CERTIFICATE");
      tls.key = await readPem(key.value, key.name, "PRIVATE KEY");
      checkKeyPair(tls.cert, cert, tls.key, key);
    }
    const plain = (options.endpoints as string | undefined ??
      "http://127.0.0.1:2379").split(",")
      .find((endpoint) => /^\s*http:/i.test(endpoint));
    if (plain !== undefined) {
      throw new UsageError(
        `Invalid ${
          [cacert, cert].filter((given) => given !== undefined)
            .map((given) => given!.name).join(", ")
        }: the endpoint ${
          JSON.stringify(redact(plain.trim()))
        } is http://, which would not use TLS; give https:// endpoints (or HOST:PORT)`,
      );
    }
    options.tls = tls;
  }
  const user = setting(flags.user, io, "ETCD_USER") ??
    setting(undefined, io, "ETCDCTL_USER");
  if (user !== undefined) {
    options.auth = await credentials(user, flags["password-file"], io);
  } else if (flags["password-file"] !== undefined) {
    throw new UsageError("Invalid --password-file: give --user NAME too");
  } else {
    anonymous.add(io);
  }
  return options;
}

/** A setting and where it came from: a flag's name or a variable's. */
interface Setting {
  value: string;
  name: string;
}

/**
 * A flag's value, else the environment variable's (empty counts as unset,
 * as etcdctl has it); `undefined` when neither is given.
 */
function setting(
  flag: string | undefined,
  io: Io,
  variable: string,
  flagName = `--${variable.replace(/^ETCD(CTL)?_/, "").toLowerCase()}`,
): Setting | undefined {
  if (flag !== undefined) return { value: flag, name: flagName };
  const value = io.env(variable);
  return value === undefined || value === ""
    ? undefined
    : { value, name: variable };
}

/** A PEM file's text; it must hold a block of `kind`. */
async function readPem(
  path: string,
  flag: string,
  kind: "CERTIFICATE" | "PRIVATE KEY",
): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new UsageError(
      `Cannot read ${flag} ${JSON.stringify(path)}: ${
        error instanceof Error ? error.message : error
      }`,
    );
  }
  const found = kind === "CERTIFICATE"
    ? /-----BEGIN CERTIFICATE-----/.test(text)
    : /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text);
  if (!found) {
    throw new UsageError(
      `Invalid ${flag} ${JSON.stringify(path)}: it holds no PEM ${
        kind === "CERTIFICATE" ? "certificate" : "private key"
      } ("-----BEGIN ${kind}-----")`,
    );
  }
  return text;
}

/**
 * Refuses a client certificate and a key that do not belong together,
 * naming both files (the TLS library would only say "KeyMismatch" at the
 * first request).
 */
function checkKeyPair(
  cert: string,
  certFile: Setting,
  key: string,
  keyFile: Setting,
): void {
  const files = `${certFile.name} ${
    JSON.stringify(certFile.value)
  } and ${keyFile.name} ${JSON.stringify(keyFile.value)}`;
  let matches: boolean;
  try {
    matches = new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
  } catch (error) {
    throw new UsageError(
      `Invalid ${files}: ${error instanceof Error ? error.message : error}`,
    );
  }
  if (!matches) {
    throw new UsageError(
      `Invalid ${files}: the key is not the certificate's private key; give the key the certificate was made for`,
    );
  }
}

/**
 * The user and password: `NAME:PASSWORD`, or `NAME` with the password from
 * a password file, ETCD_PASSWORD (then ETCDCTL_PASSWORD), or a prompt on a
 * terminal (not echoed).
 */
async function credentials(
  given: Setting,
  passwordFile: string | undefined,
  io: Io,
): Promise<{ username: string; password: string }> {
  const user = given.value;
  const colon = user.indexOf(":");
  const username = colon < 0 ? user : user.slice(0, colon);
  if (username === "") {
    throw new UsageError(
      `Invalid ${given.name}: expected NAME (or NAME:PASSWORD)`,
    );
  }
  let password = colon < 0 ? undefined : user.slice(colon + 1);
  if (password === undefined && passwordFile !== undefined) {
    try {
      password = (await Deno.readTextFile(passwordFile)).split(/\r?\n/)[0]!;
    } catch (error) {
      throw new UsageError(
        `Cannot read --password-file ${JSON.stringify(passwordFile)}: ${
          error instanceof Error ? error.message : error
        }`,
      );
    }
  }
  password ??= setting(undefined, io, "ETCD_PASSWORD")?.value ??
    setting(undefined, io, "ETCDCTL_PASSWORD")?.value;
  password ??= await io.prompt?.(`Password for ${username}: `);
  if (password === undefined) {
    throw new UsageError(
      `Invalid ${given.name}: no password for ${
        JSON.stringify(username)
      }; set ETCD_PASSWORD, give --password-file FILE, or run on a terminal to be asked`,
    );
  }
  return { username, password };
}

/**
 * Asks for a password on the terminal, not echoing it; `undefined` when
 * standard input is not a terminal.
 */
async function promptHidden(question: string): Promise<string | undefined> {
  if (!Deno.stdin.isTerminal()) return undefined;
  await write(Deno.stderr.writable, question);
  Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  const buffer = new Uint8Array(64);
  try {
    for (;;) {
      const count = await Deno.stdin.read(buffer);
      if (count === null) break;
      for (const byte of buffer.subarray(0, count)) {
        if (byte === 13 || byte === 10) {
          return new TextDecoder("utf-8", { ignoreBOM: true }).decode(
            new Uint8Array(bytes),
          );
        }
        if (byte === 3) throw new Failure("Interrupted");
        if (byte === 127 || byte === 8) bytes.pop();
        else bytes.push(byte);
      }
    }
    return new TextDecoder("utf-8", { ignoreBOM: true }).decode(
      new Uint8Array(bytes),
    );
  } finally {
    Deno.stdin.setRaw(false);
    await write(Deno.stderr.writable, "\n");
  }
}

const queues = new WeakMap<WritableStream<Uint8Array>, Promise<void>>();
const encoder = new TextEncoder();

/** Writes text to a stream, whole, after what was written to it before. */
export function write(
  stream: WritableStream<Uint8Array>,
  text: string,
): Promise<void> {
  const before = queues.get(stream) ?? Promise.resolve();
  const written = before.catch(() => {}).then(async () => {
    const writer = stream.getWriter();
    try {
      await writer.write(encoder.encode(text));
    } finally {
      writer.releaseLock();
    }
  });
  queues.set(stream, written);
  return written;
}

/**
 * The runs that gave no user: a refusal by v2 (which lets a guest in until
 * its role is revoked) then means a user is required.
 */
const anonymous = new WeakSet<Io>();

/** What to do when etcd has authentication on and no user was given. */
const USER_REQUIRED =
  "etcd requires a user (its authentication is on): give --user NAME or set ETCD_USER (or etcdctl's ETCDCTL_USER); the password comes from ETCD_PASSWORD (or ETCDCTL_PASSWORD), --password-file FILE or a prompt on a terminal";

/**
 * Runs a tool's body: returns its exit code, turning expected failures into
 * one line on stderr (`tool: message`), never a stack trace.
 */
export async function run(
  tool: string,
  io: Io,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (error) {
    const usage = error instanceof UsageError;
    const message = error instanceof UserRequired ||
        (error instanceof Unauthorized && anonymous.has(io))
      ? USER_REQUIRED
      : error instanceof Error
      ? error.message
      : String(error);
    // One line: the first line of the message, safe on a terminal.
    const line = visible(redact(message.split("\n")[0] ?? ""));
    await write(
      io.stderr,
      `${tool}: ${line}${usage ? `\nTry "${tool} --help".` : ""}\n`,
    ).catch(() => {});
    return usage ? 2 : 1;
  }
}

/** A progress line on stderr, redrawn at most every 100 ms; terminals only. */
export class Progress {
  readonly #io: Io;
  readonly #label: string;
  readonly #total: number;
  #done = 0;
  #drawn = 0;

  constructor(io: Io, label: string, total: number) {
    this.#io = io;
    this.#label = label;
    this.#total = total;
  }

  /** Counts one more step done. */
  step(): void {
    this.#done++;
    if (!this.#io.stderrIsTerminal) return;
    const now = performance.now();
    if (now - this.#drawn < 100 && this.#done < this.#total) return;
    this.#drawn = now;
    const width = 30;
    const filled = this.#total === 0
      ? width
      : Math.round(width * this.#done / this.#total);
    void write(
      this.#io.stderr,
      `\r${this.#label} [${"=".repeat(filled)}${
        " ".repeat(width - filled)
      }] ${this.#done}/${this.#total}`,
    ).catch(() => {});
  }

  /** Clears the line. */
  async end(): Promise<void> {
    if (this.#io.stderrIsTerminal && this.#drawn > 0) {
      await write(this.#io.stderr, "\r\x1b[K").catch(() => {});
    }
  }
}
