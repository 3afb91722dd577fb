// Bad input is refused before anything is sent, with a message that names
// the input and says what would do. Nothing listens on the endpoints used
// here: a request that went out would fail with another error.

import assert from "node:assert/strict";
import {
  Client,
  CodecRegistry,
  codecs,
  Election,
  EtcdTree,
  keepAlive,
  Lock,
} from "../../v2/mod.ts";
import { compare, errorKind, op, type Operation, stm } from "../../mod.ts";
import { Client as V3Client } from "../_v3.ts";
import { storeOf } from "../../_core/store.ts";
import { test } from "../_wait.ts";

const NOWHERE = "http://127.0.0.1:9";

/** Asserts that `run` throws (or rejects with) `Class` matching `message`. */
async function refuses(
  run: () => unknown,
  Class: ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor,
  message: RegExp,
): Promise<void> {
  let caught: unknown;
  try {
    await run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof Class, `expected ${Class.name}: ${caught}`);
  assert.match((caught as Error).message, message);
}

test("client options are checked when the client is made", async (t) => {
  for (const Make of [Client, V3Client]) {
    await t.step(Make === Client ? "v2" : "v3", async () => {
      const make = (options: Record<string, unknown>) => () =>
        new Make({ endpoints: NOWHERE, ...options });
      await refuses(
        make({ maxConcurrency: 0 }),
        RangeError,
        /^Invalid maxConcurrency 0: expected an integer >= 1/,
      );
      await refuses(
        make({ syncInterval: 0 }),
        RangeError,
        /^Invalid syncInterval 0: expected milliseconds > 0/,
      );
      await refuses(
        make({ transport: "carrier pigeon" }),
        TypeError,
        /^Invalid transport "carrier pigeon"/,
      );
      await refuses(
        make({ tls: { cert: "x" } }),
        TypeError,
        /give a client cert and its key together/,
      );
      await refuses(
        () => new Make({ endpoints: 7 as unknown as string }),
        TypeError,
        /^Invalid endpoints: expected a URL string or an array of them, got number/,
      );
      await refuses(
        () => new Make({ endpoints: [7 as unknown as string] }),
        TypeError,
        /^Invalid endpoint: expected a URL string, got number/,
      );
      await refuses(
        () => new Make({ endpoints: "http://root:secret@127.0.0.1:9" }),
        TypeError,
        /credentials in the URL are not supported; pass them separately/,
      );
    });
  }
  await t.step("v3 only", async () => {
    await refuses(
      () => new V3Client({ auth: { username: "", password: "x" } }),
      TypeError,
      /^Invalid auth: the username must be a non-empty string/,
    );
    await refuses(
      () =>
        new V3Client({
          auth: { username: "root", password: 1 as unknown as string },
        }),
      TypeError,
      /^Invalid auth: the password must be a string/,
    );
    await refuses(
      () => new V3Client({ maxTxnOps: 0 }),
      RangeError,
      /^Invalid maxTxnOps 0: .*--max-txn-ops/,
    );
  });
});

test("keys, ranges and options of calls are checked before sending", async (t) => {
  await using v2 = new Client({ endpoints: NOWHERE });
  await using v3 = new V3Client({ endpoints: NOWHERE });

  await t.step("v2 keys", async () => {
    await refuses(
      () => v2.get(7 as unknown as string),
      TypeError,
      /^Invalid key: expected a string or an array of strings, got number/,
    );
    await refuses(
      () => v2.get(["a", 7 as unknown as string]),
      TypeError,
      /^Invalid key \["a",7\]: every segment must be a string/,
    );
  });

  await t.step("v3 keys, ranges and revisions", async () => {
    await refuses(
      () => v3.put(7 as unknown as string, "v"),
      TypeError,
      /^Invalid key: expected a string or a Uint8Array, got number/,
    );
    await refuses(
      () => v3.put("k", null as unknown as string),
      TypeError,
      /^Invalid value: expected a string or a Uint8Array, got null/,
    );
    await refuses(
      () => v3.range("a", { limit: -1 }),
      RangeError,
      /^Invalid limit -1: expected a whole number >= 0/,
    );
    await refuses(
      () => v3.range("a", { prefix: true, sortOrder: "up" as "ascend" }),
      TypeError,
      /^Invalid sortOrder "up"/,
    );
    await refuses(
      () => v3.compact(0),
      RangeError,
      /^Invalid revision 0: expected a whole number >= 1/,
    );
    await refuses(
      () => v3.pages("a", { pageSize: 0 }).next(),
      RangeError,
      /^Invalid pageSize 0: expected a whole number >= 1/,
    );
    await refuses(
      () => v3.lease.grant(0.5),
      RangeError,
      /^Invalid ttl 0.5: expected a whole number of seconds >= 1/,
    );
  });

  await t.step("v3 transactions", async () => {
    const txn = (request: Parameters<typeof v3.txn>[0]) => () =>
      v3.txn(request);
    await refuses(
      txn({
        compare: [{
          key: "a",
          target: "size" as "mod",
          result: "==",
          operand: 1,
        }],
      }),
      TypeError,
      /^Invalid compare target "size": expected "value", "version", "create", "mod" or "lease"/,
    );
    await refuses(
      txn({
        compare: [{
          key: "a",
          target: "mod",
          result: "=~" as "==",
          operand: 1,
        }],
      }),
      TypeError,
      /^Invalid compare "=~": expected "==", "!=", ">" or "<"/,
    );
    await refuses(
      txn({ compare: [compare.version("a", ">", 1.5)] }),
      TypeError,
      /^Invalid compare of version: expected a whole number, got 1.5/,
    );
    await refuses(
      txn({ success: [{ rename: "a" } as unknown as Operation] }),
      TypeError,
      /^Invalid operation: use op.get, op.put, op.delete or op.txn/,
    );
    await refuses(
      txn({ success: [op.put("", "v")] }),
      TypeError,
      /^Invalid key: it is empty; etcd needs a key/,
    );
    await refuses(
      () => v3.range("a", { revision: -1 }),
      RangeError,
      /^Invalid revision -1: expected a revision, a whole number >= 0/,
    );
    await refuses(
      () => v3.range("a", { prefix: true, sortTarget: "age" as "key" }),
      TypeError,
      /^Invalid sortTarget "age": expected "key", "version", "create", "mod" or "value"/,
    );
  });

  await t.step("what the v2 store cannot do says what to use", async () => {
    const store = storeOf(v2);
    const subtree = store.subtree("a");
    const unsupported = async (
      promise: Promise<unknown>,
      message: RegExp,
    ) => {
      const error = await promise.then(() => undefined, (error) => error);
      assert.equal(errorKind(error), "unsupported", String(error));
      assert.match(error.message, message);
    };
    await unsupported(
      store.snapshot(subtree, { revision: 3 }),
      /^Cannot read "\/a" as it was at index 3 with etcd's v2 API: the v2 store keeps no past versions \(use the v3 API\)/,
    );
    await unsupported(
      store.history(subtree, "k"),
      /^Cannot read the history of "\/a\/k" with etcd's v2 API: the v2 store keeps no past versions/,
    );
    await unsupported(
      store.commit(subtree, []),
      /^Cannot write several keys in one transaction with etcd's v2 API: .*write the keys one by one/,
    );
    await unsupported(
      store.leaseTtl("1"),
      /^Cannot ask for a lease with etcd's v2 API: v2 has no leases/,
    );
  });

  await t.step("v3 watches", async () => {
    await refuses(
      () => v3.watch("a", { startRevision: 0 }),
      RangeError,
      /^Invalid startRevision 0: expected a revision/,
    );
    await refuses(
      () => v3.watch("a", { retryFor: -1 }),
      RangeError,
      /^Invalid retryFor -1: expected milliseconds >= 0/,
    );
    await refuses(
      () => v3.watch("a", { filters: ["noGet" as "noPut"] }),
      TypeError,
      /^Invalid filter "noGet": expected "noPut" or "noDelete"/,
    );
  });

  await t.step("v3 auth and membership", async () => {
    await refuses(
      () => v3.auth.users.add("", "pw"),
      TypeError,
      /^Invalid user name: expected a non-empty string/,
    );
    await refuses(
      () => v3.auth.users.add("bob", 5 as unknown as string),
      TypeError,
      /^Invalid password: expected a string/,
    );
    await refuses(
      () =>
        v3.auth.roles.grant("r", {
          type: "all" as "read",
          key: "a",
        }),
      TypeError,
      /^Invalid permission type "all": expected "read", "write" or "readwrite"/,
    );
    await refuses(
      () => v3.cluster.remove("8e9e05c52164694d"),
      TypeError,
      /^Invalid member ID "8e9e05c52164694d": expected decimal digits or a bigint \(see Member.id\)/,
    );
    await refuses(
      () => v3.cluster.add([]),
      TypeError,
      /^Invalid peer URLs: give at least one/,
    );
  });

  await t.step("v2 watches", async () => {
    await refuses(
      () => v2.watch("a", { retryFor: -1 }),
      RangeError,
      /^Invalid retryFor -1: expected milliseconds >= 0/,
    );
    const reason = new Error("not wanted");
    const watcher = v2.watch("a", { signal: AbortSignal.abort(reason) });
    await assert.rejects(
      watcher[Symbol.asyncIterator]().next(),
      (error) => error === reason,
    );
    await watcher.close();
  });

  await t.step("a watch given an aborted signal ends at once", async () => {
    const reason = new Error("not wanted");
    const watcher = v3.watch("a", { signal: AbortSignal.abort(reason) });
    await assert.rejects(
      watcher[Symbol.asyncIterator]().next(),
      (error) => error === reason,
    );
    await watcher.close();
  });

  await t.step("software transactions", async () => {
    await refuses(
      () => stm(v3, () => {}, { isolation: "eventual" as "snapshot" }),
      TypeError,
      /^Invalid isolation "eventual": expected "snapshot" or "serializable"/,
    );
    await refuses(
      () => stm(v3, () => {}, { maxAttempts: 0 }),
      RangeError,
      /^Invalid maxAttempts 0: expected a whole number >= 1/,
    );
  });

  await t.step("recipes on either protocol", async () => {
    for (const client of [v2, v3]) {
      await refuses(
        () => new Lock(client, "l", { ttl: 0 }),
        RangeError,
        /^Invalid ttl 0: expected a whole number of seconds >= 1/,
      );
      await refuses(
        () => new Election(client, "e", { ttl: 1.5 }),
        RangeError,
        /^Invalid ttl 1.5: expected a whole number of seconds >= 1/,
      );
      await refuses(
        () => keepAlive(client, "k", "v", { ttl: -1 }),
        RangeError,
        /^Invalid ttl -1: expected a whole number of seconds >= 1/,
      );
    }
    await refuses(
      () => storeOf({}),
      TypeError,
      /^Invalid client: expected a Client of etcd-tree/,
    );
    await refuses(
      () => EtcdTree.open({} as Client, "t"),
      TypeError,
      /^Invalid client: expected a Client of etcd-tree/,
    );
  });
});

test("errorKind() of something that is not an error of etcd-tree", () => {
  for (const thing of [undefined, null, "text", 7, new Error("plain"), {}]) {
    assert.equal(errorKind(thing), undefined, String(thing));
  }
});

test("codecs refuse what they cannot hold, naming the value", async (t) => {
  await t.step("decoding", () => {
    assert.throws(
      () => codecs.integer.decode("12a"),
      /^TypeError: Cannot decode "12a" as integer: expected decimal digits/,
    );
    assert.throws(
      () => codecs.number.decode(" 1"),
      /^TypeError: Cannot decode " 1" as number: expected a finite number/,
    );
    assert.throws(
      () => codecs.boolean.decode("yes"),
      /^TypeError: Cannot decode "yes" as boolean: expected "true" or "false"/,
    );
    assert.throws(
      () => codecs.json.decode("{"),
      /^TypeError: Cannot decode "\{" as json: /,
    );
    assert.equal(codecs.boolean.decode("false"), false);
    assert.deepEqual(codecs.bytes.decode("hi"), new TextEncoder().encode("hi"));
  });
  await t.step("encoding", () => {
    assert.throws(
      () => codecs.number.encode(Infinity),
      /^TypeError: Cannot encode .* as number: expected a finite number/,
    );
    assert.equal(codecs.number.encode(1.5), "1.5");
    assert.throws(
      () => codecs.boolean.encode("true" as unknown as boolean),
      /^TypeError: Cannot encode .* as boolean: expected a boolean/,
    );
    assert.equal(codecs.boolean.encode(false), "false");
    assert.throws(
      () => codecs.json.encode(undefined),
      /^TypeError: Cannot encode undefined as json: expected a JSON value/,
    );
    assert.throws(
      () => codecs.json.encode(10n),
      /^TypeError: Cannot encode .* as json: /,
    );
    assert.throws(
      () => codecs.bytes.encode("text" as unknown as Uint8Array),
      /^TypeError: Cannot encode .* as bytes: expected a Uint8Array/,
    );
    assert.throws(
      () => codecs.string.encode(null as unknown as string),
      /^TypeError: Cannot encode null as string: expected a string/,
    );
    assert.throws(
      () => codecs.string.encode([1] as unknown as string),
      /^TypeError: Cannot encode an array as string: expected a string/,
    );
  });
  await t.step("registries", () => {
    assert.throws(
      () => new CodecRegistry({ "a//b": codecs.integer }),
      /^TypeError: Invalid codec pattern "a\/\/b": use segments joined by "\/"/,
    );
    assert.throws(
      () => new CodecRegistry({ "a/b": {} as typeof codecs.integer }),
      /^TypeError: Invalid codec for "a\/b": expected an object with decode\(\) and encode\(\)/,
    );
    assert.equal(new CodecRegistry().empty, true);
  });
});
