// Failover counted at the wire: two proxies in front of one etcd stand for
// two members, so a test can break one of them and count what each got.

import assert from "node:assert/strict";
import {
  Client,
  ConnectionFailed,
  Directory,
  RequestTimeout,
  UnexpectedResponse,
} from "../../v2/mod.ts";
import { startEtcd } from "../../testing.ts";
import { type Proxy, startProxy } from "../_proxy.ts";
import { test, until, within } from "../_wait.ts";

/** How many values the directory holds, read straight from etcd. */
async function children(client: Client, key: string): Promise<number> {
  const { node } = await client.get(key);
  return node instanceof Directory ? node.children.length : 0;
}

test("failover: reads move on, writes are never sent twice", async (t) => {
  await using etcd = await startEtcd();
  await using direct = new Client({ endpoints: etcd.endpoint });
  await direct.set("k", "v");
  const broken: Proxy[] = [];
  const pair = (timeout = 2000) => {
    const first = startProxy(etcd.clientPort);
    const second = startProxy(etcd.clientPort);
    broken.push(first, second);
    const client = new Client({
      endpoints: [first.endpoint, second.endpoint],
      timeout,
    });
    return { first, second, client };
  };
  try {
    await t.step("a member answering HTTP 502 is left for a read", async () => {
      const { first, second, client } = pair();
      await using _ = client;
      first.failAnswers(502);
      const got = await within(client.get("k"), 5000, "get() through a 502");
      assert.equal(got.node.key, "/k");
      assert.equal(first.count("GET", "/v2/keys/k"), 1);
      assert.equal(second.count("GET", "/v2/keys/k"), 1);
      // And the next call starts at the member that worked.
      await client.get("k");
      assert.equal(first.count("GET", "/v2/keys/k"), 1);
    });

    await t.step("a write answered HTTP 502 is not sent again", async () => {
      const { first, second, client } = pair();
      await using _ = client;
      first.failAnswers(502);
      const error = await within(
        client.append("q502", "x").catch((error) => error),
        5000,
        "append() through a 502",
      );
      assert.ok(error instanceof UnexpectedResponse, String(error));
      assert.equal(error.status, 502);
      assert.equal(error.mayHaveBeenApplied, true);
      assert.match(error.message, /may have been applied/);
      assert.equal(first.count("POST", "/v2/keys/q502"), 1);
      assert.equal(second.count("POST", "/v2/keys/q502"), 0);
      assert.equal(await children(direct, "q502"), 1, "applied once");
      // The next call goes to the other member.
      await client.append("q502", "y");
      assert.equal(second.count("POST", "/v2/keys/q502"), 1);
      assert.equal(await children(direct, "q502"), 2);
    });

    await t.step("a write that times out is not sent again", async () => {
      const { first, second, client } = pair(500);
      await using _ = client;
      first.holdAnswers();
      const error = await within(
        client.append("qtimeout", "x").catch((error) => error),
        5000,
        "append() to a member that does not answer",
      );
      first.passAnswers();
      assert.ok(error instanceof RequestTimeout, String(error));
      assert.equal(error.mayHaveBeenApplied, true);
      assert.equal(first.count("POST", "/v2/keys/qtimeout"), 1);
      assert.equal(second.count("POST", "/v2/keys/qtimeout"), 0);
      assert.equal(await children(direct, "qtimeout"), 1, "applied once");
    });

    await t.step(
      "a write whose connection breaks after it was sent is not sent again",
      async () => {
        const { first, second, client } = pair();
        await using _ = client;
        first.holdAnswers();
        const before = first.requests.length;
        const writing = client.append("qcut", "x").catch((error) => error);
        await within(first.requested(before + 1), 5000, "the write sent");
        first.cut();
        const error = await within(writing, 5000, "append() after the cut");
        first.passAnswers();
        assert.ok(error instanceof ConnectionFailed, String(error));
        assert.equal(error.mayHaveBeenApplied, true);
        assert.match(error.message, /may have been applied/);
        assert.equal(first.count("POST", "/v2/keys/qcut"), 1);
        assert.equal(second.count("POST", "/v2/keys/qcut"), 0);
        // It reached etcd, which applies it once.
        await until(
          async () => await children(direct, "qcut").catch(() => 0) === 1,
          5000,
          "the write to be applied",
        );
      },
    );

    await t.step(
      "the call's deadline holds across failover, naming what was tried",
      async () => {
        const { first, second } = pair();
        const third = startProxy(etcd.clientPort);
        broken.push(third);
        first.failAnswers(502); // fails at once
        second.holdAnswers(); // hangs past the deadline
        await using client = new Client({
          endpoints: [first.endpoint, second.endpoint, third.endpoint],
          timeout: 1000,
        });
        const started = performance.now();
        const error = await within(
          client.get("k").catch((error) => error),
          5000,
          "get() to give up",
        );
        const took = performance.now() - started;
        second.passAnswers();
        assert.ok(error instanceof RequestTimeout, String(error));
        assert.ok(took < 1600, `gave up after ${took.toFixed(0)} ms`);
        assert.ok(error.message.includes(first.endpoint), error.message);
        assert.ok(error.message.includes(second.endpoint), error.message);
        assert.equal(third.count("GET", "/v2/keys/k"), 0, "no time was left");
      },
    );

    await t.step(
      "a read whose connection breaks is asked of the next member",
      async () => {
        const { first, second, client } = pair();
        await using _ = client;
        first.holdAnswers();
        const before = first.requests.length;
        const reading = client.get("k");
        await within(first.requested(before + 1), 5000, "the read sent");
        first.cut();
        const got = await within(reading, 5000, "get() after the cut");
        first.passAnswers();
        assert.equal(got.node.key, "/k");
        assert.equal(second.count("GET", "/v2/keys/k"), 1);
      },
    );

    await t.step(
      "a write refused before it reached any member goes to the next",
      async () => {
        const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        const closed = `http://127.0.0.1:${listener.addr.port}`;
        listener.close(); // nothing listens there: connections are refused
        const second = startProxy(etcd.clientPort);
        broken.push(second);
        await using client = new Client({
          endpoints: [closed, second.endpoint],
        });
        await within(client.append("qrefused", "x"), 5000, "append()");
        assert.equal(second.count("POST", "/v2/keys/qrefused"), 1);
        assert.equal(await children(direct, "qrefused"), 1);
      },
    );
  } finally {
    for (const proxy of broken) await proxy[Symbol.asyncDispose]();
  }
});
