// The protocol backends the shared suites run against, each with the real
// etcd it needs. A suite written once loops over BACKENDS.

import { Client } from "../mod.ts";
import type { EtcdClient } from "../client.ts";
import { type EtcdServer, startEtcd } from "../testing.ts";

/** A running backend: a server and a client of the protocol. */
export interface Running extends AsyncDisposable {
  readonly server: EtcdServer;
  readonly client: EtcdClient;
  /** Another client of the same protocol on the same server. */
  connect(): EtcdClient;
}

/** A backend to test. */
export interface Backend {
  readonly name: string;
  start(): Promise<Running>;
}

function running(
  server: EtcdServer,
  connect: () => EtcdClient,
): Running {
  const clients: EtcdClient[] = [];
  const make = () => {
    const client = connect();
    clients.push(client);
    return client;
  };
  const client = make();
  return {
    server,
    client,
    connect: make,
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
      const server = await startEtcd();
      return running(server, () => new Client({ endpoints: server.endpoint }));
    },
  },
];
