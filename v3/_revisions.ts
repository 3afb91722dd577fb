// A read at a revision etcd no longer has, or does not have yet: etcd says
// only "mvcc: required revision has been compacted" (or "is a future
// revision"); the error says which revisions there are instead. Internal.

import type { Caller } from "./_call.ts";
import { header } from "./_decode.ts";
import { METHODS } from "./_proto/mod.ts";
import { Compacted, FutureRevision } from "./_errors.ts";
import type { Bytes } from "./_keys.ts";
import { type Namespace, rangeRequest } from "./_kv.ts";
import { Watcher } from "./_watch.ts";

/** How long to wait for etcd to say where its history starts, in ms. */
const ASK_FOR = 2000;

/**
 * `error` when it refuses revision `asked` as compacted or in the future,
 * with the oldest revision etcd still has (compacted) and the current one
 * in its message; any other error as it is.
 */
export async function explainRevision(
  error: unknown,
  asked: number | undefined,
  caller: Caller,
  key: Bytes,
  namespace: Namespace,
): Promise<unknown> {
  if (
    asked === undefined ||
    !(error instanceof Compacted || error instanceof FutureRevision)
  ) {
    return error;
  }
  try {
    const current = await caller.call(
      METHODS.kv.range,
      rangeRequest(key, { limit: 1, keysOnly: true }, namespace),
      "read",
      (answer) => header(answer.header).revision,
      { timeout: ASK_FOR },
    );
    const context = error.message.slice(
      0,
      Math.max(0, error.message.indexOf(error.etcdMessage)),
    );
    if (error instanceof FutureRevision) {
      error.message =
        `${context}revision ${asked} is in the future: the current revision is ${current} (etcd v3 error ${error.grpcName})`;
      return error;
    }
    const oldest = error.compactRevision ||
      await compactedAt(caller, key, asked, namespace);
    error.compactRevision = oldest;
    error.message =
      `${context}revision ${asked} is compacted: the oldest revision etcd still has is ${oldest}, the current is ${current} (etcd v3 error ${error.grpcName})`;
  } catch {
    // etcd cannot say now: its own words stand.
  }
  return error;
}

/**
 * Where etcd's history starts: a watch from a compacted revision is
 * canceled at once with the compaction's revision.
 */
async function compactedAt(
  caller: Caller,
  key: Bytes,
  asked: number,
  namespace: Namespace,
): Promise<number> {
  const watcher = new Watcher(caller, key, {
    startRevision: asked,
    retryFor: 0,
    signal: AbortSignal.timeout(ASK_FOR),
  }, namespace);
  try {
    await watcher.batches().next();
  } catch (error) {
    if (error instanceof Compacted && error.compactRevision > 0) {
      return error.compactRevision;
    }
    throw error;
  } finally {
    await watcher.close();
  }
  throw new Error("etcd did not say where its history starts");
}
