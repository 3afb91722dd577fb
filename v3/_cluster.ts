// Members and maintenance of a v3 cluster: the member list and its changes,
// status, alarms, defragmentation, hashes and snapshots. Public through
// v3/mod.ts as `client.cluster` and `client.maintenance`.

import type { Caller, CallOptions } from "./_call.ts";
import { header, type ResponseHeader } from "./_decode.ts";
import {
  AlarmAction,
  type AlarmResponse,
  AlarmType,
  type Init,
  type MemberAddRequest,
  METHODS,
} from "./_proto/mod.ts";
import type * as pb from "./_proto/mod.ts";

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

function member(message: pb.Member | undefined): Member {
  const id = message?.ID ?? 0n;
  return {
    id: id.toString(),
    idHex: id.toString(16),
    name: message?.name ?? "",
    peerURLs: message?.peerURLs ?? [],
    clientURLs: message?.clientURLs ?? [],
    isLearner: message?.isLearner ?? false,
  };
}

function memberId(value: string | bigint): bigint {
  const text = typeof value === "bigint" ? value.toString() : value;
  if (
    typeof text !== "string" || !/^\d{1,20}$/.test(text) ||
    BigInt(text) >= 1n << 64n
  ) {
    throw new TypeError(
      `Invalid member ID ${
        JSON.stringify(String(value))
      }: expected decimal digits or a bigint (see Member.id)`,
    );
  }
  return BigInt(text);
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
      METHODS.cluster.memberList,
      {},
      "read",
      (answer) => answer.members.map(member),
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
    const body: Init<MemberAddRequest> = { peerURLs: urls(peerURLs) };
    if (options.learner) body.isLearner = true;
    return await this.#caller.call(
      METHODS.cluster.memberAdd,
      body,
      "write",
      (answer) => member(answer.member),
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
      METHODS.cluster.memberRemove,
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
      METHODS.cluster.memberUpdate,
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
      METHODS.cluster.memberPromote,
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
      METHODS.maintenance.status,
      {},
      "read",
      (answer) => ({
        version: answer.version,
        dbSize: answer.dbSize,
        dbSizeInUse: answer.dbSizeInUse,
        leader: answer.leader.toString(),
        raftIndex: answer.raftIndex,
        raftTerm: answer.raftTerm,
        raftAppliedIndex: answer.raftAppliedIndex,
        isLearner: answer.isLearner,
        errors: answer.errors,
        header: header(answer.header),
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
      METHODS.maintenance.alarm,
      { action: AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE },
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
          METHODS.maintenance.alarm,
          {
            action: AlarmAction.DEACTIVATE,
            memberID: memberId(target.memberId),
            alarm: alarmType(target.alarm),
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
      METHODS.maintenance.defragment,
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
      METHODS.maintenance.hash,
      {},
      "read",
      (answer) => answer.hash,
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
      METHODS.maintenance.hashKV,
      { revision },
      "read",
      (answer) => ({
        hash: answer.hash,
        compactRevision: answer.compact_revision,
        // 3.5.30 has no hash_revision: the revision asked for is it.
        hashRevision: revision || header(answer.header).revision,
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
  snapshot(
    options: CallOptions = {},
  ): Promise<ReadableStream<Uint8Array>> {
    const chunks = this.#caller.streams.snapshot.snapshot(options.signal)[
      Symbol.asyncIterator
    ]();
    return Promise.resolve(
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          for (;;) {
            const next = await chunks.next();
            if (next.done) return controller.close();
            // A copy: the message's bytes are a view of the frame read.
            if (next.value.blob.length > 0) {
              return controller.enqueue(next.value.blob.slice());
            }
          }
        },
        async cancel() {
          await chunks.return?.();
        },
      }),
    );
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

const ALARM_NAMES = ["NONE", "NOSPACE", "CORRUPT"];

function alarmsOf(answer: AlarmResponse): Alarm[] {
  return answer.alarms.map((alarm) => ({
    memberId: alarm.memberID.toString(),
    alarm: ALARM_NAMES[alarm.alarm] ?? String(alarm.alarm),
  }));
}

function alarmType(name: string): number {
  const type = ALARM_NAMES.indexOf(name);
  if (type < 0) {
    throw new TypeError(
      `Invalid alarm ${JSON.stringify(name)}: expected ${
        ALARM_NAMES.join(", ")
      }`,
    );
  }
  return type;
}
