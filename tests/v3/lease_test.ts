// v3 leases against real etcd: grant, time to live with keys, list,
// revoke, exact IDs, and a keep-alive that holds keys past their TTL and
// says when the lease is lost (revoked elsewhere, or etcd out of reach until
// it could have expired).

import assert from "node:assert/strict";
import {
  compare,
  errorKind,
  LeaseExists,
  LeaseLost,
  LeaseNotFound,
  LeaseTtlTooLarge,
} from "../../mod.ts";
import { Client } from "../_v3.ts";
import { startEtcd } from "../../testing.ts";
import { startProxy } from "../_proxy.ts";
import { delay, test, until, within } from "../_wait.ts";

test("v3 leases", async (t) => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint, timeout: 1000 });

  await t.step("grant, time to live with keys, list, revoke", async () => {
    const lease = await client.lease.grant(30);
    assert.match(lease.id, /^[0-9a-f]{16}$/, "as etcdctl prints it");
    assert.equal(lease.ttl, 30);
    await client.put("l/a", "1", { lease: lease.id });
    await client.put("l/b", "2", { lease: BigInt(`0x${lease.id}`) });
    const info = await client.lease.timeToLive(lease.id, { keys: true });
    assert.equal(info.id, lease.id);
    assert.equal(info.grantedTtl, 30);
    assert.ok(info.ttl > 0 && info.ttl <= 30);
    assert.deepEqual(
      info.keys.map((key) => new TextDecoder().decode(key)).sort(),
      ["l/a", "l/b"],
    );
    assert.ok((await client.lease.list()).includes(lease.id));
    await client.lease.revoke(lease.id);
    assert.equal((await client.range("l/", { prefix: true })).count, 0);
    assert.ok(!(await client.lease.list()).includes(lease.id));
    const gone = await client.lease.timeToLive(lease.id);
    assert.equal(gone.ttl, -1);
    const error = await client.lease.revoke(lease.id).then(
      () => undefined,
      (error) => error,
    );
    assert.ok(error instanceof LeaseNotFound, String(error));
    assert.equal(errorKind(error), "not found");
  });

  await t.step("IDs are exact beyond 2^53, and can be chosen", async () => {
    const big = (1n << 62n) + 12345n;
    const lease = await client.lease.grant(30, { id: big });
    assert.equal(lease.id, big.toString(16).padStart(16, "0"));
    const again = await client.lease.grant(30, { id: big }).catch((e) => e);
    assert.ok(again instanceof LeaseExists, String(again));
    assert.equal(errorKind(again), "exists");
    await client.put("id/k", "v", { lease: big });
    assert.equal((await client.get("id/k"))?.lease, lease.id);
    await client.lease.revoke(big);
    await assert.rejects(client.lease.grant(1e11), LeaseTtlTooLarge);
  });

  await t.step(
    "lease IDs: one form out, every unambiguous form in",
    async () => {
      const id = 0x694d7a2b5c3e1f04n;
      const lease = await client.lease.grant(30, { id });
      assert.equal(lease.id, "694d7a2b5c3e1f04", "as etcdctl prints it");
      assert.equal((await client.lease.timeToLive(lease.id)).id, lease.id);
      assert.ok((await client.lease.list()).includes(lease.id));
      const forms = [
        "694d7a2b5c3e1f04",
        "694D7A2B5C3E1F04",
        "0x694d7a2b5c3e1f04",
        id.toString(), // 19 decimal digits: too many for hex
        id,
      ];
      for (const form of forms) {
        await client.put("forms/k", String(form), { lease: form });
        const kv = await client.get("forms/k");
        assert.equal(kv?.lease, lease.id, `given as ${String(form)}`);
        const held = await client.txn({
          compare: [compare.lease("forms/k", "==", form)],
        });
        assert.ok(held.succeeded, `compared as ${String(form)}`);
        assert.ok((await client.lease.timeToLive(form)).ttl > 0);
        assert.ok((await client.lease.keepAliveOnce(form)) > 0);
      }
      // 16 digits are hex, even without a letter.
      const digits = await client.lease.grant(30, { id: "1234567890123456" });
      assert.equal(digits.id, "1234567890123456");
      assert.equal(
        (await client.lease.timeToLive(0x1234567890123456n)).ttl > 0,
        true,
      );
      // No lease is no ID, never a truthy "0".
      await client.put("forms/none", "x");
      const none = await client.get("forms/none");
      assert.equal(none?.lease, undefined);
      assert.ok(
        (await client.txn({
          compare: [compare.lease("forms/none", "==", undefined)],
        })).succeeded,
      );
      await using kept = await client.lease.keepAlive(`0x${digits.id}`);
      assert.equal(kept.id, digits.id);
      await client.lease.revoke(BigInt(`0x${lease.id}`));
      await client.lease.revoke(digits.id);
    },
  );

  await t.step(
    "a lease ID outside int64, with leading zeros or ambiguous is refused before sending",
    async () => {
      await using proxy = startProxy(etcd.clientPort);
      await using through = new Client({ endpoints: proxy.endpoint });
      const refused: [string | bigint, RegExp][] = [
        ["9223372036854775808", /outside int64/], // 2^63
        ["99999999999999999999", /outside int64/],
        ["ffffffffffffffff", /outside int64/],
        ["0x10000000000000000", /outside int64/],
        [1n << 63n, /outside int64/],
        [-1n, /outside int64/],
        ["00000000000000000042", /no leading zeros/],
        ["01234567890123456", /no leading zeros/],
        ["42", /Write "0x42" for hex, 42n \(a bigint\) for decimal/],
        ["0", /0 is no lease/],
        [0n, /0 is no lease/],
        ["12x", /expected 16 hex digits as etcdctl prints it/],
        [" 694d7a2b5c3e1f04", /expected 16 hex digits/],
      ];
      const uses: [string, (id: string | bigint) => Promise<unknown>][] = [
        ["put", (id) => through.put("refused", "x", { lease: id })],
        ["grant", (id) => through.lease.grant(10, { id })],
        ["revoke", (id) => through.lease.revoke(id)],
        ["timeToLive", (id) => through.lease.timeToLive(id)],
        ["keepAliveOnce", (id) => through.lease.keepAliveOnce(id)],
        ["keepAlive", (id) => through.lease.keepAlive(id)],
        [
          "compare",
          (id) =>
            through.txn({ compare: [compare.lease("refused", "==", id)] }),
        ],
      ];
      for (const [id, why] of refused) {
        const shown = typeof id === "bigint" ? `${id}n` : JSON.stringify(id);
        for (const [use, call] of uses) {
          await assert.rejects(
            call(id),
            (error: Error) =>
              error instanceof TypeError &&
              error.message.includes(shown) && why.test(error.message),
            `${use}(${shown})`,
          );
        }
      }
      assert.deepEqual(proxy.requests, [], "nothing was sent");
    },
  );

  await t.step("a kept lease holds its keys past its TTL", async () => {
    await using kept = await client.lease.keepAlive(2);
    await client.put("k/held", "1", { lease: kept.id });
    await delay(3500);
    assert.equal((await client.get("k/held"))?.value, "1");
    assert.ok(kept.active);
    assert.equal(kept.hex, BigInt(`0x${kept.id}`).toString(16));
    const ttl = await client.lease.keepAliveOnce(kept.id);
    assert.ok(ttl >= 1 && ttl <= 2, String(ttl));
  });

  await t.step("a kept lease's keys go when it is revoked", async () => {
    const kept = await client.lease.keepAlive(10);
    await client.put("k/revoked", "1", { lease: kept.id });
    await kept.revoke();
    assert.equal(await client.get("k/revoked"), undefined);
    assert.equal(kept.active, false);
  });

  await t.step("an existing lease can be kept by its ID", async () => {
    const granted = await client.lease.grant(2);
    await using kept = await client.lease.keepAlive(granted.id);
    assert.equal(kept.ttl, 2);
    await client.put("k/existing", "1", { lease: granted.id });
    await delay(3000);
    assert.equal((await client.get("k/existing"))?.value, "1");
    await assert.rejects(
      client.lease.keepAlive("0x1234567"),
      (error: Error) =>
        error instanceof LeaseLost && /does not exist/.test(error.message),
    );
  });

  await t.step("a lease revoked elsewhere is lost", async () => {
    const kept = await client.lease.keepAlive(3);
    await client.lease.revoke(kept.id);
    const reason = await within(kept.lost, 3000, "the loss to be noticed");
    assert.ok(reason instanceof LeaseLost);
    assert.ok(kept.signal.aborted);
    assert.equal(kept.signal.reason, reason);
    assert.equal(kept.active, false);
    await kept.revoke(); // gone already: nothing to do, no error
  });

  await t.step(
    "a lease revoked meanwhile is revoked without an error",
    async () => {
      const kept = await client.lease.keepAlive(30);
      await client.lease.revoke(kept.id);
      await kept.revoke();
      assert.equal(kept.active, false);
    },
  );

  await t.step(
    "a lease etcd cannot be reached about for its TTL is lost",
    async () => {
      const kept = await client.lease.keepAlive(2);
      const started = performance.now();
      etcd.pause();
      try {
        const reason = await within(kept.lost, 6000, "the loss to be noticed");
        assert.match(
          reason.message,
          /could not be refreshed in time for its TTL of 2 s/,
        );
        const after = performance.now() - started;
        // From the last refresh's send (up to a third of the TTL before the
        // pause), less the margin.
        assert.ok(after >= 1000 && after < 4500, `lost after ${after} ms`);
      } finally {
        etcd.resume();
      }
      await until(
        async () => (await client.lease.timeToLive(kept.id)).ttl === -1,
        10_000,
        "the lease to expire on etcd too",
      );
    },
  );

  await t.step("a closed lease expires with its keys", async () => {
    const kept = await client.lease.keepAlive(2);
    await client.put("k/abandoned", "1", { lease: kept.id });
    await kept.close();
    assert.equal(kept.active, false);
    await until(
      async () => (await client.get("k/abandoned")) === undefined,
      6000,
      "the key to expire",
    );
    assert.equal(kept.signal.aborted, false, "abandoning is not a loss");
  });
});
