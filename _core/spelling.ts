// A prefix that holds nothing, spelled otherwise with keys: on v3 keys are
// bytes, so `/app` and `app` are different prefixes, and a user who gives
// one while the data sits under the other sees an empty subtree. Internal;
// used by the tree (`EtcdTree.hint`) and the tools.

import type { Store } from "./store.ts";

/**
 * On v3, when `prefix` holds nothing but the same prefix with (or without)
 * its leading `/` holds keys, a note saying so; otherwise `undefined`
 * (v2, whose keys are paths, has no such twin).
 */
export async function otherSpelling(
  store: Store,
  prefix: string,
  options: { signal?: AbortSignal } = {},
): Promise<string | undefined> {
  if (store.capabilities.protocol !== "v3") return undefined;
  if (prefix === "" || prefix === "/") return undefined;
  const twin = prefix.startsWith("/") ? prefix.slice(1) : `/${prefix}`;
  if (!(await store.exists(store.subtree(twin), options))) return undefined;
  return `no v3 keys under ${JSON.stringify(prefix)}, but there are under ${
    JSON.stringify(twin)
  } (v3 keys are bytes: a leading "/" is part of the key)`;
}
