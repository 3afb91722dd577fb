// Where a lease outlives its key (v3: deleting a key leaves its lease
// alive), the holder of the key watches it, so that someone else deleting
// it is a loss and not a silent success. Internal.

import type { ChangeStream, Store, Subtree } from "../_core/store.ts";

/**
 * Calls `lose` once if `path` below `subtree` is deleted after index `from`,
 * on stores whose leases do not refresh keys (v2 learns it from the next
 * refresh instead). Returns the watch, to close when the key is left, or
 * `undefined` where no watch is needed.
 */
export function guardKey(
  store: Store,
  subtree: Subtree,
  path: string,
  from: number,
  lose: (reason: Error) => void,
): ChangeStream | undefined {
  if (store.capabilities.keysRefreshed) return undefined;
  const stream = store.follow(subtree, from, { only: path });
  (async () => {
    for await (const change of stream) {
      if (change.type === "delete") {
        lose(new Error("its key was deleted"));
        return;
      }
    }
  })().catch(() => {
    // The lease says when etcd is out of reach for too long.
  }).finally(() => void stream.close());
  return stream;
}
