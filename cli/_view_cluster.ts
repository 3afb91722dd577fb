// The viewer's leases and members pages (etcd v3): what etcd says of its
// leases and of each member, as the page gets it. Internal; used by
// cli/view.ts.

import type { Client as V3Client } from "../v3/_client.ts";
import { clientLike } from "./_common.ts";

/** A lease as the page shows it. */
export interface PageLease {
  /** The ID in 16 hex digits, as etcdctl prints it. */
  id: string;
  /** Seconds left when asked. */
  ttl: number;
  /** The TTL it was granted with. */
  grantedTtl: number;
  /** The keys attached (text; bytes that are not UTF-8 replaced). */
  keys: string[];
}

/** Most leases asked about in one go (Kubernetes clusters hold many). */
const LEASES_SHOWN = 1000;
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** The leases (at most {@link LEASES_SHOWN}, by ID) and how many in all. */
export async function leaseList(
  client: V3Client,
): Promise<{ leases: PageLease[]; total: number }> {
  const ids = (await client.lease.list()).sort();
  const leases: PageLease[] = [];
  const shown = ids.slice(0, LEASES_SHOWN);
  // A few at a time: a thousand leases must not flood etcd.
  for (let at = 0; at < shown.length; at += 16) {
    const infos = await Promise.all(
      shown.slice(at, at + 16).map((id) =>
        client.lease.timeToLive(id, { keys: true })
      ),
    );
    for (const info of infos) {
      if (info.ttl < 0) continue; // gone since listed
      leases.push({
        id: info.id,
        ttl: info.ttl,
        grantedTtl: info.grantedTtl,
        keys: info.keys.map((key) => decoder.decode(key)).sort(),
      });
    }
  }
  return { leases, total: ids.length };
}

/** A member as the page shows it, with what it says of itself. */
export interface PageMember {
  /** The member ID in hex, as etcdctl prints it. */
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
  /** Whether it leads the cluster. */
  leader: boolean;
  /** Its status, when it answered. */
  status?: {
    version: string;
    dbSize: number;
    dbSizeInUse: number;
    raftIndex: number;
    raftTerm: number;
    raftAppliedIndex: number;
    errors: string[];
  };
  /** Why its status is missing. */
  error?: string;
  /** Its alarms (`NOSPACE`, `CORRUPT`). */
  alarms: string[];
}

/**
 * The members with each one's status (asked at its own client URL, with
 * the viewer's TLS and credentials) and alarms.
 */
export async function membersOf(client: V3Client): Promise<PageMember[]> {
  const [members, alarms] = await Promise.all([
    client.cluster.members(),
    client.maintenance.alarms(),
  ]);
  const statuses = await Promise.all(members.map(async (member) => {
    if (member.clientURLs.length === 0) {
      return { error: "not started: it has no client URL yet" };
    }
    const own = clientLike(client, member.clientURLs);
    if (own === undefined) return { error: "no client for it" };
    try {
      return { status: await own.maintenance.status() };
    } catch (error) {
      return {
        error: `no answer at ${member.clientURLs.join(", ")}: ${
          error instanceof Error ? error.message : String(error)
        }`,
      };
    } finally {
      await own.close();
    }
  }));
  const leader = statuses.find((found) => found.status?.leader !== undefined)
    ?.status?.leader;
  return members.map((member, i) => {
    const { status, error } = statuses[i]!;
    return {
      id: member.idHex,
      name: member.name,
      peerURLs: member.peerURLs,
      clientURLs: member.clientURLs,
      isLearner: member.isLearner,
      leader: leader === member.id,
      ...(status === undefined ? {} : {
        status: {
          version: status.version,
          dbSize: status.dbSize,
          dbSizeInUse: status.dbSizeInUse,
          raftIndex: status.raftIndex,
          raftTerm: status.raftTerm,
          raftAppliedIndex: status.raftAppliedIndex,
          errors: status.errors,
        },
      }),
      ...(error === undefined ? {} : { error }),
      alarms: alarms.filter((alarm) => alarm.memberId === member.id).map((
        alarm,
      ) => alarm.alarm),
    };
  });
}
