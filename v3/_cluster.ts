// Members and maintenance of a v3 cluster: the member list and its changes,
// status, alarms, defragmentation, hashes and snapshots. Public through
// v3/mod.ts as `client.cluster` and `client.maintenance`.

import type { Caller, CallOptions } from "./_call.ts";
import {
  errorOf,
  header,
  id,
  int,
  type RawHeader,
  type ResponseHeader,
} from "./_decode.ts";

/** A member of the cluster. */
export interface Member {
  /** The member ID (decimal; it may exceed 2^53). */
  readonly id: string;
  /** The member ID in hex, as etcdctl shows it. */
  readonly idHex: string;
  /** Its name (`""` until it has started). */
  readonly name: string;
  /** URLs the members talk to it on. */
  readonly peerURLs: string[];
  /** URLs clients talk to it on (none until it has started). */
  readonly clientURLs: string[];
  /** Whether it is a learner (it does not vote). */
  readonly isLearner: boolean;
}

interface RawMember {
  ID?: string;
  name?: string;
  peerURLs?: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}

function member(raw: RawMember): Member {
  const memberId = id(raw.ID);
  return {
    id: memberId,
    idHex: BigInt(memberId).toString(16),
    name: raw.name ?? "",
    peerURLs: raw.peerURLs ?? [],
    clientURLs: raw.clientURLs ?? [],
    isLearner: raw.isLearner === true,
  };
}

function memberId(value: string | bigint): string {
  const text = typeof value === "bigint" ? value.toString() : value;
  if (typeof text !== "string" || !/^\d{1,20}$/.test(text)) {
    throw new TypeError(
      `Invalid member ID ${
        JSON.stringify(String(value))
      }: expected decimal digits or a bigint (see Member.id)`,
    );
  }
  return text;
}

function urls(given: readonly string[]): string[] {
  if (!Array.isArray(given) || given.length === 0) {
    throw new TypeError("Invalid peer URLs: give at least one");
  }
  return [...given];
}

/** The membership calls, as `client.cluster`. */
export class ClusterApi {
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
   * The members.
   *
   * @param options A signal.
   * @returns Every member.
   */
  async members(options: CallOptions = {}): Promise<Member[]> {
    return await this.#caller.call(
      "cluster/member/list",
      {},
      "read",
      (body) => ((body.members as RawMember[] | undefined) ?? []).map(member),
      options,
    );
  }

  /**
   * Adds a member (it still has to be started, with
   * `--initial-cluster-state existing`).
   *
   * @param peerURLs Its peer URLs.
   * @param options `learner` to add it as a learner, and a signal.
   * @returns The new member.
   */
  async add(
    peerURLs: readonly string[],
    options: CallOptions & { learner?: boolean } = {},
  ): Promise<Member> {
    const body: Record<string, unknown> = { peerURLs: urls(peerURLs) };
    if (options.learner) body.isLearner = true;
    return await this.#caller.call(
      "cluster/member/add",
      body,
      "write",
      (answer) => member((answer.member as RawMember | undefined) ?? {}),
      options,
    );
  }

  /**
   * Removes a member.
   *
   * @param id The member ID.
   * @param options A signal.
   */
  async remove(id: string | bigint, options: CallOptions = {}): Promise<void> {
    await this.#caller.call(
      "cluster/member/remove",
      { ID: memberId(id) },
      "write",
      () => undefined,
      options,
    );
  }

  /**
   * Changes a member's peer URLs.
   *
   * @param id The member ID.
   * @param peerURLs Its new peer URLs.
   * @param options A signal.
   */
  async update(
    id: string | bigint,
    peerURLs: readonly string[],
    options: CallOptions = {},
  ): Promise<void> {
    await this.#caller.call(
      "cluster/member/update",
      { ID: memberId(id), peerURLs: urls(peerURLs) },
      "write",
      () => undefined,
      options,
    );
  }

  /**
   * Makes a learner a voting member (once it is in sync).
   *
   * @param id The member ID.
   * @param options A signal.
   */
  async promote(id: string | bigint, options: CallOptions = {}): Promise<void> {
    await this.#caller.call(
      "cluster/member/promote",
      { ID: memberId(id) },
      "write",
      () => undefined,
      options,
    );
  }
}

/** A member's status. */
export interface Status {
  /** Its etcd version. */
  readonly version: string;
  /** The database's size, in bytes. */
  readonly dbSize: number;
  /** The part of it in use. */
  readonly dbSizeInUse: number;
  /** The leader's member ID; `"0"` when there is none. */
  readonly leader: string;
  /** The raft log's last index on the member. */
  readonly raftIndex: number;
  /** The raft term. */
  readonly raftTerm: number;
  /** The last raft index the member applied. */
  readonly raftAppliedIndex: number;
  /** Whether it is a learner. */
  readonly isLearner: boolean;
  /** Errors it reports (no leader, alarms). */
  readonly errors: string[];
  /** The store's header; `header.memberId` is the member asked. */
  readonly header: ResponseHeader;
}

/** A raised alarm. */
export interface Alarm {
  /** The member that raised it (decimal ID). */
  readonly memberId: string;
  /** `NOSPACE` or `CORRUPT`. */
  readonly alarm: string;
}

/** The maintenance calls, as `client.maintenance`. */
export class MaintenanceApi {
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
   * The status of the member the client talks to.
   *
   * @param options A signal.
   * @returns Its status.
   */
  async status(options: CallOptions = {}): Promise<Status> {
    return await this.#caller.call(
      "maintenance/status",
      {},
      "read",
      (body) => ({
        version: String(body.version ?? ""),
        dbSize: int(body.dbSize as string | undefined),
        dbSizeInUse: int(body.dbSizeInUse as string | undefined),
        leader: id(body.leader as string | undefined),
        raftIndex: int(body.raftIndex as string | undefined),
        raftTerm: int(body.raftTerm as string | undefined),
        raftAppliedIndex: int(body.raftAppliedIndex as string | undefined),
        isLearner: body.isLearner === true,
        errors: (body.errors as string[] | undefined) ?? [],
        header: header(body.header as RawHeader | undefined),
      }),
      options,
    );
  }

  /**
   * The alarms raised.
   *
   * @param options A signal.
   * @returns The alarms.
   */
  async alarms(options: CallOptions = {}): Promise<Alarm[]> {
    return await this.#caller.call(
      "maintenance/alarm",
      { action: "GET", memberID: "0", alarm: "NONE" },
      "read",
      alarmsOf,
      options,
    );
  }

  /**
   * Clears alarms (all, or one member's of one kind); a NOSPACE alarm comes
   * back at the next write while the database is still over its quota.
   *
   * @param alarm Which, or every alarm.
   * @param options A signal.
   * @returns The alarms cleared.
   */
  async disarm(
    alarm?: Alarm,
    options: CallOptions = {},
  ): Promise<Alarm[]> {
    const targets = alarm === undefined ? await this.alarms(options) : [alarm];
    const cleared: Alarm[] = [];
    for (const target of targets) {
      cleared.push(
        ...await this.#caller.call(
          "maintenance/alarm",
          {
            action: "DEACTIVATE",
            memberID: target.memberId,
            alarm: target.alarm,
          },
          "write",
          alarmsOf,
          options,
        ),
      );
    }
    return cleared;
  }

  /**
   * Defragments the member the client talks to, returning space to the
   * file system (the member blocks while it runs).
   *
   * @param options A signal, and a timeout (default: none).
   */
  async defragment(options: CallOptions = {}): Promise<void> {
    await this.#caller.call(
      "maintenance/defragment",
      {},
      "write",
      () => undefined,
      { timeout: 0, ...options },
    );
  }

  /**
   * The hash of the member's whole backend.
   *
   * @param options A signal.
   * @returns The hash.
   */
  async hash(options: CallOptions = {}): Promise<number> {
    return await this.#caller.call(
      "maintenance/hash",
      {},
      "read",
      (body) => Number(body.hash ?? 0),
      options,
    );
  }

  /**
   * The hash of the keys up to a revision (etcd 3.5 and later), for
   * comparing members.
   *
   * @param revision Up to this revision (0: now).
   * @param options A signal.
   * @returns The hash; the revision it covers up to (the store's revision
   *   when `revision` is 0); the last compaction's revision (`-1`: never
   *   compacted).
   */
  async hashKV(
    revision = 0,
    options: CallOptions = {},
  ): Promise<{ hash: number; compactRevision: number; hashRevision: number }> {
    return await this.#caller.call(
      "maintenance/hashkv",
      { revision },
      "read",
      (body) => ({
        hash: Number(body.hash ?? 0),
        compactRevision: int(body.compact_revision as string | undefined),
        // 3.5.30's gateway has no hash_revision: the revision asked for is it.
        hashRevision: body.hash_revision !== undefined
          ? int(body.hash_revision as string)
          : revision ||
            header(body.header as RawHeader | undefined).revision,
      }),
      options,
    );
  }

  /**
   * A snapshot of the member's backend, as a stream of bytes (check a
   * saved one with `etcdutl snapshot status FILE`).
   *
   * @param options A signal.
   * @returns The snapshot's bytes.
   */
  async snapshot(
    options: CallOptions = {},
  ): Promise<ReadableStream<Uint8Array>> {
    const path = await this.#caller.path(
      "maintenance/snapshot",
      options.signal,
    );
    const headers = await this.#caller.streamHeaders();
    const chunks: Uint8Array[] = [];
    let failure: unknown;
    let wake: (() => void) | undefined;
    let ended = false;
    const done = this.#caller.http.request({
      kind: "stream",
      method: "POST",
      path,
      body: "{}",
      headers,
      signal: options.signal,
      onLine: (line) => {
        const message = JSON.parse(line) as {
          result?: { blob?: string };
          error?: unknown;
        };
        if (message.error !== undefined) {
          throw errorOf(message as Record<string, unknown>, 0, "snapshot");
        }
        const blob = message.result?.blob;
        if (blob) chunks.push(Uint8Array.fromBase64(blob));
        wake?.();
      },
    }).then((response) => {
      if (response.status !== 200) {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(response.text);
        } catch {
          // not JSON
        }
        failure = errorOf(body, response.status, "snapshot") ??
          new Error(`Cannot take a snapshot: HTTP ${response.status}`);
      }
    }, (error) => void (failure = error)).finally(() => {
      ended = true;
      wake?.();
    });
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        while (chunks.length === 0 && !ended) {
          await new Promise<void>((resolve) => wake = resolve);
        }
        const chunk = chunks.shift();
        if (chunk !== undefined) controller.enqueue(chunk);
        else if (failure !== undefined) controller.error(failure);
        else {
          await done;
          controller.close();
        }
      },
    });
  }

  /**
   * Saves a snapshot to a file: written to a temporary file beside it and
   * renamed into place once whole.
   *
   * @param path The file.
   * @param options A signal.
   * @returns How many bytes it holds.
   */
  async snapshotTo(path: string, options: CallOptions = {}): Promise<number> {
    const temporary = `${path}.${crypto.randomUUID().slice(0, 8)}.part`;
    let size = 0;
    try {
      const file = await Deno.open(temporary, { write: true, createNew: true });
      try {
        for await (const chunk of await this.snapshot(options)) {
          let written = 0;
          while (written < chunk.length) {
            written += await file.write(chunk.subarray(written));
          }
          size += chunk.length;
        }
        await file.syncData();
      } finally {
        file.close();
      }
      await Deno.rename(temporary, path);
      return size;
    } catch (error) {
      await Deno.remove(temporary).catch(() => {});
      throw error;
    }
  }
}

function alarmsOf(body: Record<string, unknown>): Alarm[] {
  return ((body.alarms as
    | { memberID?: string; alarm?: string }[]
    | undefined) ?? [])
    .map((alarm) => ({
      memberId: id(alarm.memberID),
      alarm: alarm.alarm ?? "NONE",
    }));
}
