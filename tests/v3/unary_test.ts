// Unary v3 calls at their limits, on this run's transport (gRPC by
// default): a 1.5 MiB value, a 100,000-key range, a 128-op transaction, an
// aborted call, a member stopped with SIGTERM mid-call, a cluster losing
// its leader; maxConcurrency (counted at etcd); and the gRPC client's move
// to the gateway when an endpoint answers only HTTP/1.1.

import assert from "node:assert/strict";
import {
  Client as V3Client,
  ConnectionFailed,
  op,
  TooManyTxnOps,
} from "../../mod.ts";
import { Client, handled } from "../_v3.ts";
import { startCluster, startEtcd } from "../../testing.ts";
import { startProxy } from "../_proxy.ts";
import { delay, test, until } from "../_wait.ts";

test("v3 unary calls at their limits", async (t) => {
  await using etcd = await startEtcd({
    version: "3.5",
    args: ["--max-request-bytes", String(4 << 20)],
  });
  await using client = new Client({
    endpoints: etcd.endpoint,
    timeout: 60_000,
  });

  await t.step("a 1.5 MiB value, byte for byte", async () => {
    const value = new Uint8Array(1.5 * 1024 * 1024);
    for (let i = 0; i < value.length; i++) value[i] = (i * 7 + 3) & 0xff;
    await client.put("big", value);
    const kv = await client.get("big");
    assert.equal(kv?.valueBytes.length, value.length);
    assert.ok(kv!.valueBytes.every((byte, i) => byte === value[i]));
  });

  await t.step("a 128-op transaction; 129 is TooManyTxnOps", async () => {
    const puts = (n: number) =>
      Array.from({ length: n }, (_, i) => op.put(`txn/${i}`, String(i)));
    const done = await client.txn({ success: puts(128) });
    assert.equal(done.succeeded, true);
    assert.equal(done.responses.length, 128);
    assert.equal((await client.range("txn/", { prefix: true })).count, 128);
    await assert.rejects(client.txn({ success: puts(129) }), TooManyTxnOps);
  });

  await t.step("a 100,000-key range in one answer", async () => {
    const pad = (i: number) => String(i).padStart(6, "0");
    const writes: Promise<unknown>[] = [];
    for (let start = 0; start < 100_000; start += 128) {
      const ops = [];
      for (let i = start; i < Math.min(start + 128, 100_000); i++) {
        ops.push(op.put(`many/${pad(i)}`, `v${i}`));
      }
      writes.push(client.txn({ success: ops }));
      if (writes.length === 16) await Promise.all(writes.splice(0));
    }
    await Promise.all(writes);
    const range = await client.range("many/", { prefix: true });
    assert.equal(range.count, 100_000);
    assert.equal(range.kvs.length, 100_000);
    assert.equal(range.kvs[0]!.key, "many/000000");
    assert.equal(range.kvs[99_999]!.value, "v99999");
  });

  await t.step("an aborted call rejects with the reason", async () => {
    const controller = new AbortController();
    const reason = new Error("given up");
    const call = client.range("many/", {
      prefix: true,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(reason), 5);
    await assert.rejects(call, (error) => error === reason);
    const before = AbortSignal.abort(reason);
    await assert.rejects(
      client.get("big", { signal: before }),
      (error) => error === reason,
    );
    // The connection goes on serving.
    assert.equal((await client.get("txn/1"))?.value, "1");
  });

  await t.step("a member stopped with SIGTERM mid-call", async () => {
    const call = client.range("many/", { prefix: true, timeout: 20_000 })
      .then(() => "answered", (error) => error);
    await etcd.stop("SIGTERM");
    const outcome = await call;
    // Either it was answered before etcd went, or it fails as a connection
    // failure, without waiting for the deadline.
    assert.ok(
      outcome === "answered" || outcome instanceof ConnectionFailed,
      String(outcome),
    );
    const error = await client.get("txn/1", { timeout: 3000 })
      .catch((error) => error);
    assert.ok(error instanceof ConnectionFailed, String(error));
  });
});

test("v3: a cluster that loses its leader goes on", async () => {
  await using cluster = await startCluster(3, { version: "3.5" });
  await using client = new Client({
    endpoints: cluster.members.map((member) => member.endpoint),
    timeout: 20_000,
  });
  await client.put("k", "1");
  const leader = await cluster.leader();
  await leader.stop("SIGTERM");
  // Writes and reads go on with the two members left.
  await client.put("k", "2");
  assert.equal((await client.get("k"))?.value, "2");
});

test("gRPC: an endpoint that answers only HTTP/1.1 moves the client to the gateway, once said", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const httpOnly = `http://127.0.0.1:${port}`;
  await using etcd = await startEtcd({
    version: "3.5",
    listenHttpOnly: [httpOnly],
  });
  const notes: string[] = [];
  await using client = new V3Client({
    endpoints: httpOnly,
    onNote: (note) => notes.push(note),
  });
  await client.put("fallback/k", "1");
  assert.equal((await client.get("fallback/k"))?.value, "1");
  await client.put("fallback/k", "2");
  assert.equal(notes.length, 1, notes.join("\n"));
  assert.match(notes[0]!, /only HTTP\/1\.1.*gateway/);
  // The same etcd's own client URL speaks gRPC: no note.
  const none: string[] = [];
  await using direct = new V3Client({
    endpoints: etcd.endpoint,
    onNote: (note) => none.push(note),
  });
  assert.equal((await direct.get("fallback/k"))?.value, "2");
  assert.deepEqual(none, []);
});

Deno.test("v3 maxConcurrency: at most 2 calls reach etcd at once; queued calls finish; a queued call aborted or timed out rejects at once", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using proxy = startProxy(etcd.clientPort);
  await using client = new Client({
    endpoints: proxy.endpoint,
    maxConcurrency: 2,
    timeout: 30_000,
  });
  await client.put("warm", "up"); // the connection is made
  // A connection each: a kept-alive one would hold up etcd's shutdown.
  const puts = () =>
    handled(etcd.endpoint, "Put", { headers: { connection: "close" } });
  const before = await puts();
  // Requests still reach etcd, but no answer comes back: the calls that
  // reach etcd stay in flight.
  proxy.holdAnswers();
  const abort = new AbortController();
  const calls = Array.from({ length: 10 }, (_, i) =>
    client.put(
      `queued/${i}`,
      "v",
      i === 8 ? { timeout: 300 } : i === 9 ? { signal: abort.signal } : {},
    ));
  for (const call of calls) call.catch(() => {});
  await until(async () => (await puts()) - before >= 2, 10_000, "2 puts");
  await delay(500);
  assert.equal((await puts()) - before, 2, "puts at etcd while 2 in flight");
  // A queued call aborted, or out of time, leaves the line at once.
  const aborted = performance.now();
  abort.abort(new Error("not now"));
  await assert.rejects(calls[9]!, /not now/);
  assert.ok(performance.now() - aborted < 250, "the abort is prompt");
  await assert.rejects(calls[8]!, /Timed out after 300 ms/);
  proxy.passAnswers();
  await Promise.all(calls.slice(0, 8));
  assert.equal((await puts()) - before, 8, "every call but 2 reached etcd");
  const kept = await client.range("queued/", { prefix: true, countOnly: true });
  assert.equal(kept.count, 8);
});
