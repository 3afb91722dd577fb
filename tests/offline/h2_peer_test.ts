// HTTP/2 and gRPC against a hostile server written here: every violation
// is named at once, nothing hangs, and the connection stays usable where
// the protocol allows.

import assert from "node:assert/strict";
import { ErrorCode, H2Error } from "../../_h2/errors.ts";
import { FrameType, Setting } from "../../_h2/frame.ts";
import { RequestTimeout, UnexpectedResponse } from "../../_http/errors.ts";
import { GrpcChannel } from "../../v3/_grpc.ts";
import { InvalidArgument, NoLeader } from "../../v3/_errors.ts";
import { hostilePeer, type Peer, rawFrame } from "../_h2peer.ts";

const PATH = "/etcdserverpb.KV/Range";
const REQUEST = new Uint8Array([0x0a, 0x01, 0x61]);
const ANSWER = new Uint8Array([0x20, 0x07]);

/** Answers one request with `ANSWER` and status 0. */
function answer(peer: Peer, stream: number): Promise<void> {
  peer.grpcHeaders(stream);
  peer.message(stream, ANSWER);
  peer.trailers(stream);
  return peer.flush();
}

async function failure(call: Promise<unknown>): Promise<Error> {
  const started = performance.now();
  const error = await call.then(
    () => assert.fail("the call succeeded"),
    (error: Error) => error,
  );
  // "At once": well within any default timeout.
  assert.ok(performance.now() - started < 3000, "named at once");
  return error;
}

Deno.test("h2 peer: a frame of the wrong size is FRAME_SIZE_ERROR, named", async () => {
  await using peer = hostilePeer(async (peer) => {
    await peer.handshake();
    await peer.request();
    // A PING of 7 bytes.
    await peer.raw(rawFrame(FrameType.PING, 0, 0, new Uint8Array(7)));
    await peer.until(FrameType.GOAWAY);
  });
  const channel = new GrpcChannel(peer.endpoint);
  const error = await failure(channel.unary(PATH, REQUEST));
  assert.ok(error instanceof H2Error);
  assert.equal(error.code, ErrorCode.FRAME_SIZE_ERROR);
  assert.match(
    error.message,
    /FRAME_SIZE_ERROR from http:\/\/127\.0\.0\.1:\d+: a PING frame of 7 bytes \(expected 8\)/,
  );
  channel.close();
});

Deno.test("h2 peer: a frame over the announced SETTINGS_MAX_FRAME_SIZE is refused before it is read", async () => {
  await using peer = hostilePeer(async (peer) => {
    await peer.handshake();
    const stream = await peer.request();
    peer.grpcHeaders(stream);
    await peer.flush();
    // The header of a 1 MiB DATA frame; its payload never comes.
    await peer.raw(
      rawFrame(FrameType.DATA, 0, stream, new Uint8Array(0), 1 << 20),
    );
    await peer.until(FrameType.GOAWAY);
  });
  const channel = new GrpcChannel(peer.endpoint);
  const error = await failure(channel.unary(PATH, REQUEST));
  assert.match(
    error.message,
    /FRAME_SIZE_ERROR .*a DATA frame of 1048576 bytes, over the 16384 announced/,
  );
  channel.close();
});

Deno.test("h2 peer: bad padding and a frame on stream 0 are PROTOCOL_ERRORs", async () => {
  for (
    const [frame, pattern] of [
      [
        rawFrame(FrameType.DATA, 0x8, 1, new Uint8Array([9, 1, 2])),
        /PROTOCOL_ERROR .*a DATA frame padded with 9 bytes of its 3/,
      ],
      [
        rawFrame(FrameType.HEADERS, 0x4, 0, new Uint8Array([0x88])),
        /PROTOCOL_ERROR .*a HEADERS frame on stream 0/,
      ],
      [
        rawFrame(FrameType.CONTINUATION, 0x4, 1, new Uint8Array([0x88])),
        /PROTOCOL_ERROR .*CONTINUATION frame on stream 1 that continues no header block/,
      ],
    ] as const
  ) {
    await using peer = hostilePeer(async (peer) => {
      await peer.handshake();
      await peer.request();
      await peer.raw(frame);
      await peer.until(FrameType.GOAWAY);
    });
    const channel = new GrpcChannel(peer.endpoint);
    const error = await failure(channel.unary(PATH, REQUEST));
    assert.ok(error instanceof H2Error);
    assert.match(error.message, pattern);
    channel.close();
  }
});

Deno.test("h2 peer: DATA beyond a stream's window fails that stream (FLOW_CONTROL_ERROR); the connection goes on", async () => {
  await using peer = hostilePeer(async (peer) => {
    await peer.handshake();
    const first = await peer.request();
    peer.grpcHeaders(first);
    // Five messages of 14,000 bytes that nobody reads: 70,025 bytes where
    // the window is 65,535.
    for (let sent = 0; sent < 5; sent++) {
      peer.message(first, new Uint8Array(14000));
    }
    await peer.flush();
    const reset = await peer.until(FrameType.RST_STREAM);
    assert.equal(reset?.streamId, first);
    assert.deepEqual([...reset!.payload], [
      0,
      0,
      0,
      ErrorCode.FLOW_CONTROL_ERROR,
    ]);
    await answer(peer, await peer.request());
    await peer.until(FrameType.GOAWAY);
  });
  const channel = new GrpcChannel(peer.endpoint, {
    http2: { streamWindow: 65535 },
  });
  const stream = channel.serverStream(PATH, REQUEST);
  await new Promise((resolve) => setTimeout(resolve, 200));
  let read = 0;
  const error = await failure((async () => {
    for await (const _ of stream) read++;
  })());
  assert.equal(read, 4);
  assert.ok(error instanceof H2Error);
  assert.equal(error.code, ErrorCode.FLOW_CONTROL_ERROR);
  assert.match(error.message, /sent \d+ bytes beyond stream 1's window/);
  assert.deepEqual(await channel.unary(PATH, REQUEST), ANSWER);
  assert.equal(channel.connections, 1);
  channel.close();
});

Deno.test("h2 peer: a WINDOW_UPDATE past 2^31-1 on the connection is a FLOW_CONTROL_ERROR", async () => {
  await using peer = hostilePeer(async (peer) => {
    await peer.handshake();
    await peer.request();
    peer.writer.windowUpdate(0, 0x7fffffff);
    await peer.flush();
    await peer.until(FrameType.GOAWAY);
  });
  const channel = new GrpcChannel(peer.endpoint);
  const error = await failure(channel.unary(PATH, REQUEST));
  assert.match(
    error.message,
    /FLOW_CONTROL_ERROR .*connection's send window to \d+, over 2\^31-1/,
  );
  channel.close();
});

Deno.test("h2 peer: an endless header block is refused at the limit, not buffered", async () => {
  await using peer = hostilePeer(async (peer) => {
    await peer.handshake();
    const stream = await peer.request();
    await peer.raw(
      rawFrame(FrameType.HEADERS, 0, stream, new Uint8Array(16000)),
    );
    for (let i = 0; i < 1000; i++) {
      const sent = await peer.raw(
        rawFrame(FrameType.CONTINUATION, 0, stream, new Uint8Array(16000)),
      ).then(() => true, () => false);
      if (!sent) return;
    }
  });
  const channel = new GrpcChannel(peer.endpoint, {
    http2: { maxHeaderListSize: 32768 },
  });
  const error = await failure(channel.unary(PATH, REQUEST));
  assert.match(
    error.message,
    /PROTOCOL_ERROR .*a header block of over 32768 bytes on stream 1/,
  );
  channel.close();
});

Deno.test("h2 peer: an answer without trailers, or not gRPC, is named; the connection goes on", async () => {
  await using peer = hostilePeer(async (peer) => {
    await peer.handshake();
    // No trailers: the message ends the stream.
    let stream = await peer.request();
    peer.grpcHeaders(stream);
    peer.message(stream, ANSWER);
    peer.writer.data(stream, new Uint8Array(0), true);
    await peer.flush();
    // HTML, not gRPC.
    stream = await peer.request();
    peer.headers(stream, [[":status", "200"], ["content-type", "text/html"]]);
    peer.writer.data(stream, new TextEncoder().encode("<html>"), true);
    await peer.flush();
    // A 404.
    stream = await peer.request();
    peer.headers(stream, [[":status", "404"]], true);
    await peer.flush();
    // A compressed message.
    stream = await peer.request();
    peer.grpcHeaders(stream);
    peer.message(stream, ANSWER, 1);
    peer.trailers(stream);
    await peer.flush();
    await answer(peer, await peer.request());
    await peer.until(FrameType.GOAWAY);
  });
  const channel = new GrpcChannel(peer.endpoint);
  for (
    const pattern of [
      /without gRPC trailers \(no grpc-status\)/,
      /content-type "text\/html" instead of application\/grpc/,
      /HTTP status "404" instead of 200: not a gRPC answer/,
      /a compressed message, although no compression was asked for/,
    ]
  ) {
    const error = await failure(channel.unary(PATH, REQUEST));
    assert.ok(error instanceof UnexpectedResponse, String(error));
    assert.match(error.message, pattern);
  }
  assert.deepEqual(await channel.unary(PATH, REQUEST), ANSWER);
  assert.equal(channel.connections, 1);
  channel.close();
});

Deno.test("h2 peer: grpc-status maps to etcd's error classes, grpc-message percent-decoded", async () => {
  await using peer = hostilePeer(async (peer) => {
    await peer.handshake();
    // Trailers-only.
    let stream = await peer.request();
    peer.headers(stream, [
      [":status", "200"],
      ["content-type", "application/grpc"],
      ["grpc-status", "3"],
      ["grpc-message", "etcdserver: key is not provided %E2%9C%93"],
    ], true);
    await peer.flush();
    stream = await peer.request();
    peer.grpcHeaders(stream);
    peer.trailers(stream, 14, "etcdserver: no leader");
    await peer.flush();
    await peer.until(FrameType.GOAWAY);
  });
  const channel = new GrpcChannel(peer.endpoint);
  const invalid = await failure(
    channel.unary(PATH, REQUEST, { context: "key a" }),
  );
  assert.ok(invalid instanceof InvalidArgument);
  assert.equal(
    invalid.message,
    "key a: key is not provided ✓ (etcd v3 error InvalidArgument)",
  );
  assert.ok(await failure(channel.unary(PATH, REQUEST)) instanceof NoLeader);
  channel.close();
});

Deno.test("h2 peer: a stream that never ends meets its deadline; RST_STREAM CANCEL is sent", async () => {
  let reset: number | undefined;
  await using peer = hostilePeer(async (peer) => {
    await peer.handshake();
    const stream = await peer.request();
    peer.grpcHeaders(stream);
    await peer.flush();
    const frame = await peer.until(FrameType.RST_STREAM);
    reset = frame?.payload[3];
    await answer(peer, await peer.request());
    await peer.until(FrameType.GOAWAY);
  });
  const channel = new GrpcChannel(peer.endpoint);
  const started = performance.now();
  const error = await failure(channel.unary(PATH, REQUEST, { timeout: 300 }));
  assert.ok(error instanceof RequestTimeout);
  assert.ok(performance.now() - started >= 290);
  assert.deepEqual(await channel.unary(PATH, REQUEST), ANSWER);
  assert.equal(reset, ErrorCode.CANCEL);
  channel.close();
});

Deno.test("h2 peer: GOAWAY fails the streams above its last id as not processed; the others finish", async () => {
  await using peer = hostilePeer(async (peer, index) => {
    await peer.handshake();
    if (index > 0) {
      await answer(peer, await peer.request());
      await peer.until(FrameType.GOAWAY);
      return;
    }
    const first = await peer.request();
    const second = await peer.request();
    peer.writer.goaway(first, ErrorCode.NO_ERROR, "draining");
    await peer.flush();
    await answer(peer, first);
    assert.ok(second > first);
    await peer.frame();
  });
  const channel = new GrpcChannel(peer.endpoint);
  const first = channel.unary(PATH, REQUEST);
  const second = channel.unary(PATH, REQUEST);
  const error = await failure(second);
  assert.ok(error instanceof H2Error);
  assert.ok(error.notProcessed);
  assert.match(
    error.message,
    /sent GOAWAY NO_ERROR "draining": the request was not processed/,
  );
  assert.deepEqual(await first, ANSWER);
  // The next call goes on a new connection.
  assert.deepEqual(await channel.unary(PATH, REQUEST), ANSWER);
  assert.equal(channel.connections, 2);
  channel.close();
});

Deno.test("h2 peer: MAX_CONCURRENT_STREAMS is respected: calls beyond it wait their turn", async () => {
  let most = 0;
  await using peer = hostilePeer(async (peer) => {
    await peer.handshake([[Setting.MAX_CONCURRENT_STREAMS, 2]]);
    const waiting: number[] = [];
    let next = peer.frame();
    for (let answered = 0; answered < 6;) {
      if (waiting.length === 2) {
        // Two requests open: a third must not come before an answer.
        const early = await Promise.race([
          next,
          new Promise((resolve) => setTimeout(resolve, 150, "quiet")),
        ]);
        if (early !== "quiet") most = 3;
        for (const stream of waiting.splice(0)) await answer(peer, stream);
        answered += 2;
        continue;
      }
      const frame = await next;
      next = peer.frame();
      if (frame === null) return;
      if (frame.type === FrameType.DATA && frame.flags & 1) {
        waiting.push(frame.streamId);
        most = Math.max(most, waiting.length);
      }
    }
    await next;
  });
  const channel = new GrpcChannel(peer.endpoint);
  const answers = await Promise.all(
    Array.from({ length: 6 }, () => channel.unary(PATH, REQUEST)),
  );
  assert.equal(answers.length, 6);
  assert.equal(most, 2);
  channel.close();
});

Deno.test("h2 peer: a server that speaks HTTP/1.1 is named as such", async () => {
  await using peer = hostilePeer(async (peer) => {
    await peer.raw(
      new TextEncoder().encode(
        "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n",
      ),
    );
    await peer.frame();
  });
  const channel = new GrpcChannel(peer.endpoint);
  const error = await failure(channel.unary(PATH, REQUEST));
  assert.ok(error instanceof H2Error);
  assert.ok(error.notProcessed);
  assert.match(error.message, /does not speak HTTP\/2/);
  channel.close();
});

Deno.test("h2 peer: a server that answers no PING is given up while a stream waits", async () => {
  await using peer = hostilePeer(async (peer) => {
    await peer.handshake();
    await peer.request();
    // Never answers anything again, PINGs included.
    while (await peer.frame() !== null) { /* ignore */ }
  });
  const channel = new GrpcChannel(peer.endpoint, {
    http2: { pingAfter: 300, pingTimeout: 300 },
  });
  const started = performance.now();
  const error = await channel.unary(PATH, REQUEST).catch((error) => error);
  assert.ok(error instanceof H2Error);
  assert.match(error.message, /did not answer a PING within 300 ms: it hangs/);
  assert.ok(performance.now() - started < 2000);
  channel.close();
});

Deno.test("h2 peer: a server that sends no SETTINGS: the call's deadline holds while connecting, then the connection is given up", async () => {
  await using peer = hostilePeer(async (peer) => {
    // Reads the client's preface and settings, answers nothing.
    while (await peer.frame() !== null) { /* ignore */ }
  });
  const channel = new GrpcChannel(peer.endpoint, {
    http2: { connectTimeout: 1000 },
  });
  const controller = new AbortController();
  const aborted = channel.unary(PATH, REQUEST, { signal: controller.signal });
  const timed = channel.unary(PATH, REQUEST, { timeout: 200 });
  const waiting = channel.unary(PATH, REQUEST);
  controller.abort(new Error("given up"));
  await assert.rejects(aborted, /given up/);
  const started = performance.now();
  assert.ok(await failure(timed) instanceof RequestTimeout);
  assert.ok(performance.now() - started < 900);
  // The abort and the deadline did not end the attempt the third waits on.
  const error = await failure(waiting);
  assert.ok(error instanceof H2Error);
  assert.ok(error.notProcessed);
  assert.match(error.message, /sent no SETTINGS within 1000 ms/);
  channel.close();
});

Deno.test("h2 peer: PINGs answered; padding, CONTINUATION and the server's larger frame size handled both ways", async () => {
  const seen = { pingAck: "", dataFrames: [] as number[], continuations: 0 };
  await using peer = hostilePeer(async (peer) => {
    await peer.handshake([[Setting.MAX_FRAME_SIZE, 65536]]);
    peer.writer.ping(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), false);
    await peer.flush();
    let stream = 0;
    for (;;) {
      const frame = await peer.frame();
      if (frame === null) return;
      if (frame.type === FrameType.PING && frame.flags & 1) {
        seen.pingAck = frame.payload.join(",");
      }
      if (frame.type === FrameType.CONTINUATION) seen.continuations++;
      if (frame.type === FrameType.HEADERS) {
        // Room for the 100 KB request.
        peer.writer.windowUpdate(0, 100_000);
        peer.writer.windowUpdate(frame.streamId, 100_000);
        await peer.flush();
      }
      if (frame.type === FrameType.DATA) {
        seen.dataFrames.push(frame.length);
        if (frame.flags & 1) {
          stream = frame.streamId;
          break;
        }
      }
    }
    // The answer's headers in three frames, its message padded.
    const block = peer.encoder.encode([
      [":status", "200"],
      ["content-type", "application/grpc"],
      ["x-filler", "f".repeat(100)],
    ]).slice();
    await peer.raw(
      rawFrame(FrameType.HEADERS, 0, stream, block.subarray(0, 10)),
    );
    await peer.raw(
      rawFrame(FrameType.CONTINUATION, 0, stream, block.subarray(10, 50)),
    );
    await peer.raw(
      rawFrame(FrameType.CONTINUATION, 0x4, stream, block.subarray(50)),
    );
    const padded = new Uint8Array([3, 0, 0, 0, 0, 2, 0x20, 0x07, 0, 0, 0]);
    await peer.raw(rawFrame(FrameType.DATA, 0x8, stream, padded));
    peer.trailers(stream);
    await peer.flush();
    await peer.until(FrameType.GOAWAY);
  });
  const channel = new GrpcChannel(peer.endpoint);
  const big = new Uint8Array(100_000);
  const answer = await channel.unary(PATH, big, {
    metadata: { "x-big": "b".repeat(20_000) },
  });
  assert.deepEqual(answer, ANSWER);
  assert.equal(seen.pingAck, "1,2,3,4,5,6,7,8");
  // 100,005 bytes in frames of up to 65,536.
  assert.ok(Math.max(...seen.dataFrames) > 16384, `${seen.dataFrames}`);
  assert.ok(Math.max(...seen.dataFrames) <= 65536);
  assert.equal(seen.dataFrames.reduce((sum, size) => sum + size, 0), 100_005);
  // A 20 KB header block goes out as HEADERS and CONTINUATION... unless
  // the server's frame size takes it whole.
  assert.equal(seen.continuations, 0);
  channel.close();
});

Deno.test("h2: a header block over the server's frame size goes out as HEADERS + CONTINUATION", async () => {
  let continuations = 0;
  await using peer = hostilePeer(async (peer) => {
    await peer.handshake();
    for (;;) {
      const frame = await peer.frame();
      if (frame === null) return;
      if (frame.type === FrameType.CONTINUATION) continuations++;
      if (frame.type === FrameType.DATA && frame.flags & 1) {
        await answer(peer, frame.streamId);
      }
    }
  });
  const channel = new GrpcChannel(peer.endpoint);
  assert.deepEqual(
    await channel.unary(PATH, REQUEST, {
      metadata: { "x-big": "b".repeat(40_000) },
    }),
    ANSWER,
  );
  assert.equal(continuations, 2);
  channel.close();
});
