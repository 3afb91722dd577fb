// The protocol backends the shared suites run against, each with the real
// etcd it needs. A suite written once loops over BACKENDS.

import { Client } from "../v2/mod.ts";
import { Client as V3Client } from "./_v3.ts";
import type { EtcdClient } from "../v2/mod.ts";
import {
  type Lease,
  type Store,
  storeOf,
  type Subtree,
} from "../_core/store.ts";
import { type EtcdServer, startEtcd } from "../testing.ts";

/** A running backend: a server and a client of the protocol. */
export interface Running extends AsyncDisposable {
  readonly server: EtcdServer;
  readonly client: EtcdClient;
  /**
   * Another client of the same protocol on the same server, or at
   * `endpoint` (a proxy's), with the client's `timeout` if given.
   */
  connect(options?: ConnectOptions): EtcdClient;
  /**
   * Makes etcd forget the history up to now (v2: more writes than it keeps
   * under `subtree`; v3: a compaction).
   */
  forgetHistory(store: Store, subtree: Subtree): Promise<void>;
  /**
   * Ends a lease from outside its holder (v2: deletes its key `path`;
   * v3: revokes it from another client).
   */
  endLease(lease: Lease, subtree: Subtree, path: string): Promise<void>;
}

/** Where and how a client of a backend connects. */
export interface ConnectOptions {
  /** An endpoint in front of the server, such as a proxy's. */
  readonly endpoint?: string;
  /** The client's timeout for each request, in ms. */
  readonly timeout?: number;
}

/** A backend to test. */
export interface Backend {
  readonly name: string;
  start(): Promise<Running>;
}

type Extras = Pick<Running, "forgetHistory" | "endLease">;

function running(
  server: EtcdServer,
  connect: (options: ConnectOptions) => EtcdClient,
  extras: (connect: () => EtcdClient) => Extras,
): Running {
  const clients: EtcdClient[] = [];
  const make = (options: ConnectOptions = {}) => {
    const client = connect(options);
    clients.push(client);
    return client;
  };
  const client = make();
  return {
    server,
    client,
    connect: make,
    ...extras(make),
    async [Symbol.asyncDispose]() {
      for (const client of clients) await client.close();
      await server[Symbol.asyncDispose]();
    },
  };
}

/** Every backend, in the order the suites run them. */
export const BACKENDS: readonly Backend[] = [
  {
    name: "v2",
    async start() {
      const server = await startEtcd({ version: "3.4" });
      return running(
        server,
        ({ endpoint, timeout }) =>
          new Client({
            endpoints: endpoint ?? server.endpoint,
            ...(timeout === undefined ? {} : { timeout }),
          }),
        (connect) => ({
          async forgetHistory(store, subtree) {
            // v2 keeps the last 1000 events.
            for (let i = 0; i < 1100; i += 50) {
              await Promise.all(
                Array.from(
                  { length: 50 },
                  (_, j) => store.put(subtree, `forget${j}`, `${i}`),
                ),
              );
            }
          },
          async endLease(_lease, subtree, path) {
            await storeOf(connect()).remove(subtree, path);
          },
        }),
      );
    },
  },
  {
    name: "v3",
    async start() {
      const server = await startEtcd({ version: "3.5" });
      return running(
        server,
        ({ endpoint, timeout }) =>
          new V3Client({
            endpoints: endpoint ?? server.endpoint,
            ...(timeout === undefined ? {} : { timeout }),
          }),
        (connect) => ({
          async forgetHistory() {
            const v3 = connect() as V3Client;
            const { revision } = await v3.put("forget", "now");
            await v3.compact(revision);
          },
          async endLease(lease) {
            await (connect() as V3Client).lease.revoke(lease.id);
          },
        }),
      );
    },
  },
];
