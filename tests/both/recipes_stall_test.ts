// A holder whose connection to etcd stalls (its requests never arrive, and
// neither an answer nor an error comes back) gives up its lock, leadership
// or kept key before etcd lets anyone else have it, on both protocols: its
// lease lives on etcd its TTL from the last refresh that got through, and
// the holder counts from when that refresh was sent.

import assert from "node:assert/strict";
import { Election, keepAlive, Lock } from "../../v2/mod.ts";
import { storeOf } from "../../_core/store.ts";
import { BACKENDS, type Running } from "../_backends.ts";
import { startProxy } from "../_proxy.ts";
import { test, until, within } from "../_wait.ts";

const TTL = 3;

/** When `promise` settled, as `performance.now()`; `Infinity` until then. */
function settledAt(promise: Promise<unknown>): { readonly at: number } {
  const when = { at: Infinity };
  promise.then(() => when.at = performance.now(), () => {});
  return when;
}

/**
 * Runs `hold` with a client whose connection `stall()` stalls for good;
 * its timeout is long, so a stalled request gets no error either.
 */
async function throughStall(
  running: Running,
  hold: (
    client: ReturnType<Running["connect"]>,
    stall: () => void,
  ) => Promise<void>,
): Promise<void> {
  await using proxy = startProxy(running.server.clientPort);
  const client = running.connect({
    endpoint: proxy.endpoint,
    timeout: 60_000,
  });
  await hold(client, () => proxy.freeze());
}

/** Says when each side acted, counted from the stall. */
function timeline(stalled: number, gaveUp: number, next: number): string {
  const at = (t: number) => `+${Math.round(t - stalled)} ms`;
  return `the holder gave up at ${at(gaveUp)}, the next one took over at ${
    at(next)
  }`;
}

for (const backend of BACKENDS) {
  test(`${backend.name}: a stalled holder gives up before another takes over`, async (t) => {
    await using running = await backend.start();
    const other = running.client;

    await t.step("a lock holder", async () => {
      await throughStall(running, async (client, stall) => {
        const holder = new Lock(client, "stalled", { ttl: TTL });
        await holder.acquire();
        const gaveUp = settledAt(holder.lost);
        const waiter = new Lock(other, "stalled", { ttl: TTL });
        const acquiring = waiter.acquire();
        stall();
        const stalled = performance.now();
        await within(acquiring, TTL * 3000, "the waiter to acquire");
        const next = performance.now();
        assert.ok(gaveUp.at <= next, timeline(stalled, gaveUp.at, next));
        assert.equal(holder.held, false);
        assert.ok(holder.signal.aborted);
        await waiter.release();
      });
    });

    await t.step("a leader", async () => {
      await throughStall(running, async (client, stall) => {
        const leader = new Election(client, "stalled", { ttl: TTL });
        await leader.campaign("first");
        const gaveUp = settledAt(leader.lost);
        const candidate = new Election(other, "stalled", { ttl: TTL });
        const campaigning = candidate.campaign("second");
        stall();
        const stalled = performance.now();
        await within(campaigning, TTL * 3000, "the candidate to lead");
        const next = performance.now();
        assert.ok(gaveUp.at <= next, timeline(stalled, gaveUp.at, next));
        assert.equal(leader.leading, false);
        assert.ok(leader.signal.aborted);
        await candidate.resign();
      });
    });

    await t.step("a kept-alive key", async () => {
      await throughStall(running, async (client, stall) => {
        const alive = await keepAlive(client, "stalled/alive", "up", {
          ttl: TTL,
        });
        const gaveUp = settledAt(alive.lost);
        stall();
        const stalled = performance.now();
        const store = storeOf(other);
        const key = store.subtree("stalled/alive", "key");
        await until(
          async () => (await store.snapshot(key)).entries.length === 0,
          TTL * 3000,
          "the key to expire",
        );
        const next = performance.now();
        assert.ok(gaveUp.at <= next, timeline(stalled, gaveUp.at, next));
        assert.ok(alive.signal.aborted);
      });
    });
  });
}
