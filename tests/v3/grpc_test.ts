// gRPC over our HTTP/2 against a real etcd: unary calls, large messages
// both ways, many calls on one connection, streams, cancellation, a member
// stopped or frozen mid-call, TLS with ALPN h2, etcd 3.4.

import assert from "node:assert/strict";
import { H2Error } from "../../_h2/errors.ts";
import { denoDialer } from "../../_h2/socket.ts";
import { RequestTimeout } from "../../_http/errors.ts";
import { startEtcd } from "../../testing.ts";
import { GrpcChannel, GrpcPool } from "../../v3/_grpc.ts";
import { InvalidArgument } from "../../v3/_errors.ts";
import {
  putRequest,
  rangeRequest,
  rangeResponse,
  revisionOf,
  txnPuts,
  watchCreate,
  watchedKeys,
} from "../_protobuf.ts";
import { mintPki } from "../_tls.ts";

const RANGE = "/etcdserverpb.KV/Range";
const PUT = "/etcdserverpb.KV/Put";
const WATCH = "/etcdserverpb.Watch/Watch";
const TXN = "/etcdserverpb.KV/Txn";
const text = new TextDecoder();

async function get(channel: GrpcChannel | GrpcPool, key: string) {
  const { kvs } = rangeResponse(
    await channel.unary(RANGE, rangeRequest(key), { timeout: 5000 }),
  );
  return kvs.length === 0 ? undefined : text.decode(kvs[0]![1]);
}

Deno.test("grpc etcd 3.5: unary Put and Range; etcd's errors as the gateway's classes", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  const channel = new GrpcChannel(etcd.endpoint);
  try {
    const put = await channel.unary(PUT, putRequest("a", "1"), {
      timeout: 5000,
      write: true,
    });
    assert.ok(revisionOf(put) > 1);
    assert.equal(await get(channel, "a"), "1");
    assert.equal(await get(channel, "missing"), undefined);
    const error = await channel.unary(RANGE, rangeRequest(""), {
      context: 'key ""',
    }).catch((error) => error);
    assert.ok(error instanceof InvalidArgument);
    assert.equal(error.code, 3);
    assert.match(error.message, /^key "": key is not provided/);
  } finally {
    channel.close();
  }
});

Deno.test("grpc etcd 3.5: a 1.5 MB value is put (send window respected) and read back", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  const channel = new GrpcChannel(etcd.endpoint);
  try {
    const value = new Uint8Array(1_500_000);
    for (let i = 0; i < value.length; i++) value[i] = i % 251;
    await channel.unary(PUT, putRequest("big", value), { timeout: 10000 });
    const { kvs } = rangeResponse(
      await channel.unary(RANGE, rangeRequest("big"), { timeout: 10000 }),
    );
    assert.deepEqual(kvs[0]![1], value);
  } finally {
    channel.close();
  }
});

Deno.test("grpc etcd 3.5: 1,000 concurrent calls on one connection, their frames coalesced into few writes", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  let writes = 0;
  const dial = denoDialer(etcd.endpoint);
  const channel = new GrpcChannel(etcd.endpoint, {
    dial: async (signal) => {
      const stream = await dial(signal);
      return {
        read: (into) => stream.read(into),
        write: (bytes) => (writes++, stream.write(bytes)),
        close: () => stream.close(),
      };
    },
  });
  try {
    await channel.unary(PUT, putRequest("k", "v"));
    writes = 0;
    const answers = await Promise.all(
      Array.from(
        { length: 1000 },
        (_, i) =>
          i % 2 === 0
            ? channel.unary(RANGE, rangeRequest("k"), { timeout: 20000 })
            : channel.unary(PUT, putRequest(`k${i}`, "v"), { timeout: 20000 }),
      ),
    );
    assert.equal(answers.length, 1000);
    assert.equal(rangeResponse(answers[0]!).kvs.length, 1);
    assert.equal(channel.connections, 1);
    // Requests made in one tick leave in one write; answers to etcd's
    // PINGs and window updates add a few.
    assert.ok(writes <= 100, `${writes} writes`);
  } finally {
    channel.close();
  }
});

Deno.test("grpc etcd 3.5: a 100,000-key range streams in; an aborted call leaves the connection usable; Snapshot streams", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  const channel = new GrpcChannel(etcd.endpoint);
  try {
    const value = "v".repeat(120);
    const keys = 100_000;
    // Loaded 128 keys per transaction (etcd's most operations per txn).
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < keys) {
        const pairs: [string, string][] = [];
        for (; pairs.length < 128 && next < keys; next++) {
          pairs.push([`big/${String(next).padStart(6, "0")}`, value]);
        }
        await channel.unary(TXN, txnPuts(pairs), { timeout: 30000 });
      }
    }));
    const started = performance.now();
    const answer = await channel.unary(RANGE, rangeRequest("big/", "big0"), {
      timeout: 60000,
    });
    const took = performance.now() - started;
    const { kvs } = rangeResponse(answer);
    assert.equal(kvs.length, keys);
    assert.ok(answer.length > 14_000_000, `${answer.length} bytes`);
    console.log(
      `100,000-key range (${(answer.length / 1e6).toFixed(1)} MB): ${
        took.toFixed(0)
      } ms`,
    );
    // Loosely: no stall waiting for window updates (seconds each).
    assert.ok(took < 15000, `${took} ms`);

    // Aborted mid-answer: RST_STREAM; the connection carries on.
    const controller = new AbortController();
    const aborted = channel.unary(RANGE, rangeRequest("big/", "big0"), {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error("given up")), 20);
    await assert.rejects(aborted, /given up/);
    assert.equal(await get(channel, "big/000007"), value);
    assert.equal(channel.connections, 1);

    // A server stream: the snapshot, read with backpressure.
    let bytes = 0;
    for await (
      const message of channel.serverStream(
        "/etcdserverpb.Maintenance/Snapshot",
        new Uint8Array(0),
      )
    ) {
      bytes += message.length;
    }
    assert.ok(bytes > 14_000_000, `${bytes} bytes of snapshot`);
    assert.equal(channel.connections, 1);
  } finally {
    channel.close();
  }
});

Deno.test("grpc etcd 3.5: a Watch stream (bidirectional) sees a put; cancel ends it", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  const channel = new GrpcChannel(etcd.endpoint);
  try {
    const watch = channel.bidi(WATCH);
    await watch.send(watchCreate("w"));
    const messages = watch[Symbol.asyncIterator]();
    const created = await messages.next();
    assert.equal(created.done, false);
    await channel.unary(PUT, putRequest("w", "1"));
    const event = await messages.next();
    assert.deepEqual(watchedKeys(event.value!), ["w"]);
    watch.cancel(new Error("done watching"));
    await assert.rejects(messages.next(), /done watching/);
    assert.equal(await get(channel, "w"), "1");
    assert.equal(channel.connections, 1);
  } finally {
    channel.close();
  }
});

Deno.test("grpc etcd 3.5: SIGTERM mid-call is named, and the next member answers", async () => {
  await using first = await startEtcd({ version: "3.5" });
  await using second = await startEtcd({ version: "3.5" });
  const pool = new GrpcPool([first.endpoint, second.endpoint]);
  try {
    await pool.channels[1]!.unary(PUT, putRequest("k", "second"));
    assert.equal(await get(pool, "k"), undefined);
    assert.equal(pool.current.endpoint, first.endpoint);
    const watch = pool.current.bidi(WATCH);
    await watch.send(watchCreate("w"));
    const messages = watch[Symbol.asyncIterator]();
    await messages.next();
    const ended = messages.next().catch((error) => error);
    await first.stop("SIGTERM");
    const error = await ended;
    assert.ok(error instanceof H2Error, String(error));
    assert.match(error.message, /GOAWAY|closed the connection/);
    // A read (and even a write, refused before it was sent) goes on.
    assert.equal(await get(pool, "k"), "second");
    assert.equal(pool.current.endpoint, second.endpoint);
    await pool.unary(PUT, putRequest("k", "again"), { write: true });
  } finally {
    pool.close();
  }
});

Deno.test("grpc etcd 3.5: a frozen member (SIGSTOP) is noticed: by the deadline, and by PING on a stream", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  const channel = new GrpcChannel(etcd.endpoint, {
    http2: { pingAfter: 1000, pingTimeout: 1000 },
  });
  try {
    await channel.unary(PUT, putRequest("k", "v"));
    const watch = channel.bidi(WATCH);
    await watch.send(watchCreate("w"));
    const messages = watch[Symbol.asyncIterator]();
    await messages.next();
    etcd.pause();
    let started = performance.now();
    const timedOut = await channel.unary(RANGE, rangeRequest("k"), {
      timeout: 1000,
    }).catch((error) => error);
    assert.ok(timedOut instanceof RequestTimeout, String(timedOut));
    assert.ok(performance.now() - started < 2500);
    started = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hung = await Promise.race([
      messages.next().catch((error) => error),
      new Promise((resolve) => {
        timer = setTimeout(resolve, 10000, "still waiting after 10 s");
      }),
    ]);
    clearTimeout(timer);
    assert.ok(hung instanceof H2Error, String(hung));
    assert.match(hung.message, /did not answer a PING within 1000 ms/);
    assert.ok(performance.now() - started < 5000);
    etcd.resume();
    // A new connection once it is back.
    assert.equal(await get(channel, "k"), "v");
    assert.equal(channel.connections, 2);
  } finally {
    etcd.resume();
    channel.close();
  }
});

Deno.test("grpc etcd 3.5 TLS: ALPN h2 with the CA; another CA and another host name refused", async () => {
  await using pki = await mintPki();
  await using etcd = await startEtcd({
    version: "3.5",
    tls: {
      certFile: pki.serverCertFile,
      keyFile: pki.serverKeyFile,
      caFile: pki.caFile,
    },
  });
  const channel = new GrpcChannel(etcd.endpoint, {
    tls: { caCert: pki.caPem },
  });
  try {
    await channel.unary(PUT, putRequest("tls", "1"));
    assert.equal(await get(channel, "tls"), "1");
  } finally {
    channel.close();
  }
  for (
    const [endpoint, caCert, pattern] of [
      [etcd.endpoint, pki.otherCaPem, /UnknownIssuer|certificate/i],
      [
        etcd.endpoint.replace("127.0.0.1", "localhost"),
        pki.caPem,
        /NotValidForName|certificate/i,
      ],
    ] as const
  ) {
    const refused = new GrpcChannel(endpoint, { tls: { caCert } });
    const error = await refused.unary(RANGE, rangeRequest("tls")).catch((
      error,
    ) => error);
    refused.close();
    assert.ok(error instanceof H2Error, String(error));
    assert.ok(error.notProcessed);
    assert.match(error.message, pattern);
  }
});

Deno.test("grpc etcd 3.4: a unary call", async () => {
  await using etcd = await startEtcd({ version: "3.4" });
  const channel = new GrpcChannel(etcd.endpoint);
  try {
    await channel.unary(PUT, putRequest("old", "3.4"));
    assert.equal(await get(channel, "old"), "3.4");
  } finally {
    channel.close();
  }
});
