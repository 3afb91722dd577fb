import assert from "node:assert/strict";
import {
  Client,
  ClientClosed,
  CompareFailed,
  ConnectionFailed,
  DirectoryNotEmpty,
  errorKind,
  EtcdError,
  EventIndexCleared,
  FormError,
  IndexNaN,
  InvalidField,
  KeyError,
  KeyNotFound,
  NodeExists,
  NotADirectory,
  NotAFile,
  PrevValueRequired,
  RefreshTtlRequired,
  RefreshValue,
  RequestTimeout,
  RootReadOnly,
  TransportError,
  TtlNaN,
  UnexpectedResponse,
  V2Disabled,
  WatchError,
} from "../../v2/mod.ts";
import { startEtcd } from "../../testing.ts";
import { test } from "../_wait.ts";

/** Asserts that `promise` rejects with `Class` and etcd's `errorCode`. */
async function rejectsWith(
  promise: Promise<unknown>,
  Class: typeof EtcdError,
  errorCode: number,
): Promise<EtcdError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(
    caught instanceof Class,
    `expected ${Class.name}, got ${String(caught)}`,
  );
  assert.equal(caught.errorCode, errorCode);
  assert.equal(caught.name, Class.name);
  return caught;
}

test("Client reports every etcd error code as its class", async (t) => {
  await using etcd = await startEtcd();
  await using client = new Client({ endpoints: etcd.endpoint });

  await t.step("100 KeyNotFound", async () => {
    const error = await rejectsWith(client.get("e/missing"), KeyNotFound, 100);
    assert.ok(error instanceof KeyError);
    // etcd names the first missing segment; the message names the key asked for.
    assert.equal(error.cause, "/e");
    assert.equal(error.key, "/e/missing");
    assert.equal(error.etcdMessage, "Key not found");
    assert.ok(error.index > 0);
    assert.equal(error.etcdIndex, error.index);
    assert.match(
      error.message,
      /^Key not found: "\/e\/missing" \(etcd error 100 at index \d+, cause "\/e"\)$/,
    );
  });

  await t.step("101 CompareFailed, by value and by index", async () => {
    const set = await client.set("e/cas", "actual");
    const byValue = await rejectsWith(
      client.set("e/cas", "new", { prevValue: "given" }),
      CompareFailed,
      101,
    );
    assert.equal(byValue.cause, "[given != actual]");
    await rejectsWith(
      client.set("e/cas", "new", { prevIndex: set.index + 100 }),
      CompareFailed,
      101,
    );
    await rejectsWith(
      client.delete("e/cas", { prevValue: "given" }),
      CompareFailed,
      101,
    );
  });

  await t.step("102 NotAFile", async () => {
    await client.mkdir("e/dir");
    await rejectsWith(client.set("e/dir", "v"), NotAFile, 102);
    await rejectsWith(client.delete("e/dir"), NotAFile, 102);
  });

  await t.step("104 NotADirectory", async () => {
    await client.set("e/leaf", "v");
    await rejectsWith(client.set("e/leaf/child", "v"), NotADirectory, 104);
    await rejectsWith(client.append("e/leaf", "v"), NotADirectory, 104);
  });

  await t.step("105 NodeExists", async () => {
    await client.set("e/exists", "v");
    await rejectsWith(client.create("e/exists", "v"), NodeExists, 105);
    await rejectsWith(
      client.mkdir("e/exists", { prevExist: false }),
      NodeExists,
      105,
    );
  });

  await t.step("107 RootReadOnly", async () => {
    await rejectsWith(
      client.delete("/", { recursive: true }),
      RootReadOnly,
      107,
    );
    await rejectsWith(client.set("", "v"), RootReadOnly, 107);
  });

  await t.step("108 DirectoryNotEmpty", async () => {
    await client.set("e/full/x", "v");
    await rejectsWith(
      client.delete("e/full", { dir: true }),
      DirectoryNotEmpty,
      108,
    );
  });

  await t.step("201 PrevValueRequired", async () => {
    const error = await rejectsWith(
      client.set("e/cas", "v", { prevValue: "" }),
      PrevValueRequired,
      201,
    );
    assert.ok(error instanceof FormError);
  });

  await t.step("202 TtlNaN", async () => {
    await rejectsWith(client.set("e/ttl", "v", { ttl: -1 }), TtlNaN, 202);
    await rejectsWith(client.set("e/ttl", "v", { ttl: 1.5 }), TtlNaN, 202);
  });

  await t.step("203 IndexNaN", async () => {
    await rejectsWith(client.set("e/i", "v", { prevIndex: -1 }), IndexNaN, 203);
    await rejectsWith(client.wait("e/i", { waitIndex: -2 }), IndexNaN, 203);
  });

  await t.step("211 RefreshValue and 212 RefreshTtlRequired", async () => {
    await client.set("e/lease", "v", { ttl: 10 });
    await rejectsWith(
      client.set("e/lease", "changed", { refresh: true, ttl: 10 }),
      RefreshValue,
      211,
    );
    await rejectsWith(
      client.set("e/lease", "", { refresh: true, prevExist: true }),
      RefreshTtlRequired,
      212,
    );
  });

  await t.step("209 InvalidField, from the body etcd sends", async () => {
    // The typed API only sends well-formed booleans, so ask etcd directly
    // and decode its answer the way the client does.
    const response = await fetch(`${etcd.endpoint}/v2/keys/e/x`, {
      method: "PUT",
      body: new URLSearchParams({ value: "v", prevExist: "maybe" }),
    });
    const body = await response.json();
    assert.equal(response.status, 400);
    const error = EtcdError.from(body);
    assert.ok(error instanceof InvalidField);
    assert.ok(error instanceof FormError);
  });

  await t.step("401 EventIndexCleared, sent with HTTP 400", async () => {
    const first = await client.set("e/old", "0");
    // etcd keeps the last 1000 events: push the first one out.
    const writes = [];
    for (let i = 0; i < 1010; i++) {
      writes.push(client.set(`e/churn/${i % 50}`, `${i}`));
    }
    await Promise.all(writes);
    const error = await rejectsWith(
      client.wait("e/old", { waitIndex: first.index }),
      EventIndexCleared,
      401,
    );
    assert.ok(error instanceof WatchError);
    assert.ok(error instanceof EventIndexCleared);
    assert.equal(error.requestedIndex, first.index);
    assert.ok(error.oldestIndex > first.index);
    assert.ok(error.resumeIndex > error.oldestIndex);
  });

  await t.step("an unknown code gives the base class", () => {
    const error = EtcdError.from({ errorCode: 999, message: "Future error" });
    assert.equal(error.constructor, EtcdError);
    assert.equal(error.errorCode, 999);
    assert.match(error.message, /Future error/);
  });
});

test("Client reports transport problems as their own errors", async (t) => {
  await t.step("an endpoint where nothing listens", async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    listener.close();
    await using client = new Client({
      endpoints: [`http://127.0.0.1:${port}`, `http://localhost:${port}`],
    });
    const error = await client.get("a").catch((error) => error);
    assert.ok(error instanceof ConnectionFailed);
    assert.ok(error instanceof TransportError);
    assert.equal(error.failures.length, 2);
    assert.match(
      error.message,
      new RegExp(`127\\.0\\.0\\.1:${port}: .*refused`, "i"),
    );
    assert.match(error.message, new RegExp(`localhost:${port}: `));
  });

  await t.step("a server started without v2", async () => {
    await using etcd = await startEtcd({ enableV2: false });
    await using client = new Client({ endpoints: etcd.endpoint });
    const error = await client.get("a").catch((error) => error);
    assert.ok(error instanceof V2Disabled);
    assert.ok(error instanceof UnexpectedResponse);
    // First what this etcd does serve and which import speaks it.
    assert.match(
      error.message,
      /serves etcd's v3 API but not v2: use the v3 client \(import \{ Client \} from "@etcd-tree\/etcd-tree"\)/,
    );
    assert.match(error.message, /--enable-v2=true/);
    assert.match(error.message, new RegExp(etcd.endpoint));
    await assert.rejects(client.set("a", "b"), V2Disabled);
    await assert.rejects(client.members(), V2Disabled);
    // What does not need v2 still works.
    assert.equal((await client.health()).health, true);
  });

  await t.step("a server that does not answer in time", async () => {
    // A listener that accepts connections and never answers.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const conn of listener) held.push(conn);
    })();
    try {
      await using client = new Client({
        endpoints: `http://127.0.0.1:${listener.addr.port}`,
        timeout: 200,
      });
      const started = Date.now();
      const read = await client.get("a").catch((error) => error);
      assert.ok(read instanceof RequestTimeout);
      assert.equal(read.mayHaveBeenApplied, false);
      assert.ok(Date.now() - started < 2000);
      const write = await client.set("a", "b").catch((error) => error);
      assert.ok(write instanceof RequestTimeout);
      assert.equal(write.mayHaveBeenApplied, true);
      assert.match(write.message, /may have been applied/);
    } finally {
      listener.close();
      await accepting.catch(() => {});
      for (const conn of held) conn.close();
    }
  });

  await t.step("a server that answers something else", async () => {
    await using server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (request) =>
        new URL(request.url).pathname.startsWith("/v2/keys/redirect")
          ? Response.redirect("http://127.0.0.1:1/elsewhere", 301)
          : new Response("<html>Bad gateway</html>", { status: 502 }),
    );
    await using client = new Client({
      endpoints: `http://127.0.0.1:${server.addr.port}`,
    });
    const error = await client.get("a").catch((error) => error);
    assert.ok(error instanceof UnexpectedResponse);
    assert.equal(error.status, 502);
    assert.match(error.message, /HTTP 502/);
    assert.match(error.message, /Bad gateway/);
    const redirect = await client.set("redirect", "v").catch((error) => error);
    assert.ok(redirect instanceof UnexpectedResponse);
    assert.equal(redirect.status, 301);
    assert.match(redirect.message, /redirect .* was not followed/);
  });

  await t.step("an aborted call rejects with the signal's reason", async () => {
    await using etcd = await startEtcd();
    await using client = new Client({ endpoints: etcd.endpoint });
    const reason = new Error("caller gave up");
    await assert.rejects(
      client.get("a", { signal: AbortSignal.abort(reason) }),
      (error) => error === reason,
    );
  });

  await t.step(
    "a closed client rejects calls in flight and later",
    async () => {
      await using etcd = await startEtcd();
      const client = new Client({ endpoints: etcd.endpoint });
      const waiting = client.wait("never");
      await new Promise((resolve) => setTimeout(resolve, 50));
      await client.close();
      await assert.rejects(waiting, ClientClosed);
      await assert.rejects(client.get("a"), ClientClosed);
      assert.equal(errorKind(await client.get("a").catch((e) => e)), "closed");
    },
  );
});
