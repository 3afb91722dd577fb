/**
 * Throwaway etcd servers for tests, demos and benchmarks.
 *
 * {@linkcode startEtcd} starts a real `etcd` process on free loopback ports
 * with a temporary data directory, waits until it is healthy, and removes
 * everything again on dispose. {@linkcode startCluster} does the same for an
 * N-member cluster. The binary is `etcd` on `PATH`, or `ETCD_BIN`; with
 * `version: "3.5"`, `ETCD35_BIN` or the etcd 3.5 that `tools/dev.sh`
 * unpacks into `.tools/etcd-3.5`.
 *
 * Needs `--allow-run`, `--allow-net`, `--allow-read`, `--allow-write` and
 * `--allow-env`.
 *
 * @example Usage
 * ```ts
 * import { Client } from "@etcd-tree/etcd-tree/v2";
 * import { startEtcd } from "@etcd-tree/etcd-tree/testing";
 *
 * async function usage() {
 *   await using etcd = await startEtcd();
 *   await using client = new Client({ endpoints: etcd.endpoint });
 *   await client.set("hello", "world");
 * }
 * ```
 *
 * @module
 */

/** Options of {@linkcode startEtcd}. */
export interface EtcdServerOptions {
  /**
   * Which etcd to run: `"3.4"` is `ETCD_BIN` or `etcd` on `PATH` (Debian's
   * `etcd-server`); `"3.5"` is `ETCD35_BIN` or `.tools/etcd-3.5/usr/bin/etcd`
   * (what `tools/dev.sh` downloads). Without it (or `binary`), `ETCD_BIN`
   * or `etcd`, whatever its version. The version is checked.
   */
  version?: "3.4" | "3.5";
  /**
   * Serve the v2 API (`--enable-v2=true`). etcd 3.5 and later ship without
   * it, so the default is `true` for etcd 3.4 and `false` after.
   */
  enableV2?: boolean;
  /** Further command-line arguments for `etcd`. */
  args?: readonly string[];
  /**
   * The `etcd` binary (its version is checked only when `version` is given).
   *
   * @default {Deno.env.get("ETCD_BIN") ?? "etcd"}
   */
  binary?: string;
  /**
   * Milliseconds to wait for the server to become healthy.
   *
   * @default {30000}
   */
  startTimeout?: number;
  /** Serve clients over TLS (`https://` endpoints). */
  tls?: EtcdTlsOptions;
  /** More client URLs to listen on besides the endpoint, such as `http://127.0.0.1:PORT`. */
  alsoListen?: readonly string[];
  /**
   * Client URLs that serve HTTP/1.1 only (etcd 3.5's
   * `--listen-client-http-urls`: the JSON gateway, `/health`); the
   * endpoint then serves gRPC only. A function gets the endpoint and is
   * asked once per member (each member of a cluster needs its own).
   */
  listenHttpOnly?:
    | readonly string[]
    | ((endpoint: string) => readonly string[]);
  /**
   * The client URLs to advertise to members and clients (`/v2/members`,
   * member list) instead of the endpoint; a function gets the endpoint.
   */
  advertise?: readonly string[] | ((endpoint: string) => readonly string[]);
}

/** TLS for the client port of a test server: paths of PEM files. */
export interface EtcdTlsOptions {
  /** The server's certificate. */
  certFile: string;
  /** The server's private key. */
  keyFile: string;
  /**
   * The CA that signed the server's certificate (trusted by the health
   * check) and, with `clientCertAuth`, the clients'.
   */
  caFile: string;
  /** Require a client certificate signed by `caFile`. */
  clientCertAuth?: boolean;
  /** A client certificate for the health check, when client certificates are required. */
  clientCertFile?: string;
  /** Its private key. */
  clientKeyFile?: string;
}

function tlsArgs(tls: EtcdTlsOptions | undefined): string[] {
  if (tls === undefined) return [];
  const args = ["--cert-file", tls.certFile, "--key-file", tls.keyFile];
  if (tls.clientCertAuth) {
    args.push("--client-cert-auth", "--trusted-ca-file", tls.caFile);
  }
  return args;
}

/** Options of {@linkcode startCluster}. */
export type EtcdClusterOptions = EtcdServerOptions;

const INSTALL_HINT =
  'install it with "apt-get install etcd-server" (Debian, Ubuntu) or point ETCD_BIN at an etcd 3.4 or 3.5 binary';

interface MemberPlan {
  name: string;
  clientPort: number;
  peerPort: number;
  dir: string;
  initialCluster: string;
  /** Shared by every member of one cluster. */
  token: string;
}

/**
 * One etcd process started by {@linkcode startEtcd} or
 * {@linkcode startCluster}. It can be stopped, killed, paused and started
 * again with the same data, to test what clients do then.
 *
 * @example Usage
 * ```ts
 * import { startEtcd } from "@etcd-tree/etcd-tree/testing";
 *
 * async function usage() {
 *   await using etcd = await startEtcd();
 *   await etcd.kill();   // SIGKILL, data kept
 *   await etcd.start();  // back, same port and data
 * }
 * ```
 */
export class EtcdServer implements AsyncDisposable {
  /** The member's name. */
  readonly name: string;
  /** The client URL, such as `http://127.0.0.1:41234`. */
  readonly endpoint: string;
  /** The client port. */
  readonly clientPort: number;
  /** The peer port. */
  readonly peerPort: number;
  /** The directory that holds the data directory and `etcd.log`. */
  readonly dir: string;
  /** The client URLs that serve HTTP/1.1 only (`listenHttpOnly`), if any. */
  readonly httpOnly: readonly string[];
  readonly #plan: MemberPlan;
  readonly #options: EtcdServerOptions;
  #child: Deno.ChildProcess | undefined;
  #exited: Promise<Deno.CommandStatus> | undefined;
  #log: Promise<void> | undefined;
  #hasExited = false;
  #version = "";

  /**
   * Prepares a server; {@linkcode EtcdServer.start} runs it. Use
   * {@linkcode startEtcd} or {@linkcode startCluster} instead.
   *
   * @param plan The member's name, ports, directory and initial cluster.
   * @param options The server options.
   */
  constructor(plan: MemberPlan, options: EtcdServerOptions) {
    this.#plan = plan;
    this.#options = options;
    this.name = plan.name;
    this.clientPort = plan.clientPort;
    this.peerPort = plan.peerPort;
    this.endpoint = `${
      options.tls ? "https" : "http"
    }://127.0.0.1:${plan.clientPort}`;
    const httpOnly = options.listenHttpOnly ?? [];
    this.httpOnly = typeof httpOnly === "function"
      ? httpOnly(this.endpoint)
      : httpOnly;
    this.dir = plan.dir;
  }

  /** The server's version, such as `"3.5.30"` (known once started). */
  get version(): string {
    return this.#version;
  }

  /**
   * The `etcd` binary it runs; `etcdctl` and `etcdutl` of the same version
   * are usually beside it.
   */
  get binary(): string {
    return binaryOf(this.#options);
  }

  /** Whether the process is running. */
  get running(): boolean {
    return this.#child !== undefined;
  }

  /** The process id, while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /**
   * Starts the process (again) and, unless `wait` is `false`, waits until it
   * answers `/health`.
   *
   * @param wait Whether to wait for health.
   * @throws {Error} When etcd is not installed or does not become healthy.
   */
  async start(wait = true): Promise<void> {
    if (this.#child) return;
    const plan = this.#plan;
    const peer = `http://127.0.0.1:${plan.peerPort}`;
    const binary = this.binary;
    this.#version ||= await versionOf(binary, this.#options.version);
    const enableV2 = this.#options.enableV2 ?? this.#version.startsWith("3.4.");
    const args = [
      "--name",
      plan.name,
      "--data-dir",
      `${plan.dir}/data`,
      "--listen-client-urls",
      [this.endpoint, ...(this.#options.alsoListen ?? [])].join(","),
      ...(this.httpOnly.length
        ? ["--listen-client-http-urls", this.httpOnly.join(",")]
        : []),
      "--advertise-client-urls",
      advertised(this.#options.advertise, this.endpoint).join(","),
      "--listen-peer-urls",
      peer,
      "--initial-advertise-peer-urls",
      peer,
      "--initial-cluster",
      plan.initialCluster,
      "--initial-cluster-token",
      plan.token,
      `--enable-v2=${enableV2}`,
      ...tlsArgs(this.#options.tls),
      "--log-outputs",
      "stderr",
      ...(this.#options.args ?? []),
    ];
    // A missing binary was reported by versionOf() already.
    const child = new Deno.Command(binary, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    const file = await Deno.open(`${plan.dir}/etcd.log`, {
      create: true,
      append: true,
    });
    this.#log = child.stderr.pipeTo(file.writable).catch(() => {});
    this.#hasExited = false;
    this.#exited = child.status.then((status) => {
      this.#hasExited = true;
      return status;
    });
    if (wait) await this.waitHealthy();
  }

  /**
   * Waits until the member answers `/health` with `{"health":"true"}`.
   *
   * @throws {Error} When the process exits or the start timeout passes.
   */
  async waitHealthy(): Promise<void> {
    const deadline = Date.now() + (this.#options.startTimeout ?? 30_000);
    const client = await this.#httpClient();
    try {
      await this.#poll(deadline, client);
    } finally {
      client?.close();
    }
  }

  /**
   * Whether this member is the cluster's raft leader now, by its own
   * account (`/v3/maintenance/status`).
   *
   * @returns `true` when the member says it leads; `false` when it follows,
   *   knows no leader or does not answer within a second.
   */
  async isLeader(): Promise<boolean> {
    const client = await this.#httpClient();
    try {
      const init: RequestInit & { client?: Deno.HttpClient } = {
        method: "POST",
        body: "{}",
        signal: AbortSignal.timeout(1000),
      };
      if (client) init.client = client;
      // With HTTP-only URLs, the endpoint answers gRPC alone.
      const http = this.httpOnly[0] ?? this.endpoint;
      const response = await fetch(`${http}/v3/maintenance/status`, init);
      const status = await response.json() as {
        header?: { member_id?: string };
        leader?: string;
      };
      return status.leader !== undefined && status.leader !== "0" &&
        status.leader === status.header?.member_id;
    } catch {
      return false;
    } finally {
      client?.close();
    }
  }

  async #httpClient(): Promise<Deno.HttpClient | undefined> {
    const tls = this.#options.tls;
    if (!tls) return undefined;
    const caCerts = [await Deno.readTextFile(tls.caFile)];
    return tls.clientCertFile && tls.clientKeyFile
      ? Deno.createHttpClient({
        caCerts,
        cert: await Deno.readTextFile(tls.clientCertFile),
        key: await Deno.readTextFile(tls.clientKeyFile),
      })
      : Deno.createHttpClient({ caCerts });
  }

  async #poll(
    deadline: number,
    client: Deno.HttpClient | undefined,
  ): Promise<void> {
    let last = "no answer yet";
    while (Date.now() < deadline) {
      if (this.#child === undefined) break;
      if (this.#hasExited) {
        await this.#reap();
        throw new Error(
          `Cannot start etcd "${this.name}": the process exited: ${await this
            .#logTail()}`,
        );
      }
      try {
        const init: RequestInit & { client?: Deno.HttpClient } = {
          signal: AbortSignal.timeout(1000),
        };
        if (client) init.client = client;
        // With HTTP-only URLs, the endpoint answers gRPC alone.
        const http = this.httpOnly[0] ?? this.endpoint;
        const response = await fetch(`${http}/health`, init);
        const text = await response.text();
        if (response.ok && text.includes('"true"')) return;
        last = `HTTP ${response.status} ${text}`;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      await delay(50);
    }
    throw new Error(
      `Cannot start etcd "${this.name}": not healthy in time: ${last}: ${await this
        .#logTail()}`,
    );
  }

  /**
   * Stops the process, keeping its data.
   *
   * @param signal The signal to send.
   */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    const child = this.#child;
    if (!child) return;
    try {
      // A paused process must go on to handle SIGTERM; SIGKILL needs no
      // help, and a paused process let go first could still answer.
      if (signal !== "SIGKILL") child.kill("SIGCONT");
      child.kill(signal);
    } catch {
      // Already gone.
    }
    await this.#reap();
  }

  /** Kills the process with SIGKILL, keeping its data. */
  kill(): Promise<void> {
    return this.stop("SIGKILL");
  }

  /** Freezes the process with SIGSTOP: it holds its connections and answers nothing. */
  pause(): void {
    this.#child?.kill("SIGSTOP");
  }

  /** Lets a paused process go on (SIGCONT). */
  resume(): void {
    this.#child?.kill("SIGCONT");
  }

  /** Stops the process and removes its directory. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  async #reap(): Promise<void> {
    await this.#exited;
    await this.#log;
    this.#child = undefined;
    this.#exited = undefined;
    this.#log = undefined;
  }

  // What etcd said last, or, when it printed its usage, why.
  async #logTail(): Promise<string> {
    try {
      const lines = (await Deno.readTextFile(`${this.dir}/etcd.log`)).trim()
        .split("\n");
      const usage = lines.findIndex((line) => line.startsWith("Usage:"));
      return (usage > 0 ? lines.slice(0, usage) : lines.slice(-5)).join("\n");
    } catch {
      return "(no log)";
    }
  }
}

/**
 * A cluster started by {@linkcode startCluster}.
 *
 * @example Usage
 * ```ts
 * import { startCluster } from "@etcd-tree/etcd-tree/testing";
 *
 * async function usage() {
 *   await using cluster = await startCluster(3);
 *   console.log(cluster.endpoints);
 * }
 * ```
 */
export class EtcdCluster implements AsyncDisposable {
  /** The members, in order. */
  readonly members: readonly EtcdServer[];

  /**
   * Wraps started members. Use {@linkcode startCluster} instead.
   *
   * @param members The members.
   */
  constructor(members: readonly EtcdServer[]) {
    this.members = members;
  }

  /** Every member's client URL. */
  get endpoints(): string[] {
    return this.members.map((member) => member.endpoint);
  }

  /**
   * The member that leads, once one does. Tests that pause or stop a member
   * pick the leader or a follower with it, so that whether a write must
   * wait for a new election is not left to chance.
   *
   * @param timeout How long to wait for a leader, in milliseconds.
   * @returns The leading member.
   * @throws {Error} When no member leads within `timeout`.
   */
  async leader(timeout = 10_000): Promise<EtcdServer> {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      const answers = await Promise.all(
        this.members.map((member) => member.isLeader()),
      );
      const index = answers.indexOf(true);
      if (index >= 0) return this.members[index]!;
      await delay(50);
    }
    throw new Error(`No member of the cluster leads after ${timeout} ms`);
  }

  /** Stops every member and removes its directory. */
  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(
      this.members.map((member) => member[Symbol.asyncDispose]()),
    );
  }
}

/**
 * Starts a single-member etcd on free loopback ports with a temporary data
 * directory and waits until it is healthy.
 *
 * @param options Whether to serve v2, extra arguments, the binary.
 * @returns The running server; dispose it to stop it and delete its data.
 * @throws {Error} When etcd is not installed (the message says how to
 *   install it) or does not start.
 *
 * @example Usage
 * ```ts
 * import { startEtcd } from "@etcd-tree/etcd-tree/testing";
 *
 * async function usage() {
 *   await using etcd = await startEtcd();
 *   const response = await fetch(`${etcd.endpoint}/version`);
 *   console.log(await response.json());
 * }
 * ```
 */
export async function startEtcd(
  options: EtcdServerOptions = {},
): Promise<EtcdServer> {
  const cluster = await startCluster(1, options);
  return cluster.members[0]!;
}

/**
 * Starts an N-member etcd cluster on loopback, one process per member, and
 * waits until every member is healthy.
 *
 * @param size The number of members.
 * @param options Whether to serve v2, extra arguments, the binary.
 * @returns The running cluster; dispose it to stop it and delete its data.
 * @throws {Error} When etcd is not installed or does not start.
 *
 * @example Usage
 * ```ts
 * import { startCluster } from "@etcd-tree/etcd-tree/testing";
 *
 * async function usage() {
 *   await using cluster = await startCluster(3);
 *   await cluster.members[0]!.kill();
 * }
 * ```
 */
export async function startCluster(
  size: number,
  options: EtcdClusterOptions = {},
): Promise<EtcdCluster> {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`Invalid cluster size ${size}: expected 1 or more`);
  }
  const ports = freePorts(size * 2);
  const names = Array.from({ length: size }, (_, i) => `etcd${i}`);
  const initialCluster = names.map((name, i) =>
    `${name}=http://127.0.0.1:${ports[i * 2 + 1]}`
  ).join(",");
  const members: EtcdServer[] = [];
  try {
    for (const [i, name] of names.entries()) {
      const dir = await Deno.makeTempDir({ prefix: `etcd-tree-${name}-` });
      members.push(
        new EtcdServer({
          name,
          clientPort: ports[i * 2]!,
          peerPort: ports[i * 2 + 1]!,
          dir,
          initialCluster,
          token: `etcd-tree-${ports[1]}`,
        }, options),
      );
    }
    for (const member of members) await member.start(false);
    await Promise.all(members.map((member) => member.waitHealthy()));
  } catch (error) {
    await Promise.all(
      members.map((member) => member[Symbol.asyncDispose]()),
    );
    throw error;
  }
  return new EtcdCluster(members);
}

function freePorts(count: number): number[] {
  const listeners = Array.from(
    { length: count },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((listener) => listener.addr.port);
  for (const listener of listeners) listener.close();
  return ports;
}

function advertised(
  advertise: EtcdServerOptions["advertise"],
  endpoint: string,
): readonly string[] {
  if (advertise === undefined) return [endpoint];
  return typeof advertise === "function" ? advertise(endpoint) : advertise;
}

/** The binary that `options` ask for. */
function binaryOf(options: EtcdServerOptions): string {
  if (options.binary !== undefined) return options.binary;
  if (options.version === "3.5") {
    const given = Deno.env.get("ETCD35_BIN");
    if (given) return given;
    const local = new URL("./.tools/etcd-3.5/usr/bin/etcd", import.meta.url);
    return local.protocol === "file:"
      ? decodeURIComponent(local.pathname)
      : `${Deno.cwd()}/.tools/etcd-3.5/usr/bin/etcd`;
  }
  if (options.version !== undefined && options.version !== "3.4") {
    throw new TypeError(
      `Invalid version ${
        JSON.stringify(options.version)
      }: expected "3.4" or "3.5"`,
    );
  }
  return Deno.env.get("ETCD_BIN") ?? "etcd";
}

const INSTALL_HINT_35 =
  'run "bash tools/dev.sh test" as root once (it downloads Debian\'s etcd 3.5 into .tools/etcd-3.5), or point ETCD35_BIN at an etcd 3.5 binary';

const versions = new Map<string, Promise<string>>();

/**
 * The version an etcd binary prints, such as `"3.4.23"` (cached), checked
 * against the one asked for.
 */
async function versionOf(
  binary: string,
  wanted: string | undefined,
): Promise<string> {
  const version = await printedVersion(binary, wanted);
  if (wanted !== undefined && !version.startsWith(`${wanted}.`)) {
    throw new Error(
      `Cannot start etcd ${wanted}: ${binary} is etcd ${version}; ${
        wanted === "3.5" ? INSTALL_HINT_35 : INSTALL_HINT
      }`,
    );
  }
  return version;
}

function printedVersion(
  binary: string,
  wanted: string | undefined,
): Promise<string> {
  let version = versions.get(binary);
  if (version === undefined) {
    version = (async () => {
      let output: Deno.CommandOutput;
      try {
        output = await new Deno.Command(binary, {
          args: ["--version"],
          stdout: "piped",
          stderr: "piped",
        }).output();
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) {
          throw new Error(
            `Cannot start etcd: no "${binary}" executable found; ${
              wanted === "3.5" ? INSTALL_HINT_35 : INSTALL_HINT
            }`,
          );
        }
        throw error;
      }
      const text = new TextDecoder().decode(output.stdout);
      return /etcd Version: (\S+)/.exec(text)?.[1] ?? "unknown";
    })();
    versions.set(binary, version);
    version.catch(() => versions.delete(binary));
  }
  return version;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
