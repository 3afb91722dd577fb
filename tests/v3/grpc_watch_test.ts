// The gRPC watch hub against real etcd: every watch of a client on one
// Watch stream (counted by etcd itself), answers routed by the client's
// watch_id, a revision sent in fragments handed on whole, compaction,
// cancel, progress, a slow reader holding etcd back, a member stopped with
// SIGTERM mid-watch, and a 2-second token across a long watch.

import assert from "node:assert/strict";
import { H2Error } from "../../_h2/errors.ts";
import { denoDialer } from "../../_h2/socket.ts";
import { Client } from "../../mod.ts";
import { type EtcdServer, startEtcd } from "../../testing.ts";
import { type BidiStream, GrpcChannel } from "../../v3/_grpc.ts";
import {
  GrpcWatchHub,
  type GrpcWatchHubOptions,
} from "../../v3/_grpc_watch.ts";
import {
  AuthenticateRequest,
  AuthenticateResponse,
  CompactionRequest,
  DeleteRangeRequest,
  METHODS,
  PutRequest,
  PutResponse,
  WatchResponse,
} from "../../v3/_proto/mod.ts";
import { metric } from "../_metrics.ts";
import { until, within } from "../_wait.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array | undefined) => new TextDecoder().decode(data);

/** A channel, a hub on it, and what came over the Watch streams. */
class Peer implements Disposable {
  readonly channel: GrpcChannel;
  readonly hub: GrpcWatchHub;
  /** Every answer etcd sent on the hub's streams, as sent (fragments too). */
  readonly wire: WatchResponse[] = [];
  dials = 0;
  token: string | undefined;

  constructor(endpoint: string, options?: GrpcWatchHubOptions) {
    const dial = denoDialer(endpoint);
    this.channel = new GrpcChannel(endpoint, {
      dial: (signal) => {
        this.dials++;
        return dial(signal);
      },
    });
    this.hub = new GrpcWatchHub(
      (path, options) =>
        this.#tap(this.channel.bidi(path, {
          ...options,
          metadata: this.token === undefined ? undefined : {
            token: this.token,
          },
        })),
      options,
    );
  }

  #tap(stream: BidiStream): BidiStream {
    const wire = this.wire;
    return {
      send: (message) => stream.send(message),
      end: () => stream.end(),
      cancel: (reason) => stream.cancel(reason),
      [Symbol.asyncIterator]() {
        const inner = stream[Symbol.asyncIterator]();
        return {
          async next() {
            const result = await inner.next();
            if (!result.done) wire.push(WatchResponse.decode(result.value));
            return result;
          },
          return: () => inner.return!(),
        };
      },
    };
  }

  async put(key: string, value: string | Uint8Array): Promise<number> {
    const answer = await this.channel.unary(
      METHODS.kv.put.path,
      PutRequest.encode({
        key: bytes(key),
        value: typeof value === "string" ? bytes(value) : value,
      }),
      this.#options(),
    );
    return PutResponse.decode(answer).header!.revision;
  }

  #options() {
    return {
      timeout: 10_000,
      metadata: this.token === undefined ? undefined : { token: this.token },
    };
  }

  [Symbol.dispose](): void {
    this.hub.close();
    this.channel.close();
  }
}

/** Iterates one watch, each answer within a bound. */
function reader(watch: AsyncIterable<WatchResponse>) {
  const iterator = watch[Symbol.asyncIterator]();
  return {
    next: async (what = "a watch answer") => {
      const result = await within(iterator.next(), 10_000, what);
      assert.ok(!result.done, `the watch ended, waiting for ${what}`);
      return result.value;
    },
    end: () => within(iterator.next(), 10_000, "the watch's end"),
    /** The next answer with events (progress answers skipped). */
    events: async (what = "events") => {
      for (;;) {
        const result = await within(iterator.next(), 10_000, what);
        assert.ok(!result.done, `the watch ended, waiting for ${what}`);
        if (result.value.events.length > 0) return result.value;
      }
    },
    return: () => iterator.return!(),
  };
}

const watchers = (etcd: EtcdServer) =>
  metric(etcd, "etcd_debugging_mvcc_watcher_total");
const watchStreams = (etcd: EtcdServer) =>
  metric(etcd, "etcd_debugging_mvcc_watch_stream_total");

for (const version of ["3.5", "3.4"] as const) {
  Deno.test(`grpc watch etcd ${version}: watches share one stream; answers routed by watch_id; cancel and break tell etcd`, async () => {
    await using etcd = await startEtcd({ version });
    using peer = new Peer(etcd.endpoint);
    const a = new AbortController();
    const b = new AbortController();
    const watchA = reader(peer.hub.open({ key: bytes("a") }, a.signal));
    const watchB = reader(peer.hub.open({ key: bytes("b") }, b.signal));
    const watchC = reader(
      peer.hub.open({ key: bytes("c") }, new AbortController().signal),
    );
    for (const watch of [watchA, watchB, watchC]) {
      assert.equal((await watch.next("created")).created, true);
    }
    assert.equal(await watchStreams(etcd), 1);
    assert.equal(await watchers(etcd), 3);
    await peer.put("b", "2");
    const revision = await peer.put("a", "1");
    const toA = await watchA.events();
    assert.deepEqual(toA.events.map((event) => text(event.kv?.key)), ["a"]);
    assert.equal(toA.events[0]!.kv!.mod_revision, revision);
    assert.equal(text((await watchB.events()).events[0]!.kv?.key), "b");

    // Aborted: the iteration rejects with the reason; etcd drops the watcher.
    const reason = new Error("done with a");
    a.abort(reason);
    await assert.rejects(watchA.next(), (error) => error === reason);
    await until(async () => await watchers(etcd) === 2, 5000, "a canceled");
    // Left by a break: the same.
    await watchC.return();
    await until(async () => await watchers(etcd) === 1, 5000, "c canceled");
    await peer.put("b", "3");
    assert.equal(text((await watchB.events()).events[0]!.kv?.value), "3");
    assert.equal(await watchStreams(etcd), 1);
    assert.equal(peer.hub.streamsOpened, 1);
    assert.equal(peer.dials, 1);
    // etcd took the client's names: watch_ids 1, 2, 3.
    assert.deepEqual(
      peer.wire.filter((answer) => answer.created).map((answer) =>
        answer.watch_id
      ),
      [1, 2, 3],
    );
    // The last watch gone, the stream goes too.
    b.abort();
    await until(async () => await watchStreams(etcd) === 0, 5000, "no stream");
  });

  Deno.test(`grpc watch etcd ${version}: a revision etcd sends in fragments arrives whole`, async () => {
    await using etcd = await startEtcd({ version });
    using peer = new Peer(etcd.endpoint);
    // etcd fragments an answer over its send limit (max-request-bytes
    // + 512 KiB: 2 MiB by default) for a watch made with `fragment`. One
    // DeleteRange of 30 keys of 100 kB, watched with prev_kv, is one
    // revision of 3 MB.
    const value = new Uint8Array(100_000).fill(7);
    for (let i = 0; i < 30; i++) await peer.put(`big/${i}`, value);
    const watch = reader(peer.hub.open({
      key: bytes("big/"),
      range_end: bytes("big0"),
      prev_kv: true,
    }, new AbortController().signal));
    await watch.next("created");
    const deleted = await peer.channel.unary(
      METHODS.kv.deleteRange.path,
      DeleteRangeRequest.encode({
        key: bytes("big/"),
        range_end: bytes("big0"),
      }),
    );
    assert.ok(deleted.length > 0);
    const answer = await watch.events("the deletes");
    assert.equal(answer.fragment, false);
    assert.equal(answer.events.length, 30);
    assert.equal(new Set(answer.events.map((e) => e.kv!.mod_revision)).size, 1);
    for (const event of answer.events) {
      assert.equal(event.type, 1); // DELETE
      assert.deepEqual(event.prev_kv!.value, value);
    }
    const fragments = peer.wire.filter((answer) => answer.fragment);
    assert.ok(fragments.length >= 1, "etcd sent no fragment");
  });

  Deno.test(`grpc watch etcd ${version}: compaction ends a watch with compact_revision; progress reaches every watch`, async () => {
    await using etcd = await startEtcd({ version });
    using peer = new Peer(etcd.endpoint);
    await peer.put("k", "1");
    await peer.put("k", "2");
    const compacted = await peer.put("k", "3");
    await peer.channel.unary(
      METHODS.kv.compact.path,
      CompactionRequest.encode({ revision: compacted }),
    );
    const live = reader(
      peer.hub.open({ key: bytes("k") }, new AbortController().signal),
    );
    await live.next("created");
    const old = reader(
      peer.hub.open(
        { key: bytes("k"), start_revision: 2 },
        new AbortController().signal,
      ),
    );
    let answer = await old.next("created");
    if (answer.created && !answer.canceled) answer = await old.next("cancel");
    assert.equal(answer.canceled, true);
    assert.equal(answer.compact_revision, compacted);
    assert.equal((await old.end()).done, true);

    // A progress request: answered once, to every watch, with the revision.
    const other = reader(
      peer.hub.open({ key: bytes("x") }, new AbortController().signal),
    );
    await other.next("created");
    peer.hub.requestProgress();
    peer.hub.requestProgress(); // folded into the first
    for (const watch of [live, other]) {
      const progress = await watch.next("progress");
      assert.equal(progress.watch_id, -1);
      assert.equal(progress.events.length, 0);
      assert.equal(progress.header!.revision, compacted);
    }
    assert.equal(
      peer.wire.filter((answer) => answer.watch_id === -1 && !answer.created)
        .length,
      1,
    );
    assert.equal(peer.hub.streamsOpened, 1);
  });
}

Deno.test("grpc watch etcd 3.5: 1,000 watches on one client: one socket, one stream", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  using peer = new Peer(etcd.endpoint);
  const count = 1000;
  const watches = Array.from(
    { length: count },
    (_, i) =>
      reader(
        peer.hub.open({ key: bytes(`w/${i}`) }, new AbortController().signal),
      ),
  );
  for (const watch of watches) assert.equal((await watch.next()).created, true);
  assert.equal(await watchers(etcd), count);
  assert.equal(await watchStreams(etcd), 1);
  assert.equal(peer.dials, 1);
  assert.equal(peer.channel.connections, 1);
  const writes = [];
  for (let i = 0; i < count; i++) writes.push(peer.put(`w/${i}`, `${i}`));
  await Promise.all(writes);
  for (let i = 0; i < count; i++) {
    const answer = await watches[i]!.events();
    assert.equal(text(answer.events[0]!.kv?.value), `${i}`);
  }
});

Deno.test("grpc watch etcd 3.5: a reader that does not read holds etcd back; nothing is lost", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  const maxBuffered = 256 << 10;
  using peer = new Peer(etcd.endpoint, { maxBuffered });
  const watch = reader(
    peer.hub.open(
      { key: bytes("s/"), range_end: bytes("s0") },
      new AbortController().signal,
    ),
  );
  await watch.next("created");
  const value = new Uint8Array(50_000).fill(1);
  const count = 300; // 15 MB: more than the stream's and the connection's windows
  for (let i = 0; i < count; i++) await peer.put(`s/${i}`, value);
  // The hub stops reading at the bound (plus one answer), and stays so.
  await until(
    () => peer.hub.buffered > maxBuffered,
    5000,
    "answers buffered up to the bound",
  );
  const read = peer.wire.length;
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(peer.wire.length, read);
  assert.ok(
    peer.hub.buffered <= maxBuffered + 60_000,
    `${peer.hub.buffered} bytes buffered`,
  );
  let seen = 0;
  let next = 2;
  while (seen < count) {
    const answer = await watch.events();
    for (const event of answer.events) {
      assert.equal(event.kv!.mod_revision, next++);
      seen++;
    }
    assert.ok(peer.hub.buffered <= maxBuffered + 60_000);
  }
  assert.equal(seen, count);
});

Deno.test("grpc watch etcd 3.5: SIGTERM mid-watch fails every watch promptly; watches resume on a new stream", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  using peer = new Peer(etcd.endpoint);
  const watches = Array.from({ length: 10 }, (_, i) =>
    reader(
      peer.hub.open({ key: bytes(`t/${i}`) }, new AbortController().signal),
    ));
  for (const watch of watches) await watch.next("created");
  const failures = watches.map((watch) => watch.next().catch((error) => error));
  const started = performance.now();
  await etcd.stop("SIGTERM");
  for (const failure of failures) {
    const error = await within(failure, 10_000, "the watch to fail");
    assert.ok(error instanceof H2Error, String(error));
  }
  const took = performance.now() - started;
  assert.ok(took < 3000, `the watches failed after ${took} ms`);
  await etcd.start();
  const again = reader(
    peer.hub.open({ key: bytes("t/0") }, new AbortController().signal),
  );
  await again.next("created");
  await peer.put("t/0", "back");
  assert.equal(text((await again.events()).events[0]!.kv?.value), "back");
  assert.equal(peer.hub.streamsOpened, 2);
});

for (const version of ["3.5", "3.4"] as const) {
  Deno.test(`grpc watch etcd ${version}: a 2 s token: the watch goes on after it expires; a new watch on that stream is refused and the next goes on a new stream`, async () => {
    await using etcd = await startEtcd({
      version,
      args: ["--auth-token-ttl", "2"],
    });
    {
      await using admin = new Client({ endpoints: etcd.endpoint });
      await admin.auth.users.add("root", "root-pw");
      await admin.auth.roles.add("root");
      await admin.auth.users.grant("root", "root");
      await admin.auth.enable();
    }
    using peer = new Peer(etcd.endpoint);
    const authenticate = async () => {
      const answer = await peer.channel.unary(
        METHODS.auth.authenticate.path,
        AuthenticateRequest.encode({ name: "root", password: "root-pw" }),
      );
      peer.token = AuthenticateResponse.decode(answer).token;
    };
    await authenticate();
    const watch = reader(
      peer.hub.open({ key: bytes("k") }, new AbortController().signal),
    );
    assert.equal((await watch.next("created")).canceled, false);
    await new Promise((resolve) => setTimeout(resolve, 4500));
    // The token has expired: a call with it is refused...
    await assert.rejects(peer.put("k", "x"), /invalid auth token/);
    await authenticate();
    // ...but the watch made with it still hears every change.
    await peer.put("k", "after expiry");
    assert.equal(
      text((await watch.events()).events[0]!.kv?.value),
      "after expiry",
    );
    // A new watch on the old stream (old token) is refused, named so...
    const refused = reader(
      peer.hub.open({ key: bytes("k2") }, new AbortController().signal),
    );
    const answer = await refused.next("refused");
    assert.equal(answer.created, true);
    assert.equal(answer.canceled, true);
    assert.match(answer.cancel_reason, /etcdserver: invalid auth token$/);
    assert.equal((await refused.end()).done, true);
    // ...and the next one goes on a new stream, with the renewed token.
    const renewed = reader(
      peer.hub.open({ key: bytes("k2") }, new AbortController().signal),
    );
    assert.equal((await renewed.next("created")).canceled, false);
    assert.equal(peer.hub.streamsOpened, 2);
    await peer.put("k2", "v");
    await peer.put("k", "still");
    assert.equal(text((await renewed.events()).events[0]!.kv?.value), "v");
    assert.equal(text((await watch.events()).events[0]!.kv?.value), "still");
  });
}
