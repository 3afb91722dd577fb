// How requests travel: the keep-alive socket transport (the default) and
// fetch, against a real etcd, with a TCP proxy to break connections.

import assert from "node:assert/strict";
import {
  Client,
  ConnectionFailed,
  Directory,
  type EtcdResult,
  RequestTimeout,
  Set as SetResult,
  Value,
} from "../../v2/mod.ts";
import { startEtcd } from "../../testing.ts";
import { test, until, within } from "../_wait.ts";
import { startProxy } from "../_proxy.ts";
import { delay } from "../_tree.ts";

/** The value a result carries. */
function valueOf(result: EtcdResult): string {
  assert.ok(result.node instanceof Value, `${result.node.key} is a value`);
  return result.node.value;
}

/** A TCP server on a free port that answers every connection with `reply`. */
function startFakeServer(
  reply: (conn: Deno.Conn) => Promise<void>,
): AsyncDisposable & { endpoint: string } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const serving = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      reply(conn).catch(() => {});
    }
  })().catch(() => {});
  return {
    endpoint: `http://127.0.0.1:${listener.addr.port}`,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // closed by the test already
        }
      }
      await serving;
    },
  };
}

test("socket transport", async (t) => {
  await using etcd = await startEtcd();
  await using proxy = startProxy(etcd.clientPort);

  await t.step(
    "keeps one connection per request in flight, reused",
    async () => {
      await using client = new Client({
        endpoints: proxy.endpoint,
        maxConcurrency: 16,
      });
      const before = proxy.accepted;
      for (let i = 0; i < 100; i++) await client.set(`reuse/k${i}`, `${i}`);
      for (let i = 0; i < 100; i++) {
        assert.equal(valueOf(await client.get(`reuse/k${i}`)), `${i}`);
      }
      assert.equal(proxy.accepted - before, 1, "one connection, 200 calls");
      assert.equal(proxy.open, 1);
      for (let round = 0; round < 3; round++) {
        await Promise.all(
          Array.from(
            { length: 200 },
            (_, i) => client.get(`reuse/k${i % 100}`),
          ),
        );
      }
      // Never more connections than calls in flight; kept for the next burst.
      const opened = proxy.accepted - before;
      assert.ok(opened >= 2 && opened <= 16, `${opened} connections`);
      await client.close();
      await until(
        () => proxy.open === 0,
        5000,
        "close() to close every connection",
      );
    },
  );

  await t.step(
    "connections the server closed while idle are replaced, writes included",
    async () => {
      await using client = new Client({ endpoints: proxy.endpoint });
      await client.set("idle/a", "1");
      proxy.cut();
      // A read right away may meet the dead connection: it is asked again.
      assert.equal(valueOf(await client.get("idle/a")), "1");
      proxy.cut();
      await delay(50);
      // By now the client has seen the connection end: a write goes out
      // on a new one and is applied once.
      const set = await client.set("idle/a", "2", { prevValue: "1" });
      assert.equal(valueOf(set), "2");
      assert.equal(valueOf(await client.get("idle/a")), "2");
    },
  );

  await t.step(
    "connections to endpoints no longer used are closed",
    async () => {
      await using client = new Client({ endpoints: proxy.endpoint });
      await client.set("sync/a", "1");
      assert.equal(proxy.open, 1);
      // The member's own URL replaces the proxy's.
      assert.deepEqual(await client.sync(), [etcd.endpoint]);
      await until(
        () => proxy.open === 0,
        5000,
        "the proxy's connections to close",
      );
      assert.equal(valueOf(await client.get("sync/a")), "1");
    },
  );

  await t.step("answers of any size and framing arrive whole", async () => {
    await using client = new Client({ endpoints: proxy.endpoint });
    await using viaFetch = new Client({
      endpoints: etcd.endpoint,
      transport: "fetch",
    });
    const values = new Map<string, string>();
    await Promise.all(Array.from({ length: 1500 }, (_, i) => {
      const value = `${i} ${"é".repeat(i % 50)} ${"\n".repeat(i % 3)}`;
      values.set(`/big/k${i}`, value);
      return client.set(`big/k${i}`, value);
    }));
    // Large answers come chunked, small ones with a Content-Length.
    const tree = await client.get("big", { recursive: true, sorted: true });
    assert.ok(tree.node instanceof Directory);
    const seen = new Map(
      [...tree.node.leaves()].map((leaf) => [leaf.key, leaf.value]),
    );
    assert.deepEqual(seen, values);
    const same = await viaFetch.get("big", { recursive: true, sorted: true });
    assert.deepEqual(
      JSON.stringify(same.node),
      JSON.stringify(tree.node),
    );
  });

  await t.step("an aborted request does not spoil what follows", async () => {
    await using client = new Client({ endpoints: proxy.endpoint });
    for (let i = 0; i < 20; i++) {
      const controller = new AbortController();
      const waiting = client.wait("abort/never", { signal: controller.signal });
      const setting = client.set(`abort/k${i}`, "x");
      controller.abort();
      await assert.rejects(waiting, { name: "AbortError" });
      assert.ok((await setting) instanceof SetResult);
    }
    assert.equal(valueOf(await client.get("abort/k19")), "x");
  });

  await t.step("a server that never answers times out", async () => {
    await using silent = startFakeServer(async (conn) => {
      await conn.read(new Uint8Array(1024));
      await delay(10_000);
    });
    await using client = new Client({
      endpoints: silent.endpoint,
      timeout: 300,
    });
    const started = performance.now();
    const error = await client.get("a").catch((e) => e);
    assert.ok(error instanceof RequestTimeout, String(error));
    assert.ok(performance.now() - started < 2000);
  });

  await t.step("HTTP/1.1 as other servers and proxies speak it", async () => {
    // Answers the way an HTTP/1.1 server may but etcd happens not to:
    // an interim 100, chunk extensions and trailers, HTTP/1.0, and
    // "Connection: close"; then counts the connections it was given.
    const body = '{"action":"get","node":{"key":"/a","value":"ü"}}';
    const bytes = new TextEncoder().encode(body);
    const answers = [
      "HTTP/1.1 100 Continue\r\n\r\n" +
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
      `5;name=value\r\n${body.slice(0, 5)}\r\n` +
      `${(bytes.length - 5).toString(16)}\r\n${body.slice(5)}\r\n` +
      "0\r\nX-Trailer: 1\r\n\r\n",
      `HTTP/1.1 200 OK\r\ncontent-length: ${bytes.length}\r\n` +
      `Connection: close\r\n\r\n${body}`,
      `HTTP/1.0 200 OK\r\nContent-Length: ${bytes.length}\r\n\r\n${body}`,
      `HTTP/1.1 200 OK\r\n\r\n${body}`, // to the end of the connection
    ];
    let connections = 0;
    let served = 0;
    await using server = startFakeServer(async (conn) => {
      connections++;
      const buffer = new Uint8Array(4096);
      while (served < answers.length) {
        if (await conn.read(buffer) === null) return;
        const answer = answers[served++]!;
        await conn.write(new TextEncoder().encode(answer));
        if (!answer.includes("chunked")) break;
      }
      conn.close();
    });
    await using client = new Client({ endpoints: server.endpoint });
    for (let i = 0; i < answers.length; i++) {
      assert.equal(valueOf(await client.get("a")), "ü", `answer ${i}`);
    }
    // The chunked answer kept its connection; each of the others ended one.
    assert.equal(connections, 3);
  });

  await t.step("a server that does not speak HTTP is named", async () => {
    await using garbage = startFakeServer(async (conn) => {
      await conn.read(new Uint8Array(1024));
      await conn.write(new TextEncoder().encode("SSH-2.0-OpenSSH\r\n\r\n"));
      conn.close();
    });
    await using client = new Client({ endpoints: garbage.endpoint });
    const error = await client.get("a").catch((e) => e);
    assert.ok(error instanceof ConnectionFailed, String(error));
    assert.match(error.message, /not HTTP\/1\.1: "SSH-2\.0-OpenSSH"/);
    assert.ok(error.message.includes(garbage.endpoint));
  });

  await t.step(
    "an answer cut in the middle is an error, not data",
    async () => {
      await using cut = startFakeServer(async (conn) => {
        await conn.read(new Uint8Array(1024));
        await conn.write(new TextEncoder().encode(
          'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"action":"get"',
        ));
        conn.close();
      });
      await using client = new Client({ endpoints: cut.endpoint });
      const error = await client.get("a").catch((e) => e);
      assert.ok(error instanceof ConnectionFailed, String(error));
      assert.match(error.message, /closed in the middle of the answer/);
    },
  );

  await t.step("malformed framing is named, never read as data", async () => {
    const cases: [string, RegExp][] = [
      [
        "HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n{}",
        /the answer has a bad content-length: "12x"/,
      ],
      [
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        /the answer has a bad chunk size: "zz"/,
      ],
      [
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n",
        /the answer has a malformed chunk/,
      ],
      [
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "1".repeat(100_000),
        /a chunk header is too long/,
      ],
      [
        `HTTP/1.1 200 OK\r\nX-Filler: ${"x".repeat(100_000)}\r\n`,
        /the answer's head is too large/,
      ],
    ];
    for (const [answer, message] of cases) {
      await using server = startFakeServer(async (conn) => {
        await conn.read(new Uint8Array(4096));
        const bytes = new TextEncoder().encode(answer);
        for (let at = 0; at < bytes.length; at += 16_384) {
          await conn.write(bytes.subarray(at, at + 16_384));
        }
        // Held open: only the framing can end the wait.
        await new Promise((resolve) => setTimeout(resolve, 3000));
        conn.close();
      });
      await using client = new Client({
        endpoints: server.endpoint,
        timeout: 2000,
      });
      const error = await client.get("a").catch((e) => e);
      assert.ok(error instanceof ConnectionFailed, String(error));
      assert.match(error.message, message);
    }
  });

  await t.step("open connections do not keep a process alive", async () => {
    const script = `
      import { Client } from ${
      JSON.stringify(import.meta.resolve("../../v2/mod.ts"))
    };
      const client = new Client({ endpoints: ${
      JSON.stringify(etcd.endpoint)
    } });
      await client.set("alive/a", "1");
      console.log((await client.get("alive/a")).node.value);
    `;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const { code, stdout, stderr } = await child.output();
    clearTimeout(timer);
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.equal(new TextDecoder().decode(stdout).trim(), "1");
  });
});

test("fetch transport", async (t) => {
  await using etcd = await startEtcd();
  await using client = new Client({
    endpoints: etcd.endpoint,
    transport: "fetch",
  });

  await t.step("reads, writes, errors and watches", async () => {
    const set = await client.set("f/a", "1");
    assert.equal(valueOf(set), "1");
    assert.ok(set.raftIndex > 0);
    assert.equal(valueOf(await client.get("f/a")), "1");
    await assert.rejects(client.get("f/missing"), { name: "KeyNotFound" });
    const watcher = client.watch("f", {
      recursive: true,
      waitIndex: set.etcdIndex + 1,
    });
    const changes = watcher[Symbol.asyncIterator]();
    const b = await client.set("f/b", "2");
    const change = await within(changes.next(), 5000, "the watched change");
    assert.equal(change.value?.node.key, "/f/b");
    await watcher.close();
    // From the index after b: the wait cannot miss c, whenever it arrives.
    const waited = client.wait("f/c", { waitIndex: b.index + 1 });
    await client.set("f/c", "3");
    assert.equal(valueOf(await within(waited, 5000, "the wait for f/c")), "3");
  });

  await t.step("an unknown transport is refused", () => {
    assert.throws(
      // @ts-expect-error: not a transport
      () => new Client({ transport: "carrier-pigeon" }),
      /Invalid transport "carrier-pigeon": expected "sockets" or "fetch"/,
    );
  });
});
