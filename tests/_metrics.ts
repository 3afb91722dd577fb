// etcd's own counts, read from its `/metrics`: what the server saw (watch
// streams, watchers, gRPC calls started), to check a client against.

import assert from "node:assert/strict";
import type { EtcdServer } from "../testing.ts";

/**
 * The value of metric `name`, summed over the series whose labels include
 * every one of `labels` (such as `grpc_method="LeaseKeepAlive"`).
 */
export async function metric(
  etcd: EtcdServer,
  name: string,
  ...labels: string[]
): Promise<number> {
  // Its own connection, closed after: etcd 3.5 waits minutes to stop while
  // an idle kept-alive HTTP/1.1 connection is open beside a gRPC one.
  using client = Deno.createHttpClient({});
  const body = await (await fetch(`${etcd.endpoint}/metrics`, { client }))
    .text();
  let found = false;
  let sum = 0;
  for (const line of body.split("\n")) {
    if (!line.startsWith(`${name} `) && !line.startsWith(`${name}{`)) continue;
    if (!labels.every((label) => line.includes(label))) continue;
    found = true;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  assert.ok(found, `etcd has no metric ${name} ${labels.join(",")}`);
  return sum;
}
