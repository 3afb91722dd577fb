// The v3 client of the tests, on the transport the run is for: every v3
// test file imports `Client` from here, and the test task runs those files
// once per transport (ETCD_TREE_TRANSPORT=grpc, the default, and gateway).

import { Client as V3Client, type ClientOptions } from "../mod.ts";

/** The transport of this run. */
export const TRANSPORT: "grpc" | "gateway" =
  Deno.env.get("ETCD_TREE_TRANSPORT") === "gateway" ? "gateway" : "grpc";

/** A v3 client on this run's transport (unless the options say another). */
export class Client extends V3Client {
  constructor(options: ClientOptions = {}) {
    super({ transport: TRANSPORT, ...options });
  }
}

/**
 * How many times etcd handled a gRPC method (the gateway's calls too: it
 * calls etcd's gRPC), from its /metrics.
 */
export async function handled(
  endpoint: string,
  method: string,
  init?: RequestInit,
): Promise<number> {
  const text = await (await fetch(`${endpoint}/metrics`, init)).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (
      line.startsWith("grpc_server_handled_total{") &&
      line.includes(`grpc_method="${method}"`)
    ) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}
