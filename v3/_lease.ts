// v3 leases: grant, revoke, time to live, list, and a keep-alive that
// refreshes in the background and says when the lease is lost. Public
// through v3/mod.ts.

import type { Caller, CallOptions } from "./_call.ts";
import { header, type ResponseHeader } from "./_decode.ts";
import { Keeper } from "../_core/keeper.ts";
import { errorKind } from "../_core/kinds.ts";
import { formatLeaseId, leaseIdFrom, parseLeaseId } from "./_lease_id.ts";
import { type Init, type LeaseGrantRequest, METHODS } from "./_proto/mod.ts";

/** A granted lease. */
export interface LeaseGrant {
  /** The lease ID: 16 hex digits, as etcdctl prints it. */
  readonly id: string;
  /** Seconds it lives without a keep-alive. */
  readonly ttl: number;
  /** The store's header. */
  readonly header: ResponseHeader;
}

/** What etcd says of a lease now. */
export interface LeaseInfo {
  /** The lease ID. */
  readonly id: string;
  /** Seconds left; -1 when the lease no longer exists. */
  readonly ttl: number;
  /** The TTL it was granted with. */
  readonly grantedTtl: number;
  /** The keys attached (with `keys: true`). */
  readonly keys: Uint8Array[];
}

/** Why a kept lease was lost. */
export class LeaseLost extends Error {
  /**
   * Constructs the error.
   *
   * @param message What happened.
   * @param options The cause.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LeaseLost";
  }
}

/** The lease calls of a client, as `client.lease`. */
export class LeaseApi {
  readonly #caller: Caller;

  /**
   * Makes the calls; use the client's property rather than this.
   *
   * @param caller How calls travel.
   */
  constructor(caller: Caller) {
    this.#caller = caller;
  }

  /**
   * Grants a lease.
   *
   * @param ttl Seconds (etcd's minimum is 2; it raises smaller ones).
   * @param options An ID of your own, and a signal.
   * @returns The lease.
   */
  async grant(
    ttl: number,
    options: CallOptions & { id?: string | bigint } = {},
  ): Promise<LeaseGrant> {
    if (!Number.isSafeInteger(ttl) || ttl < 1) {
      throw new RangeError(
        `Invalid ttl ${ttl}: expected a whole number of seconds >= 1`,
      );
    }
    const body: Init<LeaseGrantRequest> = { TTL: ttl };
    if (options.id !== undefined) {
      body.ID = parseLeaseId(options.id, "lease ID");
    }
    return await this.#caller.call(
      METHODS.lease.grant,
      body,
      "write",
      (answer) => ({
        id: grantedId(answer.ID),
        ttl: answer.TTL,
        header: header(answer.header),
      }),
      options,
    );
  }

  /**
   * Revokes a lease: its keys are deleted.
   *
   * @param lease The lease ID.
   * @param options A signal.
   * @throws {LeaseNotFound} When there is no such lease.
   */
  async revoke(
    lease: string | bigint,
    options: CallOptions = {},
  ): Promise<void> {
    await this.#caller.call(
      METHODS.lease.revoke,
      { ID: parseLeaseId(lease, "lease ID") },
      "write",
      () => undefined,
      options,
    );
  }

  /**
   * What etcd says of a lease now.
   *
   * @param lease The lease ID.
   * @param options `keys` to list the keys attached, and a signal.
   * @returns Its time to live (-1 when gone) and keys.
   */
  async timeToLive(
    lease: string | bigint,
    options: CallOptions & { keys?: boolean } = {},
  ): Promise<LeaseInfo> {
    const id = parseLeaseId(lease, "lease ID");
    return await this.#caller.call(
      METHODS.lease.timeToLive,
      options.keys ? { ID: id, keys: true } : { ID: id },
      "read",
      (answer) => ({
        id: formatLeaseId(id),
        ttl: answer.TTL,
        grantedTtl: answer.grantedTTL,
        keys: answer.keys,
      }),
      options,
    );
  }

  /**
   * Every lease's ID.
   *
   * @param options A signal.
   * @returns The IDs.
   */
  async list(options: CallOptions = {}): Promise<string[]> {
    return await this.#caller.call(
      METHODS.lease.leases,
      {},
      "read",
      (answer) => answer.leases.map((lease) => grantedId(lease.ID)),
      options,
    );
  }

  /**
   * Refreshes a lease once; its TTL now, or -1 when it is gone.
   *
   * @param lease The lease ID.
   * @param options A signal.
   * @returns The TTL.
   */
  async keepAliveOnce(
    lease: string | bigint,
    options: CallOptions = {},
  ): Promise<number> {
    const id = parseLeaseId(lease, "lease ID");
    const timeout = options.timeout ?? this.#caller.http.timeout;
    const signals = [
      options.signal,
      timeout > 0 ? AbortSignal.timeout(timeout) : undefined,
    ]
      .filter((signal) => signal !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    const answer = await this.#caller.streams.keepAlive.refresh(id, signal);
    // An unknown or expired lease answers TTL 0.
    return answer.TTL > 0 ? answer.TTL : -1;
  }

  /**
   * Keeps a lease alive in the background: refreshed every third of its
   * TTL until `close()` (or revoked with `revoke()`); `lost` resolves and
   * `signal` aborts when it expired, or could not be refreshed before it
   * may have expired: its remaining TTL counted from when the last
   * successful keep-alive was sent, less a margin for clock drift.
   *
   * @param lease A lease ID, or a TTL in seconds to grant a new one.
   * @returns The kept lease.
   */
  async keepAlive(lease: string | bigint | number): Promise<KeptLease> {
    // The lease lives on etcd from when the request was sent at least.
    const sent = performance.now();
    if (typeof lease === "number") {
      const granted = await this.grant(lease);
      return new KeptLease(this, granted.id, granted.ttl, sent);
    }
    const info = await this.timeToLive(lease);
    if (info.ttl < 0) {
      throw new LeaseLost(
        `lease ${lease} does not exist (it expired or was revoked)`,
      );
    }
    return new KeptLease(this, info.id, info.grantedTtl, sent, info.ttl);
  }
}

/**
 * A lease kept alive in the background (from `client.lease.keepAlive()`).
 * It is also what the tree, the tools and the recipes hold their keys by.
 */
export class KeptLease implements AsyncDisposable {
  /** The lease ID: 16 hex digits, as etcdctl prints it. */
  readonly id: string;
  /** Seconds it lives without a refresh. */
  readonly ttl: number;
  readonly #api: LeaseApi;
  readonly #keeper: Keeper;

  /**
   * Keeps a lease. Use `client.lease.keepAlive()`.
   *
   * @param api The client's lease calls.
   * @param id The lease ID.
   * @param ttl Its TTL.
   * @param sent `performance.now()` when the lease was last known to be
   *   granted or refreshed: when that request was sent. Default: now.
   * @param left Seconds it lived from then. Default: its TTL.
   */
  constructor(
    api: LeaseApi,
    id: string,
    ttl: number,
    sent: number = performance.now(),
    left: number = ttl,
  ) {
    this.#api = api;
    this.id = formatLeaseId(parseLeaseId(id, "lease ID"));
    this.ttl = ttl;
    this.#keeper = new Keeper(
      ttl,
      () => this.#refresh(),
      (cause) =>
        new LeaseLost(
          `lease ${id} could not be refreshed in time for its TTL of ${ttl} s`,
          { cause },
        ),
    );
    this.#keeper.touch(sent, left);
  }

  /** Resolves with the reason if the lease is lost (never, if closed). */
  get lost(): Promise<Error> {
    return this.#keeper.lost;
  }

  /**
   * The lease ID in hex without leading zeros, as Go's recipes and
   * `etcdctl lock` name their keys (`<prefix>/<hex>`).
   */
  get hex(): string {
    return BigInt(`0x${this.id}`).toString(16);
  }

  /** Aborted with the reason if the lease is lost. */
  get signal(): AbortSignal {
    return this.#keeper.signal;
  }

  /** Whether the lease is still kept. */
  get active(): boolean {
    return this.#keeper.active;
  }

  /** Stops refreshing: the lease (and its keys) go when the TTL runs out. */
  abandon(): void {
    this.#keeper.end();
  }

  /** Stops refreshing; the lease expires after its TTL. */
  close(): Promise<void> {
    this.abandon();
    return Promise.resolve();
  }

  /** Revokes the lease now: its keys are deleted. */
  async revoke(): Promise<void> {
    if (this.#keeper.ended) return;
    this.abandon();
    try {
      await this.#api.revoke(this.id);
    } catch (error) {
      if (errorKind(error) !== "not found") throw error;
    }
  }

  /** Revokes the lease, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.revoke();
  }

  /**
   * One keep-alive: the seconds etcd says the lease has left (counted by
   * the keeper from the send); an unknown lease (no TTL, or "not found")
   * is gone.
   */
  async #refresh(): Promise<Error | number> {
    const gone = (cause?: unknown) =>
      new LeaseLost(
        `lease ${this.id} expired or was revoked`,
        cause === undefined ? undefined : { cause },
      );
    try {
      const ttl = await this.#api.keepAliveOnce(this.id, {
        timeout: Math.max(500, this.ttl * 1000 / 3),
      });
      return ttl < 0 ? gone() : ttl;
    } catch (error) {
      if (errorKind(error) === "not found") return gone(error);
      throw error;
    }
  }
}

/** The ID etcd gave a lease, in the library's form. */
function grantedId(raw: bigint): string {
  const id = leaseIdFrom(raw);
  if (id === undefined) {
    throw new TypeError("Cannot read the lease ID etcd answered: none given");
  }
  return id;
}
