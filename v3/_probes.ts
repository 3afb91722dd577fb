// `version()` and `health()` of the v3 client, on either wire. On the
// gateway they are etcd's own `/version` and `/health`. On gRPC, an
// endpoint may serve no HTTP/1.1 at all (etcd 3.5 with
// `--listen-client-http-urls`, a gRPC proxy), so `version()` asks
// `/version` only while it answers and else the member's Status, and
// `health()` checks what `etcdctl endpoint health` does: a linearizable
// read, then the alarm list. Internal.

import type { Dispatcher } from "../_http/dispatcher.ts";
import { ClientClosed, UnexpectedResponse } from "../_http/errors.ts";
import type { Caller, CallOptions } from "./_call.ts";
import type { MaintenanceApi } from "./_cluster.ts";
import {
  AuthFailed,
  NoLeader,
  PermissionDenied,
  UserRequired,
} from "./_errors.ts";
import { METHODS } from "./_proto/mod.ts";

/** The answer of `client.version()`. */
export interface VersionInfo {
  /** The server's version, such as `"3.5.30"`. */
  etcdserver: string;
  /**
   * The cluster's version, such as `"3.5.0"`. Absent when the endpoint
   * serves gRPC only: etcd says it only in `/version`, over HTTP/1.1 (its
   * Status call gives the server's version alone).
   */
  etcdcluster?: string;
}

/** The answer of `client.health()`. */
export interface Health {
  health: boolean;
  reason?: string;
}

/** The key `etcdctl endpoint health` reads. */
const HEALTH_KEY = new TextEncoder().encode("health");

/** `version()` and `health()` of a client. */
export class Probes {
  readonly #caller: Caller;
  readonly #maintenance: MaintenanceApi;

  /**
   * @param caller How calls travel.
   * @param maintenance The client's maintenance calls (the alarm list).
   */
  constructor(caller: Caller, maintenance: MaintenanceApi) {
    this.#caller = caller;
    this.#maintenance = maintenance;
  }

  /**
   * The versions: `/version` when the endpoint answers HTTP/1.1 (both
   * versions), else, on gRPC, the member's Status (the server's only).
   */
  async version(options: CallOptions = {}): Promise<VersionInfo> {
    const http = this.#caller.http;
    if (this.#caller.wire === "gateway") {
      return await versionOverHttp(http, options);
    }
    const deadline = deadlineOf(options.timeout ?? http.timeout);
    try {
      return await versionOverHttp(http, options);
    } catch (error) {
      if (ours(error, options)) throw error;
      // No HTTP/1.1 there (or not etcd's /version): gRPC's Status says
      // the server's version.
    }
    return await this.#caller.call(
      METHODS.maintenance.status,
      {},
      "read",
      (answer): VersionInfo => ({ etcdserver: answer.version }),
      { ...options, timeout: left(deadline) },
    );
  }

  /**
   * Whether the member is healthy: its `/health` on the gateway; on gRPC,
   * a linearizable read (refused permission still proves consensus) and
   * no alarm raised. A member that fails either, or does not answer in
   * time, is `health: false` with the reason.
   */
  async health(options: CallOptions = {}): Promise<Health> {
    try {
      return this.#caller.wire === "gateway"
        ? await healthOverHttp(this.#caller.http, options)
        : await this.#healthOverGrpc(options);
    } catch (error) {
      if (ours(error, options) || error instanceof UnexpectedResponse) {
        throw error;
      }
      return { health: false, reason: reasonOf(error) };
    }
  }

  async #healthOverGrpc(options: CallOptions): Promise<Health> {
    const deadline = deadlineOf(options.timeout ?? this.#caller.http.timeout);
    try {
      await this.#caller.call(
        METHODS.kv.range,
        { key: HEALTH_KEY, count_only: true },
        "read",
        () => undefined,
        { ...options, timeout: left(deadline), context: '"health"' },
      );
    } catch (error) {
      // Refused after the read went through consensus: the member works.
      if (
        !(error instanceof PermissionDenied || error instanceof UserRequired)
      ) throw error;
    }
    let alarms;
    try {
      alarms = await this.#maintenance.alarms({
        ...options,
        timeout: left(deadline),
      });
    } catch (error) {
      if (ours(error, options)) throw error;
      return {
        health: false,
        reason: `cannot list the alarms: ${reasonOf(error)}`,
      };
    }
    if (alarms.length === 0) return { health: true };
    // etcd's /health words, so both wires say the same.
    const names = new Set(alarms.map((alarm) => `ALARM ${alarm.alarm}`));
    return { health: false, reason: [...names].join(", ") };
  }
}

/** etcd's `/version`, over HTTP/1.1. */
async function versionOverHttp(
  http: Dispatcher,
  options: CallOptions,
): Promise<VersionInfo> {
  const response = await http.request({
    kind: "read",
    method: "GET",
    path: "/version",
    signal: options.signal,
    timeout: options.timeout,
  });
  let body: { etcdserver?: unknown; etcdcluster?: unknown } | undefined;
  try {
    body = JSON.parse(response.text);
  } catch {
    // reported below
  }
  if (response.status !== 200 || typeof body?.etcdserver !== "string") {
    throw new UnexpectedResponse(
      "GET /version",
      response.status,
      response.text,
    );
  }
  const info: VersionInfo = { etcdserver: body.etcdserver };
  if (typeof body.etcdcluster === "string") {
    info.etcdcluster = body.etcdcluster;
  }
  return info;
}

/** etcd's `/health`, over HTTP/1.1: an unhealthy member answers 503. */
async function healthOverHttp(
  http: Dispatcher,
  options: CallOptions,
): Promise<Health> {
  const response = await http.request({
    kind: "probe",
    method: "GET",
    path: "/health",
    signal: options.signal,
    timeout: options.timeout,
  });
  let body: { health?: string | boolean; reason?: string };
  try {
    body = JSON.parse(response.text);
  } catch {
    throw new UnexpectedResponse("GET /health", response.status, response.text);
  }
  const info: Health = {
    health: body.health === true || body.health === "true",
  };
  if (body.reason) info.reason = body.reason;
  return info;
}

/**
 * Whether an error is the caller's own doing rather than the member's:
 * an abort, a closed client, a wrong password.
 */
function ours(error: unknown, options: CallOptions): boolean {
  return options.signal?.aborted === true || error instanceof ClientClosed ||
    error instanceof AuthFailed;
}

function reasonOf(error: unknown): string {
  if (error instanceof NoLeader) return "RAFT NO LEADER"; // as /health says
  return error instanceof Error ? error.message : String(error);
}

/** When a call of `timeout` ms (0: none) started now must end. */
function deadlineOf(timeout: number): number {
  return timeout > 0 ? performance.now() + timeout : 0;
}

/** The milliseconds left until `deadline` (at least 1; 0: no deadline). */
function left(deadline: number): number {
  return deadline === 0 ? 0 : Math.max(1, deadline - performance.now());
}
