/**
 * The clients of etcd-tree, and what they share.
 *
 * {@linkcode Client} speaks etcd's v2 HTTP API: the whole v2 key space
 * (every option, named as etcd names it) and the cluster endpoints, with
 * typed results from `results.ts` and typed errors from `errors.ts`.
 * Everything built on a client (`EtcdTree`, `Lock`, `Election`,
 * `keepAlive`, the command-line tools) takes any {@linkcode EtcdClient}.
 *
 * @example Usage
 * ```ts
 * import { Client } from "@etcd-tree/etcd-tree/client";
 * import { startEtcd } from "@etcd-tree/etcd-tree/testing";
 *
 * await using etcd = await startEtcd();
 * await using client = new Client({ endpoints: etcd.endpoint });
 * await client.set("app/port", "8080");
 * const { node } = await client.get("app", { recursive: true });
 * console.log(node.key);
 * ```
 *
 * @module
 */

export * from "./v2/client.ts";

/**
 * Any client of this library, of either protocol: what `EtcdTree`, `Lock`,
 * `Election` and `keepAlive` are built on. Only this library's clients
 * qualify; anything else is refused with a `TypeError`.
 */
export interface EtcdClient extends AsyncDisposable {
  /** Closes the client. */
  close(): Promise<void>;
}
